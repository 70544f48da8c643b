// Graph::FromTree: every expr::Op against a direct <cmath> computation,
// evaluated both by Graph::Evaluate and by a compiled Program.

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <string>

#include "expr/expr_test_util.h"
#include "expr/graph.h"
#include "expr/program.h"

namespace soma::expr {
namespace {

using testing::Near;
using testing::SlotResolver;

const Expr kX = Expr::Symbol("x");
const Expr kY = Expr::Symbol("y");
Expr N(double v) { return Expr::Number(v); }
Expr A(Op op, std::vector<Expr> args) { return Expr::Apply(op, std::move(args)); }
double B(bool b) { return b ? 1.0 : 0.0; }

struct Case {
  Expr e;
  std::function<double(double, double)> ref;
};

std::vector<Case> AllOps() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return {
      {Expr::Leaf(Op::kPi), [](double, double) { return std::numbers::pi; }},
      {Expr::Leaf(Op::kExponentiale), [](double, double) { return std::numbers::e; }},
      {Expr::Leaf(Op::kTrue), [](double, double) { return 1.0; }},
      {Expr::Leaf(Op::kFalse), [](double, double) { return 0.0; }},
      {Expr::Leaf(Op::kInfinity), [](double, double) { return INFINITY; }},
      {Expr::Leaf(Op::kNotANumber), [nan](double, double) { return nan; }},
      {Expr::Leaf(Op::kAvogadro), [](double, double) { return 6.02214179e23; }},
      {A(Op::kPlus, {}), [](double, double) { return 0.0; }},
      {A(Op::kPlus, {kX}), [](double x, double) { return x; }},
      {A(Op::kPlus, {kX, kY, N(2)}), [](double x, double y) { return x + y + 2; }},
      {A(Op::kTimes, {}), [](double, double) { return 1.0; }},
      {A(Op::kTimes, {kX, kY, N(3)}), [](double x, double y) { return x * y * 3; }},
      {A(Op::kMinus, {kX}), [](double x, double) { return -x; }},
      {A(Op::kMinus, {kX, kY}), [](double x, double y) { return x - y; }},
      {A(Op::kDivide, {kX, kY}), [](double x, double y) { return x / y; }},
      {A(Op::kPower, {kX, kY}), [](double x, double y) { return std::pow(x, y); }},
      {A(Op::kRoot, {kX}), [](double x, double) { return std::sqrt(x); }},
      {A(Op::kRoot, {N(2), kX}), [](double x, double) { return std::sqrt(x); }},
      {A(Op::kRoot, {N(3), kX}), [](double x, double) { return std::pow(x, 1.0 / 3.0); }},
      {A(Op::kRoot, {kY, kX}), [](double x, double y) { return std::pow(x, 1.0 / y); }},
      {A(Op::kLog, {kX}), [](double x, double) { return std::log10(x); }},
      {A(Op::kLog, {N(10), kX}), [](double x, double) { return std::log10(x); }},
      {A(Op::kLog, {N(2), kX}), [](double x, double) { return std::log2(x); }},
      {A(Op::kLog, {kY, kX}), [](double x, double y) { return std::log(x) / std::log(y); }},
      {A(Op::kLn, {kX}), [](double x, double) { return std::log(x); }},
      {A(Op::kExp, {kX}), [](double x, double) { return std::exp(x); }},
      {A(Op::kAbs, {kX}), [](double x, double) { return std::fabs(x); }},
      {A(Op::kFloor, {kX}), [](double x, double) { return std::floor(x); }},
      {A(Op::kCeiling, {kX}), [](double x, double) { return std::ceil(x); }},
      {A(Op::kFactorial, {kX}), [](double x, double) { return std::tgamma(x + 1); }},
      {A(Op::kFactorial, {N(5)}), [](double, double) { return 120.0; }},
      {A(Op::kSqrt, {kX}), [](double x, double) { return std::sqrt(x); }},
      {A(Op::kSin, {kX}), [](double x, double) { return std::sin(x); }},
      {A(Op::kCos, {kX}), [](double x, double) { return std::cos(x); }},
      {A(Op::kTan, {kX}), [](double x, double) { return std::tan(x); }},
      {A(Op::kSec, {kX}), [](double x, double) { return 1 / std::cos(x); }},
      {A(Op::kCsc, {kX}), [](double x, double) { return 1 / std::sin(x); }},
      {A(Op::kCot, {kX}), [](double x, double) { return 1 / std::tan(x); }},
      {A(Op::kSinh, {kX}), [](double x, double) { return std::sinh(x); }},
      {A(Op::kCosh, {kX}), [](double x, double) { return std::cosh(x); }},
      {A(Op::kTanh, {kX}), [](double x, double) { return std::tanh(x); }},
      {A(Op::kSech, {kX}), [](double x, double) { return 1 / std::cosh(x); }},
      {A(Op::kCsch, {kX}), [](double x, double) { return 1 / std::sinh(x); }},
      {A(Op::kCoth, {kX}), [](double x, double) { return std::cosh(x) / std::sinh(x); }},
      {A(Op::kArcsin, {kX}), [](double x, double) { return std::asin(x); }},
      {A(Op::kArccos, {kX}), [](double x, double) { return std::acos(x); }},
      {A(Op::kArctan, {kX}), [](double x, double) { return std::atan(x); }},
      {A(Op::kArcsec, {kX}), [](double x, double) { return std::acos(1 / x); }},
      {A(Op::kArccsc, {kX}), [](double x, double) { return std::asin(1 / x); }},
      {A(Op::kArccot, {kX}), [](double x, double) { return std::atan(1 / x); }},
      {A(Op::kArcsinh, {kX}), [](double x, double) { return std::asinh(x); }},
      {A(Op::kArccosh, {kX}), [](double x, double) { return std::acosh(x); }},
      {A(Op::kArctanh, {kX}), [](double x, double) { return std::atanh(x); }},
      {A(Op::kArcsech, {kX}), [](double x, double) { return std::acosh(1 / x); }},
      {A(Op::kArccsch, {kX}), [](double x, double) { return std::asinh(1 / x); }},
      {A(Op::kArccoth, {kX}), [](double x, double) { return 0.5 * std::log((x + 1) / (x - 1)); }},
      {A(Op::kMin, {kX}), [](double x, double) { return x; }},
      {A(Op::kMin, {kX, kY, N(1)}), [](double x, double y) { return std::min({x, y, 1.0}); }},
      {A(Op::kMax, {kX, kY, N(1)}), [](double x, double y) { return std::max({x, y, 1.0}); }},
      {A(Op::kRem, {kX, kY}), [](double x, double y) { return std::fmod(x, y); }},
      {A(Op::kRem, {N(-7), N(3)}), [](double, double) { return -1.0; }},
      {A(Op::kQuotient, {kX, kY}), [](double x, double y) { return std::trunc(x / y); }},
      {A(Op::kQuotient, {N(-7), N(2)}), [](double, double) { return -3.0; }},
      {A(Op::kEq, {kX, kY}), [](double x, double y) { return B(x == y); }},
      {A(Op::kEq, {kX, kX, kY}), [](double x, double y) { return B(x == y); }},
      {A(Op::kNeq, {kX, kY}), [](double x, double y) { return B(x != y); }},
      {A(Op::kLt, {kX, kY}), [](double x, double y) { return B(x < y); }},
      {A(Op::kLt, {kX, kY, N(2)}), [](double x, double y) { return B(x < y && y < 2); }},
      {A(Op::kLe, {kX, kY}), [](double x, double y) { return B(x <= y); }},
      {A(Op::kGt, {kX, kY}), [](double x, double y) { return B(x > y); }},
      {A(Op::kGt, {N(3), kX, kY}), [](double x, double y) { return B(3 > x && x > y); }},
      {A(Op::kGe, {kX, kY}), [](double x, double y) { return B(x >= y); }},
      {A(Op::kGe, {kX, kX, kY}), [](double x, double y) { return B(x >= y); }},
      {A(Op::kAnd, {}), [](double, double) { return 1.0; }},
      {A(Op::kAnd, {kX}), [](double x, double) { return B(x != 0); }},
      {A(Op::kAnd, {kX, kY, N(1)}), [](double x, double y) { return B(x != 0 && y != 0); }},
      {A(Op::kAnd, {A(Op::kGt, {kX, N(0)}), A(Op::kLt, {kY, N(1)})}),
       [](double x, double y) { return B(x > 0 && y < 1); }},
      {A(Op::kOr, {}), [](double, double) { return 0.0; }},
      {A(Op::kOr, {A(Op::kGt, {kX, N(0)}), A(Op::kLt, {kY, N(1)})}),
       [](double x, double y) { return B(x > 0 || y < 1); }},
      {A(Op::kXor, {}), [](double, double) { return 0.0; }},
      {A(Op::kXor, {A(Op::kGt, {kX, N(0)}), A(Op::kLt, {kY, N(1)}), N(1)}),
       [](double x, double y) { return B(((x > 0) + (y < 1) + 1) % 2 == 1); }},
      {A(Op::kNot, {A(Op::kGt, {kX, kY})}), [](double x, double y) { return B(!(x > y)); }},
      {A(Op::kNot, {kX}), [](double x, double) { return B(x == 0); }},
      {A(Op::kImplies, {A(Op::kGt, {kX, N(0)}), A(Op::kLt, {kY, N(1)})}),
       [](double x, double y) { return B(!(x > 0) || y < 1); }},
      {A(Op::kPiecewise, {kX, A(Op::kLt, {kX, N(0)}), kY}),
       [](double x, double y) { return x < 0 ? x : y; }},
      {A(Op::kPiecewise, {N(1), A(Op::kLt, {kX, N(0)}), N(2), A(Op::kLt, {kY, N(1)})}),
       [nan](double x, double y) { return x < 0 ? 1.0 : y < 1 ? 2.0 : nan; }},
      {A(Op::kPiecewise, {N(1), A(Op::kLt, {kX, N(0)}), N(2), A(Op::kLt, {kX, N(1)}), N(3)}),
       [](double x, double) { return x < 0 ? 1.0 : x < 1 ? 2.0 : 3.0; }},
      {A(Op::kPiecewise, {kY}), [](double, double y) { return y; }},
      {A(Op::kPiecewise, {}), [nan](double, double) { return nan; }},
  };
}

TEST(LowerTest, EveryOpMatchesCmath) {
  const double xs[] = {-2.5, -0.7, 0.0, 0.3, 0.9, 1.5, 2.0, 4.0};
  const double ys[] = {-1.5, 0.4, 2.0, 3.0};
  int checked = 0;
  for (const Case& c : AllOps()) {
    Graph g;
    Result<NodeId> f = g.FromTree(c.e, SlotResolver(g));
    ASSERT_TRUE(f.ok()) << ToString(c.e) << ": " << f.status().ToString();
    const NodeId outs[] = {*f};
    Program p = Program::Compile(g, outs);
    std::vector<double> scratch = p.NewScratch();
    for (double x : xs) {
      for (double y : ys) {
        const double in[3] = {x, y, 0.0};
        const double ref = c.ref(x, y);
        const double eval = g.Evaluate(*f, in);
        double run = 0;
        p.Run(in, &run, scratch.data());
        // |v - ref| <= 1e-14 + 1e-13 |ref| (lowered forms such as
        // ln x / ln 2 versus log2 x differ by rounding only).
        EXPECT_TRUE(Near(eval, ref, 1e-14, 1e-13))
            << ToString(c.e) << " at x=" << x << " y=" << y << ": " << eval << " vs " << ref;
        EXPECT_TRUE(testing::SameValue(run, eval)) << ToString(c.e) << ": " << run << " vs " << eval;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 2000);
}

TEST(LowerTest, PiecewiseWithoutOtherwiseIsNaN) {
  Graph g;
  NodeId f = testing::Lower(g, "piecewise(1, s0 > 0)");
  const double neg[] = {-1.0};
  const double pos[] = {1.0};
  EXPECT_TRUE(std::isnan(g.Evaluate(f, neg)));
  EXPECT_EQ(g.Evaluate(f, pos), 1.0);
  // The first true condition wins.
  NodeId h = testing::Lower(g, "piecewise(1, s0 > 0, 2, s0 > -5, 3)");
  const double two[] = {2.0};
  const double m2[] = {-2.0};
  const double m9[] = {-9.0};
  EXPECT_EQ(g.Evaluate(h, two), 1.0);
  EXPECT_EQ(g.Evaluate(h, m2), 2.0);
  EXPECT_EQ(g.Evaluate(h, m9), 3.0);
}

TEST(LowerTest, WrongAritiesNameTheOperator) {
  Graph g;
  struct Bad {
    Expr e;
    std::string op_name;
  };
  const std::vector<Bad> bad = {
      {A(Op::kMinus, {kX, kY, kX}), "'minus'"},
      {A(Op::kMinus, {}), "'minus'"},
      {A(Op::kDivide, {kX}), "'divide'"},
      {A(Op::kPower, {kX, kY, kX}), "'pow'"},
      {A(Op::kRoot, {}), "'root'"},
      {A(Op::kLog, {kX, kY, kX}), "'log'"},
      {A(Op::kSin, {kX, kY}), "'sin'"},
      {A(Op::kExp, {}), "'exp'"},
      {A(Op::kMin, {}), "'min'"},
      {A(Op::kRem, {kX}), "'rem'"},
      {A(Op::kQuotient, {kX, kY, kY}), "'quotient'"},
      {A(Op::kNeq, {kX, kY, kX}), "'neq'"},
      {A(Op::kLt, {kX}), "'lt'"},
      {A(Op::kNot, {kX, kY}), "'not'"},
      {A(Op::kImplies, {kX}), "'implies'"},
      {A(Op::kPi, {kX}), "'pi'"},
  };
  for (const Bad& b : bad) {
    Result<NodeId> r = g.FromTree(b.e, SlotResolver(g));
    ASSERT_FALSE(r.ok()) << ToString(b.e);
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidModel);
    EXPECT_NE(r.status().message().find(b.op_name), std::string::npos) << r.status().message();
  }
}

TEST(LowerTest, ResolverSeesWholeNodes) {
  Graph g;
  std::vector<Op> seen;
  Graph::Resolver resolve = [&](const Expr& e) -> Result<NodeId> {
    seen.push_back(e.op);
    if (e.op == Op::kDelay) {
      EXPECT_EQ(e.args.size(), 2u);
      return g.Variable(5);
    }
    if (e.op == Op::kRateOf) return Unsupported("rateOf");
    return g.Variable(e.op == Op::kTime ? 1 : 0);
  };
  Expr e = A(Op::kPlus, {kX, Expr::Leaf(Op::kTime), A(Op::kDelay, {kX, N(2)})});
  Result<NodeId> f = g.FromTree(e, resolve);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(seen, (std::vector<Op>{Op::kSymbol, Op::kTime, Op::kDelay}));
  EXPECT_EQ(g.Variables(*f), (std::vector<uint32_t>{0, 1, 5}));
  Result<NodeId> r = g.FromTree(A(Op::kRateOf, {kX}), resolve);
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported);
  Result<NodeId> none = g.FromTree(kX, Graph::Resolver());
  EXPECT_EQ(none.status().code(), ErrorCode::kInvalidArgument);
}

TEST(LowerTest, DeepTreesDoNotRecurse) {
  // A left-leaning chain 20000 deep (the Expr destructor itself recurses,
  // which bounds how deep a test tree can be).
  Expr e = kX;
  for (int i = 0; i < 20000; ++i) {
    Expr next = Expr::Leaf(Op::kMinus);
    next.args.push_back(std::move(e));
    next.args.push_back(N(1));
    e = std::move(next);
  }
  Graph g;
  Result<NodeId> f = g.FromTree(e, SlotResolver(g));
  ASSERT_TRUE(f.ok());
  const double in[] = {5.0};
  EXPECT_EQ(g.Evaluate(*f, in), 5.0 - 20000.0);
}

}  // namespace
}  // namespace soma::expr
