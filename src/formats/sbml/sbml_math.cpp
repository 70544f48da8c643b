#include "formats/sbml/sbml_math.h"

#include <cmath>
#include <optional>
#include <vector>

namespace soma::formats::internal {
namespace {

using expr::Expr;
using expr::Op;

size_t CountNodes(const Expr& e) {
  size_t n = 1;
  for (const Expr& a : e.args) n += CountNodes(a);
  return n;
}

// A name for `node` in messages: its MathML element or csymbol URL.
std::string NodeName(const ::ASTNode& node) {
  if (node.getType() == ::AST_CSYMBOL_FUNCTION || !node.getDefinitionURLString().empty()) {
    return "csymbol '" + node.getDefinitionURLString() + "'";
  }
  if (const char* op = node.getOperatorName(); op != nullptr && *op != '\0') {
    return "operator '" + std::string(op) + "'";
  }
  if (const char* name = node.getName(); name != nullptr && *name != '\0') {
    return "operator '" + std::string(name) + "'";
  }
  return "construct of libSBML type " + std::to_string(static_cast<int>(node.getType()));
}

// Operators whose MathML form maps one-to-one onto an Expr op with a fixed
// number of arguments.
struct FixedOp {
  Op op;
  unsigned int arity;
};

std::optional<FixedOp> FixedArity(::ASTNodeType_t type) {
  switch (type) {
    case ::AST_DIVIDE: return FixedOp{Op::kDivide, 2};
    case ::AST_POWER:
    case ::AST_FUNCTION_POWER: return FixedOp{Op::kPower, 2};
    case ::AST_FUNCTION_LN: return FixedOp{Op::kLn, 1};
    case ::AST_FUNCTION_EXP: return FixedOp{Op::kExp, 1};
    case ::AST_FUNCTION_ABS: return FixedOp{Op::kAbs, 1};
    case ::AST_FUNCTION_FLOOR: return FixedOp{Op::kFloor, 1};
    case ::AST_FUNCTION_CEILING: return FixedOp{Op::kCeiling, 1};
    case ::AST_FUNCTION_FACTORIAL: return FixedOp{Op::kFactorial, 1};
    case ::AST_FUNCTION_SIN: return FixedOp{Op::kSin, 1};
    case ::AST_FUNCTION_COS: return FixedOp{Op::kCos, 1};
    case ::AST_FUNCTION_TAN: return FixedOp{Op::kTan, 1};
    case ::AST_FUNCTION_SEC: return FixedOp{Op::kSec, 1};
    case ::AST_FUNCTION_CSC: return FixedOp{Op::kCsc, 1};
    case ::AST_FUNCTION_COT: return FixedOp{Op::kCot, 1};
    case ::AST_FUNCTION_SINH: return FixedOp{Op::kSinh, 1};
    case ::AST_FUNCTION_COSH: return FixedOp{Op::kCosh, 1};
    case ::AST_FUNCTION_TANH: return FixedOp{Op::kTanh, 1};
    case ::AST_FUNCTION_SECH: return FixedOp{Op::kSech, 1};
    case ::AST_FUNCTION_CSCH: return FixedOp{Op::kCsch, 1};
    case ::AST_FUNCTION_COTH: return FixedOp{Op::kCoth, 1};
    case ::AST_FUNCTION_ARCSIN: return FixedOp{Op::kArcsin, 1};
    case ::AST_FUNCTION_ARCCOS: return FixedOp{Op::kArccos, 1};
    case ::AST_FUNCTION_ARCTAN: return FixedOp{Op::kArctan, 1};
    case ::AST_FUNCTION_ARCSEC: return FixedOp{Op::kArcsec, 1};
    case ::AST_FUNCTION_ARCCSC: return FixedOp{Op::kArccsc, 1};
    case ::AST_FUNCTION_ARCCOT: return FixedOp{Op::kArccot, 1};
    case ::AST_FUNCTION_ARCSINH: return FixedOp{Op::kArcsinh, 1};
    case ::AST_FUNCTION_ARCCOSH: return FixedOp{Op::kArccosh, 1};
    case ::AST_FUNCTION_ARCTANH: return FixedOp{Op::kArctanh, 1};
    case ::AST_FUNCTION_ARCSECH: return FixedOp{Op::kArcsech, 1};
    case ::AST_FUNCTION_ARCCSCH: return FixedOp{Op::kArccsch, 1};
    case ::AST_FUNCTION_ARCCOTH: return FixedOp{Op::kArccoth, 1};
    case ::AST_FUNCTION_REM: return FixedOp{Op::kRem, 2};
    case ::AST_FUNCTION_QUOTIENT: return FixedOp{Op::kQuotient, 2};
    case ::AST_LOGICAL_IMPLIES: return FixedOp{Op::kImplies, 2};
    case ::AST_LOGICAL_NOT: return FixedOp{Op::kNot, 1};
    case ::AST_FUNCTION_DELAY: return FixedOp{Op::kDelay, 2};
    case ::AST_RELATIONAL_NEQ: return FixedOp{Op::kNeq, 2};
    default: return std::nullopt;
  }
}

// n-ary relational chains (eq, lt, ...): with fewer than two arguments
// there is nothing to compare and L3V2 defines the value as true.
std::optional<Op> Relational(::ASTNodeType_t type) {
  switch (type) {
    case ::AST_RELATIONAL_EQ: return Op::kEq;
    case ::AST_RELATIONAL_LT: return Op::kLt;
    case ::AST_RELATIONAL_LEQ: return Op::kLe;
    case ::AST_RELATIONAL_GT: return Op::kGt;
    case ::AST_RELATIONAL_GEQ: return Op::kGe;
    default: return std::nullopt;
  }
}

Expr Real(double v) {
  if (std::isnan(v)) return Expr::Leaf(Op::kNotANumber);
  if (std::isinf(v)) {
    Expr inf = Expr::Leaf(Op::kInfinity);
    return v > 0 ? inf : Expr::Apply(Op::kMinus, {inf});
  }
  return Expr::Number(v);
}

[[gnu::noinline]] Status ArityError(const ::ASTNode& node, const std::string& expected) {
  return InvalidModel("MathML " + NodeName(node) + " takes " + expected + " argument(s), got " +
                      std::to_string(node.getNumChildren()));
}

}  // namespace

struct MathConverter::State {
  struct Bound {
    Expr value;
    size_t size = 0;
  };
  // Bound variables of the function body being inlined (null outside one).
  const std::map<std::string, Bound, std::less<>>* env = nullptr;
  std::vector<std::string> calls;  // functions being inlined, outermost first
  size_t nodes = 0;
};

MathConverter::MathConverter(const ::Model& model) {
  for (unsigned int i = 0; i < model.getNumFunctionDefinitions(); ++i) {
    const ::FunctionDefinition* fd = model.getFunctionDefinition(i);
    if (fd != nullptr && fd->isSetId()) functions_.emplace(fd->getId(), fd);
  }
}

Result<Expr> MathConverter::Convert(const ::ASTNode& node) const {
  State state;
  return Walk(node, state, 0);
}

namespace {

// The recursion (Walk) keeps its frame small: everything that builds
// messages or maps operators lives in these non-inlined helpers, so deep but
// legal math does not exhaust the stack, sanitizers included.
[[gnu::noinline]] Status TooDeep() {
  return Unsupported("math nested more than " + std::to_string(MathConverter::kMaxDepth) + " levels deep");
}

[[gnu::noinline]] Status TooLarge() {
  return Unsupported("math has more than " + std::to_string(MathConverter::kMaxNodes) +
                     " nodes after inlining function definitions");
}

// Leaves: numbers, constants, csymbols without arguments. nullopt if `node`
// is not one of them. Names are handled by Walk (they may be bound).
[[gnu::noinline]] std::optional<Expr> Leaf(const ::ASTNode& node) {
  switch (node.getType()) {
    case ::AST_INTEGER: return Expr::Number(static_cast<double>(node.getInteger()));
    case ::AST_REAL:
    case ::AST_REAL_E:
    case ::AST_RATIONAL: return Real(node.getReal());  // libSBML does mantissa*10^e and p/q
    case ::AST_NAME_TIME: return Expr::Leaf(Op::kTime);
    case ::AST_NAME_AVOGADRO: return Expr::Leaf(Op::kAvogadro);
    case ::AST_CONSTANT_PI: return Expr::Leaf(Op::kPi);
    case ::AST_CONSTANT_E: return Expr::Leaf(Op::kExponentiale);
    case ::AST_CONSTANT_TRUE: return Expr::Leaf(Op::kTrue);
    case ::AST_CONSTANT_FALSE: return Expr::Leaf(Op::kFalse);
    default: return std::nullopt;
  }
}

// An operator node whose arguments have been converted.
[[gnu::noinline]] Result<Expr> Combine(const ::ASTNode& node, std::vector<Expr> a) {
  const ::ASTNodeType_t type = node.getType();
  const size_t n = a.size();
  if (auto fixed = FixedArity(type)) {
    if (n != fixed->arity) return ArityError(node, std::to_string(fixed->arity));
    return Expr::Apply(fixed->op, std::move(a));
  }
  if (auto rel = Relational(type)) {
    // Fewer than two operands: nothing to compare; L3V2 defines true.
    if (n < 2) return Expr::Leaf(Op::kTrue);
    return Expr::Apply(*rel, std::move(a));
  }
  switch (type) {
    case ::AST_PLUS: return Expr::Apply(Op::kPlus, std::move(a));
    case ::AST_TIMES: return Expr::Apply(Op::kTimes, std::move(a));
    case ::AST_MINUS: {
      if (n == 0) return ArityError(node, "1 or 2");
      if (n == 1) return Expr::Apply(Op::kMinus, std::move(a));
      // Some writers emit n-ary minus; read it as a left fold.
      Expr acc = std::move(a[0]);
      for (size_t i = 1; i < n; ++i) acc = Expr::Apply(Op::kMinus, {std::move(acc), std::move(a[i])});
      return acc;
    }
    case ::AST_FUNCTION_ROOT:
      // libSBML puts the <degree> value first (and supplies 2 when absent).
      if (n == 1) return Expr::Apply(Op::kSqrt, std::move(a));
      if (n != 2) return ArityError(node, "1 or 2");
      return Expr::Apply(Op::kRoot, std::move(a));
    case ::AST_FUNCTION_LOG:
      // libSBML puts the <logbase> value first (and supplies 10 when absent).
      if (n == 1) return Expr::Apply(Op::kLog, {Expr::Number(10), std::move(a[0])});
      if (n != 2) return ArityError(node, "1 or 2");
      return Expr::Apply(Op::kLog, std::move(a));
    case ::AST_FUNCTION_MAX:
    case ::AST_FUNCTION_MIN:
      if (n == 0) return ArityError(node, "at least 1");
      return Expr::Apply(type == ::AST_FUNCTION_MAX ? Op::kMax : Op::kMin, std::move(a));
    case ::AST_LOGICAL_AND:
      if (n == 0) return Expr::Leaf(Op::kTrue);
      return Expr::Apply(Op::kAnd, std::move(a));
    case ::AST_LOGICAL_OR:
    case ::AST_LOGICAL_XOR:
      if (n == 0) return Expr::Leaf(Op::kFalse);
      return Expr::Apply(type == ::AST_LOGICAL_OR ? Op::kOr : Op::kXor, std::move(a));
    case ::AST_FUNCTION_PIECEWISE:
      // libSBML lists value0, cond0, value1, cond1, ..., [otherwise]: the
      // layout of Op::kPiecewise.
      return Expr::Apply(Op::kPiecewise, std::move(a));
    case ::AST_FUNCTION_RATE_OF:
      if (n != 1) return ArityError(node, "1");
      if (a[0].op != Op::kSymbol) {
        return InvalidModel("csymbol rateOf must be applied to a symbol, got '" + expr::ToString(a[0]) + "'");
      }
      return Expr::Apply(Op::kRateOf, std::move(a));
    case ::AST_LAMBDA:
      return InvalidModel("MathML lambda outside a function definition");
    default:
      break;
  }
  if (type >= ::AST_DISTRIB_FUNCTION_NORMAL && type <= ::AST_DISTRIB_FUNCTION_RAYLEIGH) {
    return Unsupported("MathML " + NodeName(node) + " (distrib package)");
  }
  return Unsupported("MathML " + NodeName(node));
}

[[gnu::noinline]] Status BadName() { return InvalidModel("MathML <ci> without a name"); }

[[gnu::noinline]] Status MissingArgument(const ::ASTNode& node) {
  return InvalidModel("MathML " + NodeName(node) + " has a missing argument");
}

}  // namespace

Result<Expr> MathConverter::Walk(const ::ASTNode& node, State& state, int depth) const {
  if (depth > kMaxDepth) return TooDeep();
  if (++state.nodes > kMaxNodes) return TooLarge();
  const ::ASTNodeType_t type = node.getType();
  if (type == ::AST_FUNCTION) return Inline(node, state, depth);
  if (type == ::AST_NAME) {
    const char* name = node.getName();
    if (name == nullptr || *name == '\0') return BadName();
    if (state.env != nullptr) {
      auto it = state.env->find(std::string_view(name));
      if (it != state.env->end()) {
        state.nodes += it->second.size;
        if (state.nodes > kMaxNodes) return TooLarge();
        return it->second.value;
      }
    }
    return Expr::Symbol(name);
  }
  if (node.getNumChildren() == 0) {
    if (std::optional<Expr> leaf = Leaf(node)) return std::move(*leaf);
  }
  std::vector<Expr> args;
  args.reserve(node.getNumChildren());
  for (unsigned int i = 0; i < node.getNumChildren(); ++i) {
    const ::ASTNode* child = node.getChild(i);
    if (child == nullptr) return MissingArgument(node);
    Result<Expr> e = Walk(*child, state, depth + 1);
    if (!e.ok()) return e.status();
    args.push_back(std::move(e).value());
  }
  return Combine(node, std::move(args));
}

Result<Expr> MathConverter::Inline(const ::ASTNode& call, State& state, int depth) const {
  const char* raw_name = call.getName();
  std::string name = raw_name == nullptr ? "" : raw_name;
  auto it = functions_.find(name);
  if (it == functions_.end()) return InvalidModel("call to undefined function '" + name + "'");
  for (const std::string& active : state.calls) {
    if (active == name) {
      std::string cycle;
      for (const std::string& c : state.calls) cycle += c + " -> ";
      return InvalidModel("function definitions call each other in a cycle: " + cycle + name);
    }
  }
  if (state.calls.size() >= static_cast<size_t>(kMaxCallDepth)) {
    return Unsupported("function calls nested more than " + std::to_string(kMaxCallDepth) + " deep");
  }
  const ::ASTNode* lambda = it->second->getMath();
  if (lambda == nullptr) return InvalidModel("call to function '" + name + "', which has no math");
  if (lambda->getType() != ::AST_LAMBDA) {
    return InvalidModel("function '" + name + "': math is not a lambda");
  }
  const unsigned int num_bvars = lambda->getNumBvars();
  if (lambda->getNumChildren() != num_bvars + 1) {
    return InvalidModel("function '" + name + "': lambda has no body");
  }
  if (call.getNumChildren() != num_bvars) {
    return InvalidModel("function '" + name + "' takes " + std::to_string(num_bvars) +
                        " argument(s), called with " + std::to_string(call.getNumChildren()));
  }
  // Arguments are converted in the caller's scope, then bound all at once.
  std::map<std::string, State::Bound, std::less<>> env;
  for (unsigned int i = 0; i < num_bvars; ++i) {
    const ::ASTNode* bvar = lambda->getChild(i);
    const ::ASTNode* arg = call.getChild(i);
    if (bvar == nullptr || arg == nullptr || bvar->getName() == nullptr) {
      return InvalidModel("function '" + name + "': malformed bound variable");
    }
    SOMA_ASSIGN_OR_RETURN(Expr value, Walk(*arg, state, depth + 1));
    size_t size = CountNodes(value);
    env[bvar->getName()] = State::Bound{std::move(value), size};
  }
  const auto* saved_env = state.env;
  state.env = &env;
  state.calls.push_back(name);
  Result<Expr> body = Walk(*lambda->getChild(num_bvars), state, depth + 1);
  state.calls.pop_back();
  state.env = saved_env;
  if (!body.ok()) return body.status().WithContext("function '" + name + "'");
  return body;
}

}  // namespace soma::formats::internal
