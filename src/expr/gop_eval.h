#pragma once
// Scalar semantics of every GOp, shared by constant folding (graph.cpp),
// Graph::Evaluate and Program::Run so that the three agree bit for bit.
// Internal to src/expr; callers use Graph and Program.
//
// Conventions: booleans are 1.0/0.0; a value is true when it is non-zero
// (so NaN is true). min/max propagate NaN. rem is C fmod (sign of the
// dividend), quotient truncates toward zero, factorial(x) = tgamma(x + 1).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
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

namespace soma::expr::internal {

// Program opcodes (Program::Compile, jit_llvm.cpp): every GOp under its own
// value, then fused pairs of arithmetic operations. A fused instruction
// computes an operation whose one operand is an arithmetic operation read
// nowhere else, in one dispatch and without storing the inner value:
//   r[dst] = (r[a] inner r[b]) outer r[c]      (outer on the left)
//   r[dst] = r[c] outer (r[a] inner r[b])      (`right`: subtraction and
//                                               division by the pair)
//   r[dst] = -(r[a] inner r[b])                 (outer kNeg)
// Both roundings happen as in two instructions (no fused multiply-add:
// src/expr is compiled with -ffp-contract=off), so results keep their bits.
using Opcode = uint8_t;
constexpr size_t kNumGOps = static_cast<size_t>(GOp::kSelect) + 1;
constexpr Opcode ToOpcode(GOp op) { return static_cast<Opcode>(op); }

struct FusedPair {
  GOp inner, outer;
  bool right;
};
// inner in {+, -, *, /} x outer in {+, -, *, /, -(.)}; + and * are
// commutative, so only - and / have a right-hand form.
constexpr GOp kFusableInner[] = {GOp::kAdd, GOp::kSub, GOp::kMul, GOp::kDiv};
struct FusedOuter {
  GOp op;
  bool right;
};
constexpr FusedOuter kFusedOuter[] = {{GOp::kAdd, false}, {GOp::kSub, false}, {GOp::kSub, true}, {GOp::kMul, false},
                                      {GOp::kDiv, false}, {GOp::kDiv, true},  {GOp::kNeg, false}};
constexpr size_t kNumFused = std::size(kFusableInner) * std::size(kFusedOuter);
constexpr size_t kNumOpcodes = kNumGOps + kNumFused;

constexpr int InnerIndex(GOp op) {
  for (size_t i = 0; i < std::size(kFusableInner); ++i) {
    if (kFusableInner[i] == op) return static_cast<int>(i);
  }
  return -1;
}
constexpr int OuterIndex(GOp outer, bool right) {
  for (size_t i = 0; i < std::size(kFusedOuter); ++i) {
    if (kFusedOuter[i].op == outer && kFusedOuter[i].right == right) return static_cast<int>(i);
  }
  return -1;
}
// The opcode of `inner` fused into `outer`; the pair must be fusable.
constexpr Opcode FusedOpcode(GOp inner, GOp outer, bool right) {
  return static_cast<Opcode>(kNumGOps + static_cast<size_t>(InnerIndex(inner)) * std::size(kFusedOuter) +
                             static_cast<size_t>(OuterIndex(outer, right)));
}
constexpr bool IsFused(Opcode op) { return op >= kNumGOps; }
constexpr FusedPair FusedPairOf(Opcode op) {
  const size_t k = op - kNumGOps;
  const FusedOuter& o = kFusedOuter[k % std::size(kFusedOuter)];
  return {kFusableInner[k / std::size(kFusedOuter)], o.op, o.right};
}
constexpr int OpcodeArity(Opcode op) {
  if (!IsFused(op)) return Arity(static_cast<GOp>(op));
  return FusedPairOf(op).outer == GOp::kNeg ? 2 : 3;
}

template <GOp Op>
inline double Arith(double x, double y) {
  if constexpr (Op == GOp::kAdd) return x + y;
  if constexpr (Op == GOp::kSub) return x - y;
  if constexpr (Op == GOp::kMul) return x * y;
  if constexpr (Op == GOp::kDiv) return x / y;
}
template <GOp Inner, GOp Outer, bool Right>
inline double FusedValue(double x, double y, double z) {
  const double u = Arith<Inner>(x, y);
  if constexpr (Outer == GOp::kNeg) {
    return -u;
  } else if constexpr (Right) {
    return Arith<Outer>(z, u);
  } else {
    return Arith<Outer>(u, z);
  }
}

}  // namespace soma::expr::internal
