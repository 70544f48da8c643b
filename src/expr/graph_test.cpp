#include "expr/graph.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "expr/expr_test_util.h"

namespace soma::expr {
namespace {

using testing::Lower;

TEST(GraphTest, ConstantsAreInternedByBits) {
  Graph g;
  EXPECT_EQ(g.Constant(2.5), g.Constant(2.5));
  EXPECT_NE(g.Constant(0.0), g.Constant(-0.0));
  EXPECT_EQ(g.Constant(std::nan("1")), g.Constant(-std::nan("2")));
  EXPECT_EQ(g.ConstantValue(g.Constant(3.0)), 3.0);
  EXPECT_FALSE(g.ConstantValue(g.Variable(0)).has_value());
}

TEST(GraphTest, StructurallyEqualExpressionsShareNodes) {
  Graph g;
  NodeId c = Lower(g, "s1 * s3 * exp(s4 / 2) + sin(s3)");
  NodeId d = Lower(g, "sin(s3) + s3 * s1 * exp(s4 / 2)");  // commuted
  EXPECT_EQ(c, d);
  const size_t before = g.size();
  NodeId e = Lower(g, "s1 * s3 * exp(s4 / 2) + sin(s3)");
  EXPECT_EQ(c, e);
  EXPECT_EQ(g.size(), before);
}

TEST(GraphTest, FoldsConstants) {
  Graph g;
  EXPECT_EQ(g.ConstantValue(Lower(g, "2 * 3 + 4 ^ 0.5 - sin(0)")), 8.0);
  EXPECT_EQ(g.ConstantValue(Lower(g, "piecewise(1, 2 > 3, 7)")), 7.0);
  EXPECT_EQ(g.ConstantValue(Lower(g, "min(4, 2, 9)")), 2.0);
  EXPECT_TRUE(std::isnan(*g.ConstantValue(Lower(g, "0 / 0"))));
  EXPECT_EQ(g.ConstantValue(Lower(g, "1 / 0")), std::numeric_limits<double>::infinity());
}

TEST(GraphTest, SafeIdentities) {
  Graph g;
  const NodeId x = g.Variable(0);
  const NodeId y = g.Variable(1);
  const NodeId zero = g.Constant(0.0);
  const NodeId one = g.Constant(1.0);
  EXPECT_EQ(g.Add(x, zero), x);
  EXPECT_EQ(g.Add(zero, x), x);
  EXPECT_EQ(g.Sub(x, zero), x);
  EXPECT_EQ(g.Sub(zero, x), g.Neg(x));
  EXPECT_EQ(g.Mul(x, one), x);
  EXPECT_EQ(g.Mul(one, x), x);
  EXPECT_EQ(g.Mul(x, zero), zero);
  EXPECT_EQ(g.Mul(zero, x), zero);
  EXPECT_EQ(g.Div(x, one), x);
  EXPECT_EQ(g.Binary(GOp::kPow, x, one), x);
  EXPECT_EQ(g.Binary(GOp::kPow, x, zero), one);
  EXPECT_EQ(g.Neg(g.Neg(x)), x);
  EXPECT_EQ(g.Add(x, g.Neg(y)), g.Sub(x, y));
  EXPECT_EQ(g.Sub(x, g.Neg(y)), g.Add(x, y));
  EXPECT_EQ(g.Mul(x, g.Constant(-1.0)), g.Neg(x));
  EXPECT_EQ(g.Select(one, x, y), x);
  EXPECT_EQ(g.Select(zero, x, y), y);
  EXPECT_EQ(g.Select(g.Constant(NAN), x, y), x);  // NaN is true
  EXPECT_EQ(g.Select(g.Binary(GOp::kLt, x, y), x, x), x);
  const NodeId lt = g.Binary(GOp::kLt, x, y);
  EXPECT_EQ(g.Select(g.Unary(GOp::kNot, lt), x, y), g.Select(lt, y, x));
  EXPECT_EQ(g.Select(lt, one, zero), lt);
  EXPECT_EQ(g.Binary(GOp::kAnd, lt, one), lt);
  EXPECT_EQ(g.Binary(GOp::kAnd, x, zero), zero);
  EXPECT_EQ(g.Binary(GOp::kOr, x, one), one);
  // and(x, true) is the truth value of x, not x itself.
  EXPECT_EQ(g.Binary(GOp::kAnd, x, one), g.Binary(GOp::kNeq, x, zero));
}

TEST(GraphTest, EvaluateAndQueries) {
  Graph g;
  NodeId f = Lower(g, "s0 * s2 + exp(s2)");
  const double in[] = {2.0, 100.0, 0.5};
  EXPECT_DOUBLE_EQ(g.Evaluate(f, in), 2.0 * 0.5 + std::exp(0.5));
  EXPECT_TRUE(g.DependsOn(f, 0));
  EXPECT_FALSE(g.DependsOn(f, 1));
  EXPECT_TRUE(g.DependsOn(f, 2));
  EXPECT_EQ(g.Variables(f), (std::vector<uint32_t>{0, 2}));
  EXPECT_TRUE(g.Variables(g.Constant(1.0)).empty());
}

TEST(GraphTest, SubstituteResimplifies) {
  Graph g;
  NodeId f = Lower(g, "s0 * s1 + s1");
  NodeId h = g.Substitute(f, {{0, g.Constant(0.0)}});
  EXPECT_EQ(h, g.Variable(1));
  NodeId k = g.Substitute(f, {{1, g.Constant(2.0)}, {0, g.Constant(3.0)}});
  EXPECT_EQ(g.ConstantValue(k), 8.0);
  NodeId m = g.Substitute(f, {{1, g.Variable(7)}});
  EXPECT_EQ(m, Lower(g, "s0 * s7 + s7"));
}

TEST(GraphTest, ToStringIsReadableAndParseable) {
  Graph g;
  NodeId f = Lower(g, "piecewise(s0 + 1, s1 > 2, -s0 * 3)");
  std::string text = g.ToString(f);
  EXPECT_EQ(text, "piecewise(1 + $0, $1 > 2, (-$0) * 3)");
  auto named = [](uint32_t s) { return "s" + std::to_string(s); };
  std::string named_text = g.ToString(f, named);
  EXPECT_EQ(Lower(g, named_text), f);
}

TEST(GraphTest, TopologicalOrderIsAscendingAndComplete) {
  Graph g;
  NodeId f = Lower(g, "sin(s0) * cos(s0) + s1");
  NodeId h = Lower(g, "sin(s0) - 1");
  const NodeId roots[] = {f, h};
  std::vector<NodeId> order = g.TopologicalOrder(roots);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  for (NodeId id : order) {
    const Node& n = g.node(id);
    const NodeId ops[3] = {n.a, n.b, n.c};
    for (int i = 0; i < n.arity; ++i) {
      EXPECT_TRUE(std::binary_search(order.begin(), order.end(), ops[i]));
      EXPECT_LT(ops[i], id);
    }
  }
}

}  // namespace
}  // namespace soma::expr
