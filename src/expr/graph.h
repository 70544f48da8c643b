#pragma once
// A hash-consed expression DAG: the compiler's working form of model math.
//
// Nodes are interned (structurally equal nodes share one NodeId), so common
// subexpressions are shared, substitution of assignment rules into kinetic
// laws does not blow up, and symbolic derivatives stay compact. Construction
// folds constants and applies safe identities (x+0, x*1, x*0 -> 0, x^1, ...).
//
// Leaves are constants and Variables. A Variable(slot) reads slot `slot` of
// the input array given to a compiled Program (expr/program.h); what a slot
// means (a state, a parameter, time) is the caller's business.
//
// Thread safety: a Graph is not thread safe for mutation; const methods may
// be called concurrently.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "expr/expr.h"

namespace soma::expr {

using NodeId = uint32_t;

// Operations of DAG nodes. Boolean results are 1.0/0.0; a condition is true
// when non-zero.
enum class GOp : uint8_t {
  kConst, kVar,
  kAdd, kSub, kMul, kDiv, kPow, kNeg,
  kExp, kLn, kLog10, kSqrt, kAbs, kFloor, kCeil, kFactorial,
  kSin, kCos, kTan, kSinh, kCosh, kTanh,
  kAsin, kAcos, kAtan, kAsinh, kAcosh, kAtanh,
  kMin, kMax, kRem, kQuotient,     // binary
  kEq, kNeq, kLt, kLe, kGt, kGe,   // binary relations
  kAnd, kOr, kXor, kNot,           // logical on truth values
  kSelect,                         // (cond, if_true, if_false)
};

struct Node {
  GOp op = GOp::kConst;
  uint8_t arity = 0;
  NodeId a = 0, b = 0, c = 0;      // operands (first `arity` are valid)
  double value = 0.0;              // kConst
  uint32_t slot = 0;               // kVar
};

class Graph {
 public:
  // Callback that turns a tree leaf the graph cannot resolve by itself into a
  // node: it is called for kSymbol, kTime, kDelay and kRateOf nodes (the whole
  // node, so kDelay/kRateOf see their arguments). Return an error Status
  // (e.g. Unsupported) to abort the translation.
  using Resolver = std::function<Result<NodeId>(const Expr& node)>;

  Graph();

  NodeId Constant(double v);
  NodeId Variable(uint32_t slot);
  NodeId Unary(GOp op, NodeId x);
  NodeId Binary(GOp op, NodeId x, NodeId y);
  NodeId Select(NodeId cond, NodeId if_true, NodeId if_false);
  NodeId Add(NodeId x, NodeId y) { return Binary(GOp::kAdd, x, y); }
  NodeId Sub(NodeId x, NodeId y) { return Binary(GOp::kSub, x, y); }
  NodeId Mul(NodeId x, NodeId y) { return Binary(GOp::kMul, x, y); }
  NodeId Div(NodeId x, NodeId y) { return Binary(GOp::kDiv, x, y); }
  NodeId Neg(NodeId x) { return Unary(GOp::kNeg, x); }

  // Translates a tree. All MathML operators of expr::Op are lowered to GOp
  // (sec -> 1/cos, log(b, x) -> ln x / ln b, root(n, x) -> x^(1/n),
  // n-ary chains folded, piecewise -> nested kSelect with NaN when nothing
  // matches and there is no otherwise, ...). Errors name the offending
  // operator (e.g. a kMinus with 3 arguments).
  Result<NodeId> FromTree(const Expr& e, const Resolver& resolve);

  // d f / d Variable(slot), simplified. Memoized per (f, slot). Derivatives
  // of piecewise-constant functions (floor, relations, ...) are 0; of
  // kSelect, the select of the branch derivatives.
  NodeId Derivative(NodeId f, uint32_t slot);

  // f with Variable(s) replaced by replacement[s] for each entry.
  NodeId Substitute(NodeId f, const std::unordered_map<uint32_t, NodeId>& replacement);

  const Node& node(NodeId id) const { return nodes_[id]; }
  size_t size() const { return nodes_.size(); }
  std::optional<double> ConstantValue(NodeId id) const;
  bool DependsOn(NodeId f, uint32_t slot) const;
  // The distinct slots f reads, ascending.
  std::vector<uint32_t> Variables(NodeId f) const;
  // Reference evaluation by walking the DAG: for tests and one-off
  // initialisation, never for hot loops. `slots` is indexed by slot.
  double Evaluate(NodeId f, const double* slots) const;
  // Infix text with variables printed as "$slot" (or by `name` when given).
  std::string ToString(NodeId f, const std::function<std::string(uint32_t)>& name = {}) const;

 private:
  NodeId Intern(const Node& n);
  std::vector<Node> nodes_;
  struct NodeHash { size_t operator()(const Node& n) const; };
  struct NodeEq { bool operator()(const Node& x, const Node& y) const; };
  std::unordered_map<Node, NodeId, NodeHash, NodeEq> index_;
  std::unordered_map<uint64_t, NodeId> derivative_memo_;
};

}  // namespace soma::expr
