// Graph::ToString and GOp names.

#include <charconv>
#include <cmath>
#include <string>
#include <unordered_map>

#include "expr/gop_eval.h"
#include "expr/graph.h"

namespace soma::expr {
namespace internal {

std::string_view GOpName(GOp op) {
  switch (op) {
    case GOp::kConst: return "const";
    case GOp::kVar: return "var";
    case GOp::kAdd: return "plus";
    case GOp::kSub: return "minus";
    case GOp::kMul: return "times";
    case GOp::kDiv: return "divide";
    case GOp::kPow: return "pow";
    case GOp::kNeg: return "minus";
    case GOp::kExp: return "exp";
    case GOp::kLn: return "ln";
    case GOp::kLog10: return "log10";
    case GOp::kSqrt: return "sqrt";
    case GOp::kAbs: return "abs";
    case GOp::kFloor: return "floor";
    case GOp::kCeil: return "ceil";
    case GOp::kFactorial: return "factorial";
    case GOp::kSin: return "sin";
    case GOp::kCos: return "cos";
    case GOp::kTan: return "tan";
    case GOp::kSinh: return "sinh";
    case GOp::kCosh: return "cosh";
    case GOp::kTanh: return "tanh";
    case GOp::kAsin: return "arcsin";
    case GOp::kAcos: return "arccos";
    case GOp::kAtan: return "arctan";
    case GOp::kAsinh: return "arcsinh";
    case GOp::kAcosh: return "arccosh";
    case GOp::kAtanh: return "arctanh";
    case GOp::kMin: return "min";
    case GOp::kMax: return "max";
    case GOp::kRem: return "rem";
    case GOp::kQuotient: return "quotient";
    case GOp::kEq: return "eq";
    case GOp::kNeq: return "neq";
    case GOp::kLt: return "lt";
    case GOp::kLe: return "leq";
    case GOp::kGt: return "gt";
    case GOp::kGe: return "geq";
    case GOp::kAnd: return "and";
    case GOp::kOr: return "or";
    case GOp::kXor: return "xor";
    case GOp::kNot: return "not";
    case GOp::kSelect: return "piecewise";
  }
  return "?";
}

}  // namespace internal

namespace {

const char* Infix(GOp op) {
  switch (op) {
    case GOp::kAdd: return " + ";
    case GOp::kSub: return " - ";
    case GOp::kMul: return " * ";
    case GOp::kDiv: return " / ";
    case GOp::kPow: return "^";
    case GOp::kEq: return " == ";
    case GOp::kNeq: return " != ";
    case GOp::kLt: return " < ";
    case GOp::kLe: return " <= ";
    case GOp::kGt: return " > ";
    case GOp::kGe: return " >= ";
    case GOp::kAnd: return " && ";
    case GOp::kOr: return " || ";
    default: return nullptr;
  }
}

std::string NumberText(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "INF" : "-INF";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

}  // namespace

std::string Graph::ToString(NodeId f, const std::function<std::string(uint32_t)>& name) const {
  std::vector<NodeId> order = TopologicalOrder({&f, 1});
  struct Text {
    std::string s;
    bool atomic;  // needs no parentheses as an operand of an infix operator
  };
  std::unordered_map<NodeId, Text> text;
  auto operand = [&text](NodeId id) {
    const Text& t = text.at(id);
    return t.atomic ? t.s : "(" + t.s + ")";
  };
  for (NodeId id : order) {
    const Node& n = nodes_[id];
    Text t;
    t.atomic = false;
    if (n.op == GOp::kConst) {
      t.s = NumberText(n.value);
      t.atomic = !std::signbit(n.value) || std::isnan(n.value);
    } else if (n.op == GOp::kVar) {
      t.s = name ? name(n.slot) : "$" + std::to_string(n.slot);
      t.atomic = true;
    } else if (n.op == GOp::kNeg) {
      t.s = "-" + operand(n.a);
    } else if (const char* infix = Infix(n.op); infix != nullptr) {
      t.s = operand(n.a) + infix + operand(n.b);
    } else if (n.op == GOp::kSelect) {
      t.s = "piecewise(" + text.at(n.b).s + ", " + text.at(n.a).s + ", " + text.at(n.c).s + ")";
      t.atomic = true;
    } else {
      t.s = std::string(internal::GOpName(n.op)) + "(" + text.at(n.a).s;
      if (n.arity == 2) t.s += ", " + text.at(n.b).s;
      t.s += ")";
      t.atomic = true;
    }
    text.emplace(id, std::move(t));
  }
  return text.at(f).s;
}

}  // namespace soma::expr
