// Graph::Derivative against central finite differences.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "expr/expr_test_util.h"
#include "expr/graph.h"
#include "expr/program.h"

namespace soma::expr {
namespace {

using testing::Lower;
using testing::Near;
using Points = std::vector<std::pair<double, double>>;

const Points kAny = {{-1.3, 0.7}, {-0.4, 2.2}, {0.35, -1.1}, {1.7, 0.45}, {2.9, 1.3}};
const Points kPosX = {{0.3, 0.7}, {1.0, 2.2}, {2.5, -1.1}, {7.0, 0.45}};
const Points kPosXY = {{0.3, 0.7}, {1.2, 2.2}, {2.5, 1.1}, {7.0, 0.45}};
const Points kPosXNotOne = {{0.3, 0.7}, {2.5, 2.2}, {7.0, 1.1}};
const Points kUnit = {{-0.7, 0.2}, {-0.2, 0.5}, {0.3, -0.4}, {0.8, 0.9}};
const Points kOutsideUnit = {{-3.0, 0.0}, {-1.5, 0.0}, {1.5, 0.0}, {3.0, 0.0}};
const Points kAboveOne = {{1.2, 0.0}, {2.0, 0.0}, {5.0, 0.0}};
const Points kZeroToOne = {{0.2, 0.0}, {0.5, 0.0}, {0.9, 0.0}};
const Points kFactorial = {{-0.5, 0.0}, {0.5, 0.0}, {1.3, 0.0}, {2.7, 0.0}, {4.0, 0.0}, {6.2, 0.0}, {12.5, 0.0}};

struct Case {
  std::string text;  // in x = slot 0, y = slot 1
  Points points;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"x + y", kAny}, {"x - y", kAny}, {"x * y", kAny}, {"x / y", kAny},
      {"x ^ y", kPosXY}, {"x ^ 3", kAny}, {"x ^ -2", kAny}, {"2 ^ x", kAny},
      {"x ^ 0.5", kPosX}, {"-x", kAny}, {"exp(x)", kAny}, {"ln(x)", kPosX},
      {"log(x)", kPosX}, {"log10(x)", kPosX}, {"log(2, x)", kPosX}, {"log(x, 3)", kPosXNotOne},
      {"sqrt(x)", kPosX}, {"root(3, x)", kPosX}, {"root(y, x)", kPosXY},
      {"abs(x)", kAny}, {"abs(x * y)", kAny}, {"floor(x)", kAny}, {"ceil(x)", kAny},
      {"factorial(x)", kFactorial}, {"factorial(x * y)", {{0.5, 1.5}, {2.0, 1.1}}},
      {"sin(x)", kAny}, {"cos(x)", kAny}, {"tan(x)", kAny}, {"sec(x)", kAny},
      {"csc(x)", kAny}, {"cot(x)", kAny}, {"sinh(x)", kAny}, {"cosh(x)", kAny},
      {"tanh(x)", kAny}, {"sech(x)", kAny}, {"csch(x)", kAny}, {"coth(x)", kAny},
      {"arcsin(x)", kUnit}, {"arccos(x)", kUnit}, {"arctan(x)", kAny},
      {"arcsec(x)", kOutsideUnit}, {"arccsc(x)", kOutsideUnit}, {"arccot(x)", kAny},
      {"arcsinh(x)", kAny}, {"arccosh(x)", kAboveOne}, {"arctanh(x)", kUnit},
      {"arcsech(x)", kZeroToOne}, {"arccsch(x)", kAny}, {"arccoth(x)", kOutsideUnit},
      {"min(x, y)", kAny}, {"max(x, y)", kAny}, {"min(x, 2 * y, 1)", kAny},
      {"max(x * y, y)", kAny}, {"rem(x, y)", kAny}, {"quotient(x, y)", kAny},
      {"x < y", kAny}, {"x == y", kAny}, {"and(x > 0, y > 0)", kAny},
      {"xor(x > 0, y > 0)", kAny}, {"not(x > 1)", kAny}, {"implies(x > 0, y > 1)", kAny},
      {"piecewise(x^2, x < 1, 3 * x * y)", kAny},
      {"piecewise(x, x < 0, y * x, y > 1, sin(x))", kAny},
      {"exp(-x * y) * sin(x + y^2) / (1 + x^2)", kAny},
      {"x ^ (y ^ 2)", kPosXY}, {"(x * y) ^ (x + y)", kPosXY},
      {"sqrt(x^2 + y^2) * tanh(x / y)", kAny},
      {"pi * x + exponentiale ^ y + avogadro * 1e-23 * x", kAny},
  };
  return cases;
}

