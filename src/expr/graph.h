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
#include <span>
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

  // Node constructors. Each returns the id of an interned node: building the
  // same expression twice gives the same id. Operands must be ids of this
  // graph; `op` must have the matching arity (asserted): Unary takes kNeg,
  // kExp, ..., kAtanh, kNot; Binary takes kAdd ... kXor except kNeg/kNot.
  //
  // Simplifications applied (all exact except where noted):
  //  - every operation on constants is folded (with the semantics of
  //    Evaluate/Program::Run, so folding never changes a result);
  //  - x+0, 0+x, x-0, x*1, 1*x, x/1, x^1 -> x; 0-x -> -x; x^0 -> 1;
  //    x*(-1), x/(-1) -> -x; --x -> x; x+(-y) -> x-y; x-(-y) -> x+y;
  //    (-x)*(-y) -> x*y; abs(-x) -> abs(x); min(x,x), max(x,x) -> x;
  //  - x*0 and 0*x -> 0 even though inf*0 and NaN*0 are NaN in IEEE
  //    arithmetic (model math is real-valued; derivatives stay compact);
  //  - logic with a constant operand (and(x, 0) -> 0, or(x, 1) -> 1,
  //    and(x, 1) -> x != 0, ...), not(not(x)) -> x != 0, not(x == y) ->
  //    x != y; floor/ceil of an integer-valued node -> that node;
  //  - Select with a constant condition picks its branch (NaN is true),
  //    Select(c, a, a) -> a, Select(not c, a, b) -> Select(c, b, a),
  //    Select(c, 1, 0) -> c for a boolean c;
  //  - commutative operations (+, *, min, max, ==, !=, and, or, xor) order
  //    their operands by id, so a+b and b+a share a node.
  // Constants are interned by bit pattern (0.0 and -0.0 differ; every NaN
  // becomes the one quiet NaN).
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
  //
  // Lowering details: log(x) with one argument is log10; root(x) with one
  // argument is sqrt; factorial(x) = tgamma(x + 1); rem = fmod (sign of the
  // dividend); quotient(a, b) = trunc(a / b); relational chains
  // (a < b < c) are the conjunction of adjacent pairs, eq n-ary means all
  // equal, neq is binary; and() = 1, or() = 0, xor is the parity of the
  // true arguments; implies(a, b) = not a or b; avogadro = 6.02214179e23.
  // Errors: InvalidModel naming the operator for a wrong number of
  // arguments; InvalidArgument when a kSymbol/kTime/kDelay/kRateOf node is
  // met and `resolve` is empty; any error returned by `resolve`.
  // Not recursive: trees of any depth are accepted.
  Result<NodeId> FromTree(const Expr& e, const Resolver& resolve);

  // d f / d Variable(slot), simplified. Memoized per (f, slot). Derivatives
  // of piecewise-constant functions (floor, ceil, quotient, relations,
  // logic) are 0; of kSelect, the select of the branch derivatives; of
  // abs/min/max, a kSelect on the active branch (the right derivative at a
  // kink); d rem(a, b) = a' - quotient(a, b) * b'; d u^v uses v*u^(v-1)*u'
  // when v does not depend on `slot`, else u^v * (v' ln u + v u'/u); the
  // derivative of factorial uses digamma, built from nodes by recurrence
  // and asymptotic series (relative error < 1e-9 for arguments > -1 away
  // from poles). Not recursive.
  NodeId Derivative(NodeId f, uint32_t slot);

  // f with Variable(s) replaced by replacement[s] for each entry. The result
  // is re-simplified (substituting a constant folds). Not recursive.
  NodeId Substitute(NodeId f, const std::unordered_map<uint32_t, NodeId>& replacement);

  const Node& node(NodeId id) const { return nodes_[id]; }
  size_t size() const { return nodes_.size(); }
  std::optional<double> ConstantValue(NodeId id) const;
  bool DependsOn(NodeId f, uint32_t slot) const;
  // The distinct slots f reads, ascending.
  std::vector<uint32_t> Variables(NodeId f) const;
  // Reference evaluation by walking the DAG: for tests and one-off
  // initialisation, never for hot loops. `slots` is indexed by slot.
  // Per-call memo, not recursive; gives bit-identical results to
  // Program::Run. Semantics: booleans 1/0, a condition is true when
  // non-zero (NaN is true); min/max propagate NaN; kRem = fmod;
  // kQuotient = trunc(a/b); kFactorial = tgamma(x + 1); kSelect picks.
  double Evaluate(NodeId f, const double* slots) const;
  // Infix text with variables printed as "$slot" (or by `name` when given).
  // With names that are identifiers, the text is accepted by
  // ParseExpression (expr/parse.h); kSelect prints as piecewise(t, c, f).
  std::string ToString(NodeId f, const std::function<std::string(uint32_t)>& name = {}) const;

  // The nodes reachable from `roots` in ascending id order, which is a
  // topological order (operands are always created before their users, so
  // an operand's id is smaller than its user's). Each node appears once.
  // Not recursive.
  std::vector<NodeId> TopologicalOrder(std::span<const NodeId> roots) const;

 private:
  NodeId Intern(const Node& n);
  NodeId Truth(NodeId x);            // x if boolean-valued, else x != 0
  bool IsBoolean(NodeId x) const;
  NodeId DerivativeStep(NodeId n, uint32_t slot);  // operands' derivatives memoized
  NodeId DigammaOf(NodeId y);

  static constexpr NodeId kZero = 0;  // Constant(0.0), interned first
  static constexpr NodeId kOne = 1;   // Constant(1.0), interned second

  std::vector<Node> nodes_;
  struct NodeHash { size_t operator()(const Node& n) const; };
  struct NodeEq { bool operator()(const Node& x, const Node& y) const; };
  std::unordered_map<Node, NodeId, NodeHash, NodeEq> index_;
  std::unordered_map<uint64_t, NodeId> derivative_memo_;
};

}  // namespace soma::expr
