// Graph construction (interning, constant folding, safe identities) and the
// read-only queries. Lowering of trees is in lower.cpp, derivatives in
// derivative.cpp, text output in graph_print.cpp.

#include "expr/graph.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>
#include <utility>

#include "expr/gop_eval.h"

namespace soma::expr {

using internal::Arity;
using internal::IsBooleanOp;
using internal::IsCommutative;

size_t Graph::NodeHash::operator()(const Node& n) const {
  uint64_t h = static_cast<uint64_t>(n.op) | (static_cast<uint64_t>(n.arity) << 8);
  auto mix = [&h](uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  };
  mix(n.a);
  mix(n.b);
  mix(n.c);
  mix(std::bit_cast<uint64_t>(n.value));
  mix(n.slot);
  return static_cast<size_t>(h);
}

bool Graph::NodeEq::operator()(const Node& x, const Node& y) const {
  // Constants compare by bit pattern: 0.0 and -0.0 stay distinct, and all
  // NaNs are canonicalised by Constant() so they intern to one node.
  return x.op == y.op && x.arity == y.arity && x.a == y.a && x.b == y.b && x.c == y.c &&
         std::bit_cast<uint64_t>(x.value) == std::bit_cast<uint64_t>(y.value) &&
         x.slot == y.slot;
}

Graph::Graph() {
  NodeId zero = Constant(0.0);
  NodeId one = Constant(1.0);
  assert(zero == kZero && one == kOne);
  (void)zero;
  (void)one;
}

NodeId Graph::Intern(const Node& n) {
  auto [it, inserted] = index_.try_emplace(n, static_cast<NodeId>(nodes_.size()));
  if (inserted) nodes_.push_back(n);
  return it->second;
}

NodeId Graph::Constant(double v) {
  if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
  Node n;
  n.op = GOp::kConst;
  n.value = v;
  return Intern(n);
}

NodeId Graph::Variable(uint32_t slot) {
  Node n;
  n.op = GOp::kVar;
  n.slot = slot;
  return Intern(n);
}

std::optional<double> Graph::ConstantValue(NodeId id) const {
  const Node& n = nodes_[id];
  if (n.op == GOp::kConst) return n.value;
  return std::nullopt;
}

bool Graph::IsBoolean(NodeId x) const {
  const Node& n = nodes_[x];
  if (IsBooleanOp(n.op)) return true;
  if (n.op == GOp::kConst) return n.value == 0.0 || n.value == 1.0;
  if (n.op == GOp::kSelect) {
    auto shallow = [this](NodeId y) {
      const Node& m = nodes_[y];
      return IsBooleanOp(m.op) || (m.op == GOp::kConst && (m.value == 0.0 || m.value == 1.0));
    };
    return shallow(n.b) && shallow(n.c);
  }
  return false;
}

NodeId Graph::Truth(NodeId x) {
  if (IsBoolean(x)) return x;
  return Binary(GOp::kNeq, x, kZero);
}

NodeId Graph::Unary(GOp op, NodeId x) {
  assert(Arity(op) == 1 && "Graph::Unary: not a unary operation");
  const Node xn = nodes_[x];
  if (xn.op == GOp::kConst) return Constant(internal::EvalUnary(op, xn.value));
  switch (op) {
    case GOp::kNeg:
      if (xn.op == GOp::kNeg) return xn.a;  // --x -> x
      break;
    case GOp::kAbs:
      if (xn.op == GOp::kNeg || xn.op == GOp::kAbs) return Unary(GOp::kAbs, xn.a);
      break;
    case GOp::kNot:
      if (xn.op == GOp::kNot) return Truth(xn.a);
      if (xn.op == GOp::kEq) return Binary(GOp::kNeq, xn.a, xn.b);
      if (xn.op == GOp::kNeq) return Binary(GOp::kEq, xn.a, xn.b);
      break;
    case GOp::kFloor:
    case GOp::kCeil:
      // floor and ceil of an integer-valued operation are that operation.
      if (xn.op == GOp::kFloor || xn.op == GOp::kCeil || xn.op == GOp::kQuotient ||
          IsBooleanOp(xn.op)) {
        return x;
      }
      break;
    default:
      break;
  }
  Node n;
  n.op = op;
  n.arity = 1;
  n.a = x;
  return Intern(n);
}

NodeId Graph::Binary(GOp op, NodeId x, NodeId y) {
  assert(Arity(op) == 2 && "Graph::Binary: not a binary operation");
  const Node xn = nodes_[x];
  const Node yn = nodes_[y];
  const bool xc = xn.op == GOp::kConst;
  const bool yc = yn.op == GOp::kConst;
  if (xc && yc) return Constant(internal::EvalBinary(op, xn.value, yn.value));
  const double xv = xn.value;  // meaningful only when xc
  const double yv = yn.value;
  switch (op) {
    case GOp::kAdd:
      if (xc && xv == 0.0) return y;
      if (yc && yv == 0.0) return x;
      if (yn.op == GOp::kNeg) return Binary(GOp::kSub, x, yn.a);  // x + -y -> x - y
      if (xn.op == GOp::kNeg) return Binary(GOp::kSub, y, xn.a);  // -x + y -> y - x
      break;
    case GOp::kSub:
      if (yc && yv == 0.0) return x;
      if (xc && xv == 0.0) return Unary(GOp::kNeg, y);
      if (yn.op == GOp::kNeg) return Binary(GOp::kAdd, x, yn.a);  // x - -y -> x + y
      break;
    case GOp::kMul:
      // x * 0 -> 0 even for x = inf or NaN: the model's math is real-valued
      // and this keeps derivatives compact.
      if ((xc && xv == 0.0) || (yc && yv == 0.0)) return kZero;
      if (xc && xv == 1.0) return y;
      if (yc && yv == 1.0) return x;
      if (xc && xv == -1.0) return Unary(GOp::kNeg, y);
      if (yc && yv == -1.0) return Unary(GOp::kNeg, x);
      if (xn.op == GOp::kNeg && yn.op == GOp::kNeg) return Binary(GOp::kMul, xn.a, yn.a);
      break;
    case GOp::kDiv:
      if (yc && yv == 1.0) return x;
      if (yc && yv == -1.0) return Unary(GOp::kNeg, x);
      break;
    case GOp::kPow:
      if (yc && yv == 1.0) return x;
      if (yc && yv == 0.0) return kOne;  // pow(x, 0) = 1 for every x, NaN included
      break;
    case GOp::kMin:
    case GOp::kMax:
      if (x == y) return x;
      break;
    case GOp::kAnd:
      if ((xc && xv == 0.0) || (yc && yv == 0.0)) return kZero;
      if (xc) return Truth(y);  // a true constant (NaN counts as true)
      if (yc) return Truth(x);
      if (x == y) return Truth(x);
      break;
    case GOp::kOr:
      if ((xc && xv != 0.0) || (yc && yv != 0.0)) return kOne;
      if (xc) return Truth(y);
      if (yc) return Truth(x);
      if (x == y) return Truth(x);
      break;
    case GOp::kXor:
      if (xc) return xv == 0.0 ? Truth(y) : Unary(GOp::kNot, y);
      if (yc) return yv == 0.0 ? Truth(x) : Unary(GOp::kNot, x);
      if (x == y) return kZero;
      break;
    default:
      break;
  }
  if (IsCommutative(op) && x > y) std::swap(x, y);
  Node n;
  n.op = op;
  n.arity = 2;
  n.a = x;
  n.b = y;
  return Intern(n);
}

NodeId Graph::Select(NodeId cond, NodeId if_true, NodeId if_false) {
  const Node cn = nodes_[cond];
  if (cn.op == GOp::kConst) return cn.value != 0.0 ? if_true : if_false;
  if (if_true == if_false) return if_true;
  if (cn.op == GOp::kNot) return Select(cn.a, if_false, if_true);
  if (IsBoolean(cond)) {
    if (if_true == kOne && if_false == kZero) return cond;
    if (if_true == kZero && if_false == kOne) return Unary(GOp::kNot, cond);
  }
  Node n;
  n.op = GOp::kSelect;
  n.arity = 3;
  n.a = cond;
  n.b = if_true;
  n.c = if_false;
  return Intern(n);
}

std::vector<NodeId> Graph::TopologicalOrder(std::span<const NodeId> roots) const {
  std::vector<NodeId> order;
  std::vector<bool> seen(nodes_.size(), false);
  std::vector<NodeId> stack;
  for (NodeId r : roots) {
    assert(r < nodes_.size());
    if (!seen[r]) {
      seen[r] = true;
      stack.push_back(r);
    }
  }
  while (!stack.empty()) {
    NodeId id = stack.back();
    stack.pop_back();
    order.push_back(id);
    const Node& n = nodes_[id];
    const NodeId ops[3] = {n.a, n.b, n.c};
    for (int i = 0; i < n.arity; ++i) {
      if (!seen[ops[i]]) {
        seen[ops[i]] = true;
        stack.push_back(ops[i]);
      }
    }
  }
  std::sort(order.begin(), order.end());
  return order;
}

bool Graph::DependsOn(NodeId f, uint32_t slot) const {
  for (NodeId id : TopologicalOrder({&f, 1})) {
    const Node& n = nodes_[id];
    if (n.op == GOp::kVar && n.slot == slot) return true;
  }
  return false;
}

std::vector<uint32_t> Graph::Variables(NodeId f) const {
  std::vector<uint32_t> slots;
  for (NodeId id : TopologicalOrder({&f, 1})) {
    const Node& n = nodes_[id];
    if (n.op == GOp::kVar) slots.push_back(n.slot);
  }
  std::sort(slots.begin(), slots.end());
  slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
  return slots;
}

double Graph::Evaluate(NodeId f, const double* slots) const {
  // Post-order walk with a per-call memo; every operand of a node has a
  // smaller id, so evaluating the reachable set in id order is valid.
  std::vector<NodeId> order = TopologicalOrder({&f, 1});
  std::unordered_map<NodeId, double> value;
  value.reserve(order.size());
  for (NodeId id : order) {
    const Node& n = nodes_[id];
    double v;
    switch (Arity(n.op)) {
      case 0:
        v = n.op == GOp::kConst ? n.value : slots[n.slot];
        break;
      case 1:
        v = internal::EvalUnary(n.op, value.at(n.a));
        break;
      case 2:
        v = internal::EvalBinary(n.op, value.at(n.a), value.at(n.b));
        break;
      default:
        v = internal::EvalSelect(value.at(n.a), value.at(n.b), value.at(n.c));
        break;
    }
    value.emplace(id, v);
  }
  return value.at(f);
}

NodeId Graph::Substitute(NodeId f, const std::unordered_map<uint32_t, NodeId>& replacement) {
  std::vector<NodeId> order = TopologicalOrder({&f, 1});
  std::unordered_map<NodeId, NodeId> mapped;
  mapped.reserve(order.size());
  for (NodeId id : order) {
    const Node n = nodes_[id];
    NodeId r = id;
    switch (Arity(n.op)) {
      case 0:
        if (n.op == GOp::kVar) {
          auto it = replacement.find(n.slot);
          if (it != replacement.end()) r = it->second;
        }
        break;
      case 1:
        r = Unary(n.op, mapped.at(n.a));
        break;
      case 2:
        r = Binary(n.op, mapped.at(n.a), mapped.at(n.b));
        break;
      default:
        r = Select(mapped.at(n.a), mapped.at(n.b), mapped.at(n.c));
        break;
    }
    mapped.emplace(id, r);
  }
  return mapped.at(f);
}

}  // namespace soma::expr
