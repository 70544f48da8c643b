#pragma once
// Scalar semantics of every GOp, shared by constant folding (graph.cpp),
// Graph::Evaluate and Program::Run so that the three agree bit for bit.
// Internal to src/expr; callers use Graph and Program.
//
// Conventions: booleans are 1.0/0.0; a value is true when it is non-zero
// (so NaN is true). min/max propagate NaN. rem is C fmod (sign of the
// dividend), quotient truncates toward zero, factorial(x) = tgamma(x + 1).

#include <cmath>
#include <string_view>

#include "expr/graph.h"

namespace soma::expr::internal {

inline double Bool(bool b) { return b ? 1.0 : 0.0; }
inline double MinOp(double a, double b) { return (a <= b || std::isnan(a)) ? a : b; }
inline double MaxOp(double a, double b) { return (a >= b || std::isnan(a)) ? a : b; }
inline double FactorialOp(double a) { return std::tgamma(a + 1.0); }
inline double QuotientOp(double a, double b) { return std::trunc(a / b); }

// tanh. From |x| >= 0.55 on as 1 - 2 / (exp(2|x|) + 1), with the sign of x:
// glibc's tanh goes through expm1 at every |x| and took about 9 ns where
// exp takes about 3 (throughput on the bench machine); tanh was about a
// fifth of a T1D trial member's time (its gastric emptying has two). There
// the result is at least 0.5 and 2 / (exp + 1) at most 0.5, so the rounding
// of exp, the sum and the quotient stays within about 2.5 units in the last
// place (glibc's: 1). Below 0.55, where that form would cancel, and for
// NaN: glibc's. From 22 on the result is +-1 (1 - tanh(22) < 2^-60).
inline double TanhOp(double x) {
  const double a = std::fabs(x);
  if (!(a >= 0.55)) return std::tanh(x);
  if (a >= 22.0) return std::copysign(1.0, x);
  return std::copysign(1.0 - 2.0 / (std::exp(2.0 * a) + 1.0), x);
}

// Number of operands of `op` (0 for kConst/kVar, 3 for kSelect).
constexpr int Arity(GOp op) {
  switch (op) {
    case GOp::kConst: case GOp::kVar: return 0;
    case GOp::kAdd: case GOp::kSub: case GOp::kMul: case GOp::kDiv: case GOp::kPow:
    case GOp::kMin: case GOp::kMax: case GOp::kRem: case GOp::kQuotient:
    case GOp::kEq: case GOp::kNeq: case GOp::kLt: case GOp::kLe: case GOp::kGt: case GOp::kGe:
    case GOp::kAnd: case GOp::kOr: case GOp::kXor:
      return 2;
    case GOp::kSelect: return 3;
    default: return 1;
  }
}

// True for operations whose result is always 1.0 or 0.0.
constexpr bool IsBooleanOp(GOp op) {
  switch (op) {
    case GOp::kEq: case GOp::kNeq: case GOp::kLt: case GOp::kLe: case GOp::kGt: case GOp::kGe:
    case GOp::kAnd: case GOp::kOr: case GOp::kXor: case GOp::kNot:
      return true;
    default:
      return false;
  }
}

constexpr bool IsCommutative(GOp op) {
  switch (op) {
    case GOp::kAdd: case GOp::kMul: case GOp::kMin: case GOp::kMax: case GOp::kEq:
    case GOp::kNeq: case GOp::kAnd: case GOp::kOr: case GOp::kXor:
      return true;
    default:
      return false;
  }
}

// Function-call name used by Graph::ToString (parseable by ParseExpression).
std::string_view GOpName(GOp op);

inline double EvalUnary(GOp op, double x) {
  switch (op) {
    case GOp::kNeg: return -x;
    case GOp::kExp: return std::exp(x);
    case GOp::kLn: return std::log(x);
    case GOp::kLog10: return std::log10(x);
    case GOp::kSqrt: return std::sqrt(x);
    case GOp::kAbs: return std::fabs(x);
    case GOp::kFloor: return std::floor(x);
    case GOp::kCeil: return std::ceil(x);
    case GOp::kFactorial: return FactorialOp(x);
    case GOp::kSin: return std::sin(x);
    case GOp::kCos: return std::cos(x);
    case GOp::kTan: return std::tan(x);
    case GOp::kSinh: return std::sinh(x);
    case GOp::kCosh: return std::cosh(x);
    case GOp::kTanh: return TanhOp(x);
    case GOp::kAsin: return std::asin(x);
    case GOp::kAcos: return std::acos(x);
    case GOp::kAtan: return std::atan(x);
    case GOp::kAsinh: return std::asinh(x);
    case GOp::kAcosh: return std::acosh(x);
    case GOp::kAtanh: return std::atanh(x);
    case GOp::kNot: return Bool(x == 0.0);
    default: return std::nan("");
  }
}

inline double EvalBinary(GOp op, double x, double y) {
  switch (op) {
    case GOp::kAdd: return x + y;
    case GOp::kSub: return x - y;
    case GOp::kMul: return x * y;
    case GOp::kDiv: return x / y;
    case GOp::kPow: return std::pow(x, y);
    case GOp::kMin: return MinOp(x, y);
    case GOp::kMax: return MaxOp(x, y);
    case GOp::kRem: return std::fmod(x, y);
    case GOp::kQuotient: return QuotientOp(x, y);
    case GOp::kEq: return Bool(x == y);
    case GOp::kNeq: return Bool(x != y);
    case GOp::kLt: return Bool(x < y);
    case GOp::kLe: return Bool(x <= y);
    case GOp::kGt: return Bool(x > y);
    case GOp::kGe: return Bool(x >= y);
    case GOp::kAnd: return Bool(x != 0.0 && y != 0.0);
    case GOp::kOr: return Bool(x != 0.0 || y != 0.0);
    case GOp::kXor: return Bool((x != 0.0) != (y != 0.0));
    default: return std::nan("");
  }
}

inline double EvalSelect(double c, double t, double f) { return c != 0.0 ? t : f; }

}  // namespace soma::expr::internal