double CentralDifference(const Graph& g, NodeId f, double x, double y, int slot) {
  double in[2] = {x, y};
  const double h = 1e-6 * std::max(1.0, std::fabs(in[slot]));
  in[slot] += h;
  const double up = g.Evaluate(f, in);
  in[slot] -= 2 * h;
  const double down = g.Evaluate(f, in);
  return (up - down) / (2 * h);
}

TEST(DerivativeTest, MatchesCentralDifferences) {
  int checked = 0;
  for (const Case& c : Cases()) {
    Graph g;
    const NodeId f = Lower(g, c.text);
    const NodeId dfdx = g.Derivative(f, 0);
    const NodeId dfdy = g.Derivative(f, 1);
    const NodeId outs[] = {dfdx, dfdy};
    Program p = Program::Compile(g, outs);
    std::vector<double> scratch = p.NewScratch();
    for (auto [x, y] : c.points) {
      const double in[2] = {x, y};
      double run[2];
      p.Run(in, run, scratch.data());
      for (int slot = 0; slot < 2; ++slot) {
        const double d = g.Evaluate(slot == 0 ? dfdx : dfdy, in);
        const double fd = CentralDifference(g, f, x, y, slot);
        // |d - fd| <= 1e-6 + 1e-5 |fd|.
        EXPECT_TRUE(Near(d, fd, 1e-6, 1e-5))
            << "d/d" << (slot == 0 ? "x" : "y") << " " << c.text << " at (" << x << ", " << y
            << "): symbolic " << d << ", finite difference " << fd << "; derivative "
            << g.ToString(slot == 0 ? dfdx : dfdy);
        EXPECT_TRUE(testing::SameValue(run[slot], d)) << c.text;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 500);
}

TEST(DerivativeTest, SimplifiedAndMemoized) {
  Graph g;
  const NodeId x = g.Variable(0);
  const NodeId y = g.Variable(1);
  EXPECT_EQ(g.Derivative(g.Mul(x, y), 0), y);
  EXPECT_EQ(g.Derivative(Lower(g, "sin(y) * exp(y)"), 0), g.Constant(0.0));
  EXPECT_EQ(g.Derivative(Lower(g, "x + 3 * y"), 1), g.Constant(3.0));
  EXPECT_EQ(g.Derivative(Lower(g, "x^2"), 0), g.Mul(g.Constant(2.0), x));
  const NodeId f = Lower(g, "exp(x * y) / (1 + x)");
  const NodeId d1 = g.Derivative(f, 0);
  const size_t size = g.size();
  EXPECT_EQ(g.Derivative(f, 0), d1);
  EXPECT_EQ(g.size(), size);
  // abs, min, max: select on the active branch.
  EXPECT_EQ(g.node(g.Derivative(Lower(g, "abs(x)"), 0)).op, GOp::kSelect);
}

TEST(DerivativeTest, RemWithRespectToDivisor) {
  // d fmod(a, b)/db = -trunc(a/b).
  Graph g;
  const NodeId f = Lower(g, "rem(x, y)");
  const NodeId d = g.Derivative(f, 1);
  const double in[] = {7.5, 2.0};
  EXPECT_EQ(g.Evaluate(d, in), -3.0);
  const double neg[] = {-7.5, 2.0};
  EXPECT_EQ(g.Evaluate(d, neg), 3.0);
}

}  // namespace
}  // namespace soma::expr
