// Graph::FromTree: lowering of MathML operators (expr::Op) to DAG nodes.

#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "expr/graph.h"

namespace soma::expr {
namespace {

// SBML Level 3 fixes the value of the avogadro csymbol.
constexpr double kAvogadroValue = 6.02214179e23;

Status ArityError(Op op, std::string_view expected, size_t got) {
  return InvalidModel("operator '" + std::string(OpName(op)) + "' takes " +
                      std::string(expected) + ", got " + std::to_string(got));
}

bool IsLeafOp(Op op) {
  switch (op) {
    case Op::kNumber: case Op::kSymbol: case Op::kTime: case Op::kAvogadro: case Op::kPi:
    case Op::kExponentiale: case Op::kTrue: case Op::kFalse: case Op::kInfinity:
    case Op::kNotANumber:
      return true;
    default:
      return false;
  }
}

bool IsResolvedByCaller(Op op) {
  return op == Op::kSymbol || op == Op::kTime || op == Op::kDelay || op == Op::kRateOf;
}

Result<NodeId> LowerLeaf(Graph& g, const Expr& e) {
  if (!e.args.empty()) return ArityError(e.op, "no arguments", e.args.size());
  switch (e.op) {
    case Op::kNumber: return g.Constant(e.value);
    case Op::kAvogadro: return g.Constant(kAvogadroValue);
    case Op::kPi: return g.Constant(std::numbers::pi);
    case Op::kExponentiale: return g.Constant(std::numbers::e);
    case Op::kTrue: return g.Constant(1.0);
    case Op::kFalse: return g.Constant(0.0);
    case Op::kInfinity: return g.Constant(std::numeric_limits<double>::infinity());
    case Op::kNotANumber: return g.Constant(std::numeric_limits<double>::quiet_NaN());
    default: return Internal("LowerLeaf: not a leaf operator");
  }
}

GOp UnaryFor(Op op) {
  switch (op) {
    case Op::kLn: return GOp::kLn;
    case Op::kExp: return GOp::kExp;
    case Op::kAbs: return GOp::kAbs;
    case Op::kFloor: return GOp::kFloor;
    case Op::kCeiling: return GOp::kCeil;
    case Op::kFactorial: return GOp::kFactorial;
    case Op::kSqrt: return GOp::kSqrt;
    case Op::kSin: case Op::kCsc: return GOp::kSin;
    case Op::kCos: case Op::kSec: return GOp::kCos;
    case Op::kTan: case Op::kCot: return GOp::kTan;
    case Op::kSinh: case Op::kCsch: return GOp::kSinh;
    case Op::kCosh: case Op::kSech: return GOp::kCosh;
    case Op::kTanh: case Op::kCoth: return GOp::kTanh;
    case Op::kArcsin: case Op::kArccsc: return GOp::kAsin;
    case Op::kArccos: case Op::kArcsec: return GOp::kAcos;
    case Op::kArctan: case Op::kArccot: return GOp::kAtan;
    case Op::kArcsinh: case Op::kArccsch: return GOp::kAsinh;
    case Op::kArccosh: case Op::kArcsech: return GOp::kAcosh;
    case Op::kArctanh: case Op::kArccoth: return GOp::kAtanh;
    case Op::kNot: return GOp::kNot;
    default: return GOp::kConst;
  }
}

// f(1/x) forms: arcsec(x) = acos(1/x), ...
bool TakesReciprocalArgument(Op op) {
  switch (op) {
    case Op::kArcsec: case Op::kArccsc: case Op::kArccot:
    case Op::kArcsech: case Op::kArccsch: case Op::kArccoth:
      return true;
    default:
      return false;
  }
}

// 1/f(x) forms: sec(x) = 1/cos(x), ...
bool IsReciprocalOfFunction(Op op) {
  switch (op) {
    case Op::kSec: case Op::kCsc: case Op::kCot: case Op::kSech: case Op::kCsch: case Op::kCoth:
      return true;
    default:
      return false;
  }
}

GOp RelationFor(Op op) {
  switch (op) {
    case Op::kEq: return GOp::kEq;
    case Op::kLt: return GOp::kLt;
    case Op::kLe: return GOp::kLe;
    case Op::kGt: return GOp::kGt;
    case Op::kGe: return GOp::kGe;
    default: return GOp::kNeq;
  }
}

Result<NodeId> LowerApply(Graph& g, Op op, const std::vector<NodeId>& a) {
  const size_t n = a.size();
  auto fold = [&g, &a](GOp bop, NodeId init) {
    NodeId acc = init;
    for (NodeId x : a) acc = g.Binary(bop, acc, x);
    return acc;
  };
  switch (op) {
    case Op::kPlus:
      if (n == 0) return g.Constant(0.0);
      return fold(GOp::kAdd, g.Constant(0.0));
    case Op::kTimes:
      if (n == 0) return g.Constant(1.0);
      return fold(GOp::kMul, g.Constant(1.0));
    case Op::kMinus:
      if (n == 1) return g.Neg(a[0]);
      if (n == 2) return g.Sub(a[0], a[1]);
      return ArityError(op, "1 or 2 arguments", n);
    case Op::kDivide:
      if (n != 2) return ArityError(op, "2 arguments", n);
      return g.Div(a[0], a[1]);
    case Op::kPower:
      if (n != 2) return ArityError(op, "2 arguments", n);
      return g.Binary(GOp::kPow, a[0], a[1]);
    case Op::kRoot: {
      if (n == 1) return g.Unary(GOp::kSqrt, a[0]);
      if (n != 2) return ArityError(op, "1 or 2 arguments (degree, x)", n);
      if (g.ConstantValue(a[0]) == 2.0) return g.Unary(GOp::kSqrt, a[1]);
      return g.Binary(GOp::kPow, a[1], g.Div(g.Constant(1.0), a[0]));
    }
    case Op::kLog: {
      if (n == 1) return g.Unary(GOp::kLog10, a[0]);
      if (n != 2) return ArityError(op, "1 or 2 arguments (base, x)", n);
      if (g.ConstantValue(a[0]) == 10.0) return g.Unary(GOp::kLog10, a[1]);
      return g.Div(g.Unary(GOp::kLn, a[1]), g.Unary(GOp::kLn, a[0]));
    }
    case Op::kMin:
    case Op::kMax: {
      if (n == 0) return ArityError(op, "at least 1 argument", n);
      NodeId acc = a[0];
      for (size_t i = 1; i < n; ++i) acc = g.Binary(op == Op::kMin ? GOp::kMin : GOp::kMax, acc, a[i]);
      return acc;
    }
    case Op::kRem:
    case Op::kQuotient:
      if (n != 2) return ArityError(op, "2 arguments", n);
      return g.Binary(op == Op::kRem ? GOp::kRem : GOp::kQuotient, a[0], a[1]);
    case Op::kNeq:
      if (n != 2) return ArityError(op, "2 arguments", n);
      return g.Binary(GOp::kNeq, a[0], a[1]);
    case Op::kEq: case Op::kLt: case Op::kLe: case Op::kGt: case Op::kGe: {
      if (n < 2) return ArityError(op, "at least 2 arguments", n);
      // a < b < c means a < b and b < c.
      NodeId acc = g.Binary(RelationFor(op), a[0], a[1]);
      for (size_t i = 2; i < n; ++i) {
        acc = g.Binary(GOp::kAnd, acc, g.Binary(RelationFor(op), a[i - 1], a[i]));
      }
      return acc;
    }
    case Op::kAnd:
    case Op::kOr:
    case Op::kXor: {
      const GOp bop = op == Op::kAnd ? GOp::kAnd : op == Op::kOr ? GOp::kOr : GOp::kXor;
      const NodeId identity = g.Constant(op == Op::kAnd ? 1.0 : 0.0);
      if (n == 0) return identity;
      if (n == 1) return g.Binary(bop, identity, a[0]);  // the truth value of a[0]
      NodeId acc = a[0];
      for (size_t i = 1; i < n; ++i) acc = g.Binary(bop, acc, a[i]);
      return acc;
    }
    case Op::kImplies:
      if (n != 2) return ArityError(op, "2 arguments", n);
      return g.Binary(GOp::kOr, g.Unary(GOp::kNot, a[0]), a[1]);
    case Op::kPiecewise: {
      NodeId acc = n % 2 == 1 ? a[n - 1] : g.Constant(std::numeric_limits<double>::quiet_NaN());
      for (size_t i = n / 2; i-- > 0;) acc = g.Select(a[2 * i + 1], a[2 * i], acc);
      return acc;
    }
    default:
      break;
  }
  const GOp unary = UnaryFor(op);
  if (unary == GOp::kConst) {
    return Internal("FromTree: no lowering for operator '" + std::string(OpName(op)) + "'");
  }
  if (n != 1) return ArityError(op, "1 argument", n);
  NodeId x = a[0];
  if (TakesReciprocalArgument(op)) x = g.Div(g.Constant(1.0), x);
  NodeId y = g.Unary(unary, x);
  if (IsReciprocalOfFunction(op)) y = g.Div(g.Constant(1.0), y);
  return y;
}

}  // namespace

Result<NodeId> Graph::FromTree(const Expr& root, const Resolver& resolve) {
  // Explicit stack: pre-order expansion, post-order lowering. `values`
  // holds the lowered operands of the frames still open.
  struct Frame {
    const Expr* e;
    bool expanded;
  };
  std::vector<Frame> stack{{&root, false}};
  std::vector<NodeId> values;
  std::vector<NodeId> args;
  while (!stack.empty()) {
    const Frame frame = stack.back();
    stack.pop_back();
    const Expr& e = *frame.e;
    if (!frame.expanded) {
      if (IsResolvedByCaller(e.op)) {
        const std::string what =
            e.op == Op::kSymbol ? "symbol '" + e.name + "'" : "csymbol " + std::string(OpName(e.op));
        if (!resolve) return InvalidArgument("FromTree: no resolver given for " + what);
        Result<NodeId> r = resolve(e);
        if (!r.ok()) return r.status();
        if (*r >= nodes_.size()) return InvalidArgument("FromTree: resolver returned an invalid node for " + what);
        values.push_back(*r);
        continue;
      }
      if (IsLeafOp(e.op)) {
        SOMA_ASSIGN_OR_RETURN(NodeId v, LowerLeaf(*this, e));
        values.push_back(v);
        continue;
      }
      stack.push_back({&e, true});
      for (auto it = e.args.rbegin(); it != e.args.rend(); ++it) stack.push_back({&*it, false});
      continue;
    }
    const size_t n = e.args.size();
    args.assign(values.end() - static_cast<std::ptrdiff_t>(n), values.end());
    values.resize(values.size() - n);
    SOMA_ASSIGN_OR_RETURN(NodeId v, LowerApply(*this, e.op, args));
    values.push_back(v);
  }
  return values.back();
}

}  // namespace soma::expr
