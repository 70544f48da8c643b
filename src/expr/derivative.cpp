// Graph::Derivative: symbolic differentiation on the DAG with an explicit
// stack (no recursion) and a memo per (node, slot).

#include <numbers>
#include <vector>

#include "expr/gop_eval.h"
#include "expr/graph.h"

namespace soma::expr {
namespace {

uint64_t Key(NodeId n, uint32_t slot) { return (static_cast<uint64_t>(n) << 32) | slot; }

// Operands whose derivatives the rule for `n` needs (bit i = operand i).
unsigned NeededOperands(const Node& n) {
  switch (n.op) {
    case GOp::kConst: case GOp::kVar:
    case GOp::kFloor: case GOp::kCeil: case GOp::kQuotient:
    case GOp::kEq: case GOp::kNeq: case GOp::kLt: case GOp::kLe: case GOp::kGt: case GOp::kGe:
    case GOp::kAnd: case GOp::kOr: case GOp::kXor: case GOp::kNot:
      return 0;
    case GOp::kSelect:
      return 0b110;  // not the condition: piecewise-constant in the slot
    default:
      return internal::Arity(n.op) == 1 ? 0b001 : 0b011;
  }
}

}  // namespace

NodeId Graph::Derivative(NodeId f, uint32_t slot) {
  if (auto it = derivative_memo_.find(Key(f, slot)); it != derivative_memo_.end()) return it->second;
  std::vector<std::pair<NodeId, bool>> stack{{f, false}};
  while (!stack.empty()) {
    auto [id, expanded] = stack.back();
    stack.pop_back();
    if (derivative_memo_.count(Key(id, slot)) != 0) continue;
    const Node n = nodes_[id];
    const unsigned need = NeededOperands(n);
    if (!expanded) {
      stack.emplace_back(id, true);
      const NodeId ops[3] = {n.a, n.b, n.c};
      for (int i = 0; i < 3; ++i) {
        if ((need & (1u << i)) != 0 && derivative_memo_.count(Key(ops[i], slot)) == 0) {
          stack.emplace_back(ops[i], false);
        }
      }
      continue;
    }
    derivative_memo_.emplace(Key(id, slot), DerivativeStep(id, slot));
  }
  return derivative_memo_.at(Key(f, slot));
}

NodeId Graph::DigammaOf(NodeId y) {
  // psi(y) = psi(y + 6) - sum_{k=0}^{5} 1/(y + k), and for z = y + 6 the
  // asymptotic series psi(z) ~ ln z - 1/(2z) - sum_k B_2k / (2k z^2k)
  // (Abramowitz & Stegun 6.3.18), truncated after z^-10.
  NodeId z = Add(y, Constant(6.0));
  NodeId inv = Div(kOne, z);
  NodeId inv2 = Mul(inv, inv);
  // Horner in 1/z^2: 1/12 - 1/120 w + 1/252 w^2 - 1/240 w^3 + 1/132 w^4.
  constexpr double kCoef[] = {1.0 / 132.0, -1.0 / 240.0, 1.0 / 252.0, -1.0 / 120.0, 1.0 / 12.0};
  NodeId poly = Constant(kCoef[0]);
  for (int i = 1; i < 5; ++i) poly = Add(Mul(poly, inv2), Constant(kCoef[i]));
  NodeId psi = Sub(Sub(Unary(GOp::kLn, z), Mul(Constant(0.5), inv)), Mul(poly, inv2));
  for (int k = 0; k < 6; ++k) psi = Sub(psi, Div(kOne, Add(y, Constant(k))));
  return psi;
}

NodeId Graph::DerivativeStep(NodeId id, uint32_t slot) {
  const Node n = nodes_[id];
  auto d = [this, slot](NodeId x) { return derivative_memo_.at(Key(x, slot)); };
  switch (n.op) {
    case GOp::kConst: return kZero;
    case GOp::kVar: return n.slot == slot ? kOne : kZero;
    case GOp::kFloor: case GOp::kCeil: case GOp::kQuotient:
    case GOp::kEq: case GOp::kNeq: case GOp::kLt: case GOp::kLe: case GOp::kGt: case GOp::kGe:
    case GOp::kAnd: case GOp::kOr: case GOp::kXor: case GOp::kNot:
      return kZero;
    case GOp::kSelect:
      return Select(n.a, d(n.b), d(n.c));
    default:
      break;
  }
  const NodeId a = n.a;
  const NodeId da = d(a);
  if (internal::Arity(n.op) == 1) {
    if (da == kZero) return kZero;
    switch (n.op) {
      case GOp::kNeg: return Neg(da);
      case GOp::kExp: return Mul(da, id);
      case GOp::kLn: return Div(da, a);
      case GOp::kLog10: return Div(da, Mul(a, Constant(std::numbers::ln10)));
      case GOp::kSqrt: return Div(da, Mul(Constant(2.0), id));
      case GOp::kAbs: return Select(Binary(GOp::kGe, a, kZero), da, Neg(da));
      case GOp::kFactorial: return Mul(da, Mul(id, DigammaOf(Add(a, kOne))));
      case GOp::kSin: return Mul(da, Unary(GOp::kCos, a));
      case GOp::kCos: return Neg(Mul(da, Unary(GOp::kSin, a)));
      case GOp::kTan: return Mul(da, Add(kOne, Mul(id, id)));
      case GOp::kSinh: return Mul(da, Unary(GOp::kCosh, a));
      case GOp::kCosh: return Mul(da, Unary(GOp::kSinh, a));
      case GOp::kTanh: return Mul(da, Sub(kOne, Mul(id, id)));
      case GOp::kAsin: return Div(da, Unary(GOp::kSqrt, Sub(kOne, Mul(a, a))));
      case GOp::kAcos: return Neg(Div(da, Unary(GOp::kSqrt, Sub(kOne, Mul(a, a)))));
      case GOp::kAtan: return Div(da, Add(kOne, Mul(a, a)));
      case GOp::kAsinh: return Div(da, Unary(GOp::kSqrt, Add(Mul(a, a), kOne)));
      case GOp::kAcosh: return Div(da, Unary(GOp::kSqrt, Sub(Mul(a, a), kOne)));
      case GOp::kAtanh: return Div(da, Sub(kOne, Mul(a, a)));
      default: return kZero;  // unreachable: every unary op is listed
    }
  }
  const NodeId b = n.b;
  const NodeId db = d(b);
  if (da == kZero && db == kZero) return kZero;
  switch (n.op) {
    case GOp::kAdd: return Add(da, db);
    case GOp::kSub: return Sub(da, db);
    case GOp::kMul: return Add(Mul(da, b), Mul(a, db));
    case GOp::kDiv:
      // (a/b)' = (a' - (a/b) b') / b, reusing the node a/b.
      if (db == kZero) return Div(da, b);
      return Div(Sub(da, Mul(id, db)), b);
    case GOp::kPow:
      if (db == kZero) {
        // v does not depend on the slot: v u^(v-1) u'.
        return Mul(Mul(b, Binary(GOp::kPow, a, Sub(b, kOne))), da);
      }
      if (da == kZero) return Mul(id, Mul(Unary(GOp::kLn, a), db));
      return Mul(id, Add(Mul(db, Unary(GOp::kLn, a)), Div(Mul(b, da), a)));
    case GOp::kMin: return Select(Binary(GOp::kLe, a, b), da, db);
    case GOp::kMax: return Select(Binary(GOp::kGe, a, b), da, db);
    case GOp::kRem:
      // fmod(a, b) = a - trunc(a/b) b.
      return Sub(da, Mul(Binary(GOp::kQuotient, a, b), db));
    default:
      return kZero;  // unreachable: every binary op is listed
  }
}

}  // namespace soma::expr
