#include "expr/expr.h"

#include <charconv>
#include <cmath>
#include <sstream>

namespace soma::expr {

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kNumber: return "number";
    case Op::kSymbol: return "symbol";
    case Op::kTime: return "time";
    case Op::kAvogadro: return "avogadro";
    case Op::kPi: return "pi";
    case Op::kExponentiale: return "exponentiale";
    case Op::kTrue: return "true";
    case Op::kFalse: return "false";
    case Op::kInfinity: return "INF";
    case Op::kNotANumber: return "NaN";
    case Op::kPlus: return "plus";
    case Op::kMinus: return "minus";
    case Op::kTimes: return "times";
    case Op::kDivide: return "divide";
    case Op::kPower: return "pow";
    case Op::kRoot: return "root";
    case Op::kLog: return "log";
    case Op::kLn: return "ln";
    case Op::kExp: return "exp";
    case Op::kAbs: return "abs";
    case Op::kFloor: return "floor";
    case Op::kCeiling: return "ceil";
    case Op::kFactorial: return "factorial";
    case Op::kSqrt: return "sqrt";
    case Op::kSin: return "sin";
    case Op::kCos: return "cos";
    case Op::kTan: return "tan";
    case Op::kSec: return "sec";
    case Op::kCsc: return "csc";
    case Op::kCot: return "cot";
    case Op::kSinh: return "sinh";
    case Op::kCosh: return "cosh";
    case Op::kTanh: return "tanh";
    case Op::kSech: return "sech";
    case Op::kCsch: return "csch";
    case Op::kCoth: return "coth";
    case Op::kArcsin: return "arcsin";
    case Op::kArccos: return "arccos";
    case Op::kArctan: return "arctan";
    case Op::kArcsec: return "arcsec";
    case Op::kArccsc: return "arccsc";
    case Op::kArccot: return "arccot";
    case Op::kArcsinh: return "arcsinh";
    case Op::kArccosh: return "arccosh";
    case Op::kArctanh: return "arctanh";
    case Op::kArcsech: return "arcsech";
    case Op::kArccsch: return "arccsch";
    case Op::kArccoth: return "arccoth";
    case Op::kMin: return "min";
    case Op::kMax: return "max";
    case Op::kRem: return "rem";
    case Op::kQuotient: return "quotient";
    case Op::kEq: return "eq";
    case Op::kNeq: return "neq";
    case Op::kLt: return "lt";
    case Op::kLe: return "leq";
    case Op::kGt: return "gt";
    case Op::kGe: return "geq";
    case Op::kAnd: return "and";
    case Op::kOr: return "or";
    case Op::kXor: return "xor";
    case Op::kNot: return "not";
    case Op::kImplies: return "implies";
    case Op::kPiecewise: return "piecewise";
    case Op::kDelay: return "delay";
    case Op::kRateOf: return "rateOf";
  }
  return "?";
}

namespace {

const char* InfixToken(Op op) {
  switch (op) {
    case Op::kPlus: return " + ";
    case Op::kMinus: return " - ";
    case Op::kTimes: return " * ";
    case Op::kDivide: return " / ";
    case Op::kPower: return "^";
    case Op::kEq: return " == ";
    case Op::kNeq: return " != ";
    case Op::kLt: return " < ";
    case Op::kLe: return " <= ";
    case Op::kGt: return " > ";
    case Op::kGe: return " >= ";
    case Op::kAnd: return " && ";
    case Op::kOr: return " || ";
    default: return nullptr;
  }
}

bool IsLeafOp(Op op) { return op < Op::kPlus; }

// Operators printed infix, and for how many arguments.
bool PrintInfix(const Expr& e) {
  if (InfixToken(e.op) == nullptr) return false;
  switch (e.op) {
    case Op::kMinus: case Op::kDivide: case Op::kPower: return e.args.size() == 2;
    default: return e.args.size() >= 2;
  }
}

// Shortest text that reads back as the same double; non-finite values use
// the parser's constant names.
void PrintNumber(double v, std::ostringstream& out) {
  if (std::isnan(v)) {
    out << "NaN";
  } else if (std::isinf(v)) {
    out << (v > 0 ? "INF" : "-INF");
  } else {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), v);
    out << std::string_view(buf, static_cast<size_t>(res.ptr - buf));
  }
}

void Print(const Expr& e, std::ostringstream& out) {
  switch (e.op) {
    case Op::kNumber: PrintNumber(e.value, out); return;
    case Op::kSymbol: out << e.name; return;
    default: break;
  }
  if (e.args.empty()) {
    out << OpName(e.op);
    if (!IsLeafOp(e.op)) out << "()";
    return;
  }
  if (e.op == Op::kMinus && e.args.size() == 1) {
    out << "-(";
    Print(e.args[0], out);
    out << ")";
    return;
  }
  if (PrintInfix(e)) {
    const char* infix = InfixToken(e.op);
    for (size_t i = 0; i < e.args.size(); ++i) {
      if (i > 0) out << infix;
      const Expr& a = e.args[i];
      // Parenthesise compound operands and negative numbers ("x^(-2)").
      bool paren = !a.args.empty() || (a.op == Op::kNumber && std::signbit(a.value) && !std::isnan(a.value));
      if (paren) out << "(";
      Print(a, out);
      if (paren) out << ")";
    }
    return;
  }
  out << OpName(e.op) << "(";
  for (size_t i = 0; i < e.args.size(); ++i) {
    if (i > 0) out << ", ";
    Print(e.args[i], out);
  }
  out << ")";
}

}  // namespace

std::string ToString(const Expr& e) {
  std::ostringstream out;
  Print(e, out);
  return out.str();
}

bool Contains(const Expr& e, Op op) {
  if (e.op == op) return true;
  for (const Expr& a : e.args) {
    if (Contains(a, op)) return true;
  }
  return false;
}

Expr Substitute(const Expr& e, std::string_view from, const Expr& to) {
  if (e.op == Op::kSymbol) return e.name == from ? to : e;
  Expr out = e;
  for (Expr& a : out.args) a = Substitute(a, from, to);
  return out;
}

}  // namespace soma::expr
