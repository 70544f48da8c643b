// Program::Run against the reference walker Graph::Evaluate.

#include "expr/program.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "expr/expr_test_util.h"
#include "expr/gop_eval.h"
#include "expr/graph.h"

namespace soma::expr {
namespace {

using testing::RandomGraph;
using testing::SameValue;

void ExpectRunMatchesEvaluate(const Graph& g, const std::vector<NodeId>& outs, const double* in) {
  Program p = Program::Compile(g, outs);
  std::vector<double> scratch = p.NewScratch();
  std::vector<double> out(outs.size());
  p.Run(in, out.data(), scratch.data());
  for (size_t i = 0; i < outs.size(); ++i) {
    const double ref = g.Evaluate(outs[i], in);
    ASSERT_TRUE(SameValue(out[i], ref)) << "output " << i << ": " << out[i] << " vs " << ref;
  }
  // A second run on the same scratch gives the same result.
  std::vector<double> again(outs.size());
  p.Run(in, again.data(), scratch.data());
  for (size_t i = 0; i < outs.size(); ++i) ASSERT_TRUE(SameValue(again[i], out[i]));
}

TEST(ProgramTest, RandomGraphsMatchEvaluate) {
  for (uint32_t seed = 0; seed < 400; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    Graph g;
    std::vector<NodeId> pool = RandomGraph(g, rng, 10 + static_cast<int>(seed % 60));
    std::vector<NodeId> outs(pool.end() - 4, pool.end());
    outs.push_back(pool[rng() % pool.size()]);
    outs.push_back(g.Derivative(pool.back(), 0));
    outs.push_back(g.Derivative(pool.back(), 3));
    std::uniform_real_distribution<double> u(-3.0, 3.0);
    for (int trial = 0; trial < 4; ++trial) {
      double in[5];
      for (double& v : in) v = rng() % 7 == 0 ? std::round(u(rng)) : u(rng);
      ExpectRunMatchesEvaluate(g, outs, in);
    }
  }
}

TEST(ProgramTest, ConstantAndVariableOutputs) {
  Graph g;
  const NodeId c = g.Constant(4.5);
  const NodeId x = g.Variable(2);
  const NodeId s = g.Add(x, c);
  const NodeId outs[] = {c, x, s, x, c, g.Constant(-1.0)};
  Program p = Program::Compile(g, outs);
  EXPECT_EQ(p.num_outputs(), 6u);
  EXPECT_EQ(p.num_inputs(), 3u);
  std::vector<double> scratch = p.NewScratch();
  EXPECT_EQ(scratch.size(), p.scratch_size());
  const double in[] = {0.0, 0.0, 10.0};
  double out[6];
  p.Run(in, out, scratch.data());
  EXPECT_EQ(out[0], 4.5);
  EXPECT_EQ(out[1], 10.0);
  EXPECT_EQ(out[2], 14.5);
  EXPECT_EQ(out[3], 10.0);
  EXPECT_EQ(out[4], 4.5);
  EXPECT_EQ(out[5], -1.0);
}

TEST(ProgramTest, EmptyProgram) {
  Program p = Program::Compile(Graph(), {});
  std::vector<double> scratch = p.NewScratch();
  p.Run(nullptr, nullptr, scratch.data());
  EXPECT_EQ(p.num_instructions(), 0u);
  Program d;
  d.Run(nullptr, nullptr, nullptr);
}

TEST(ProgramTest, CommonSubexpressionsAreComputedOnce) {
  Graph g;
  const NodeId e = g.Unary(GOp::kExp, g.Mul(g.Variable(0), g.Variable(1)));
  const NodeId outs[] = {g.Add(e, g.Variable(0)), g.Mul(e, e), e};
  Program p = Program::Compile(g, outs);
  // 2 loads, x*y, exp, +, *: 6 instructions.
  EXPECT_EQ(p.num_instructions(), 6u);
}

TEST(ProgramTest, RegistersAreReused) {
  // A long chain needs O(1) live temporaries.
  Graph g;
  NodeId v = g.Variable(0);
  for (int i = 0; i < 1000; ++i) v = g.Add(g.Unary(GOp::kSin, v), g.Variable(1));
  const NodeId outs[] = {v};
  Program p = Program::Compile(g, outs);
  EXPECT_LT(p.scratch_size(), 10u);
  const double in[] = {0.3, 0.2};
  double out;
  std::vector<double> scratch = p.NewScratch();
  p.Run(in, &out, scratch.data());
  EXPECT_EQ(out, g.Evaluate(v, in));
}

TEST(ProgramTest, DeepChainsDoNotRecurse) {
  // 3 * 10^5 nodes deep: compile, evaluate, differentiate and substitute
  // must all be iterative.
  Graph g;
  const NodeId x = g.Variable(0);
  const NodeId y = g.Variable(1);
  NodeId v = x;
  for (int i = 0; i < 100000; ++i) {
    v = g.Add(g.Mul(g.Unary(GOp::kSin, v), g.Constant(0.999)), y);
  }
  ASSERT_GT(g.size(), 300000u);
  const NodeId dv = g.Derivative(v, 0);
  const NodeId dvy = g.Derivative(v, 1);
  const double in[] = {0.7, 0.01};
  ExpectRunMatchesEvaluate(g, {v, dv, dvy}, in);
  // The primal chain alone needs O(1) registers (with its derivatives every
  // primal value stays live until the derivative chain reads it).
  Program p = Program::Compile(g, {&v, 1});
  EXPECT_LT(p.scratch_size(), 64u);
  EXPECT_TRUE(g.DependsOn(v, 0));
  EXPECT_EQ(g.Variables(v), (std::vector<uint32_t>{0, 1}));
  const NodeId sub = g.Substitute(v, {{0, g.Constant(0.7)}, {1, g.Constant(0.01)}});
  ASSERT_TRUE(g.ConstantValue(sub).has_value());
  EXPECT_EQ(*g.ConstantValue(sub), g.Evaluate(v, in));
}

TEST(ProgramTest, SelectChoosesWithoutBranchingOnNaN) {
  Graph g;
  const NodeId x = g.Variable(0);
  // piecewise(ln(x), x > 0, -x): the untaken branch may be NaN.
  const NodeId f = g.Select(g.Binary(GOp::kGt, x, g.Constant(0.0)), g.Unary(GOp::kLn, x), g.Neg(x));
  const NodeId outs[] = {f};
  Program p = Program::Compile(g, outs);
  std::vector<double> scratch = p.NewScratch();
  double out;
  const double neg[] = {-2.0};
  p.Run(neg, &out, scratch.data());
  EXPECT_EQ(out, 2.0);
  const double pos[] = {std::exp(1.0)};
  p.Run(pos, &out, scratch.data());
  EXPECT_DOUBLE_EQ(out, 1.0);
}

TEST(ProgramTest, BlockAndGatheredVariableLoadsMatchEvaluate) {
  // Most of in[] read: one memcpy of the inputs. Few of many slots read:
  // one load per variable. Both give Evaluate's bits, also when a
  // variable is an output itself and when variables die early (their
  // registers must not be reused while the block copy owns them).
  std::vector<double> in(200);
  for (size_t i = 0; i < in.size(); ++i) in[i] = 0.25 * static_cast<double>(i) - 7.0;
  {
    Graph g;
    std::vector<NodeId> outs;
    for (uint32_t i = 0; i + 1 < 40; ++i) {
      outs.push_back(g.Mul(g.Variable(i), g.Unary(GOp::kExp, g.Variable(i + 1))));
    }
    outs.push_back(g.Variable(7));
    Program p = Program::Compile(g, outs);
    EXPECT_TRUE(p.block_load());
    EXPECT_EQ(p.num_inputs(), 40u);
    EXPECT_EQ(p.num_instructions(), 40u + 39u * 2u);
    ExpectRunMatchesEvaluate(g, outs, in.data());
  }
  {
    Graph g;
    const NodeId a = g.Variable(3), b = g.Variable(150);
    std::vector<NodeId> outs = {g.Sub(a, b), g.Div(b, a), b};
    Program p = Program::Compile(g, outs);
    EXPECT_FALSE(p.block_load());
    EXPECT_EQ(p.num_inputs(), 151u);
    EXPECT_EQ(p.num_instructions(), 4u);
    ExpectRunMatchesEvaluate(g, outs, in.data());
  }
}

}  // namespace
}  // namespace soma::expr

namespace soma::expr {
namespace {

// Distance in units in the last place between two finite doubles of the
// same sign.
int64_t UlpDistance(double a, double b) {
  int64_t ia = 0, ib = 0;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  return ia > ib ? ia - ib : ib - ia;
}

TEST(TanhOpTest, WithinThreeUnitsInTheLastPlaceOfTheExactValue) {
  // Against long double tanhl (64-bit significand) rounded to double, on a
  // dense grid over [-30, 30] and around the switch at |x| = 0.55. The
  // exp form is used from 0.55 on (gop_eval.h); glibc's tanh below.
  int64_t worst = 0;
  double worst_x = 0;
  auto check = [&](double x) {
    const double exact = static_cast<double>(std::tanh(static_cast<long double>(x)));
    const int64_t d = UlpDistance(internal::TanhOp(x), exact);
    if (d > worst) {
      worst = d;
      worst_x = x;
    }
  };
  for (int i = -300000; i <= 300000; ++i) check(i * 1e-4);
  for (int i = 0; i <= 1000000; ++i) {
    check(0.5 + i * 1e-7);
    check(-0.5 - i * 1e-7);
  }
  EXPECT_LE(worst, 3) << "at x = " << worst_x;
  // Odd, signed zeros, infinities and NaN as tanh has them.
  EXPECT_EQ(internal::TanhOp(-0.75), -internal::TanhOp(0.75));
  EXPECT_TRUE(std::signbit(internal::TanhOp(-0.0)));
  EXPECT_EQ(internal::TanhOp(0.0), 0.0);
  EXPECT_EQ(internal::TanhOp(INFINITY), 1.0);
  EXPECT_EQ(internal::TanhOp(-INFINITY), -1.0);
  EXPECT_EQ(internal::TanhOp(25.0), 1.0);
  EXPECT_TRUE(std::isnan(internal::TanhOp(NAN)));
  // No step down at the switch.
  EXPECT_LE(internal::TanhOp(std::nextafter(0.55, 0.0)), internal::TanhOp(0.55));
}

}  // namespace
}  // namespace soma::expr
