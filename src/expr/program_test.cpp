// Program::Run against the reference walker Graph::Evaluate.

#include "expr/program.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
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

TEST(ProgramTest, ProgramsWithMoreRegistersThanSixteenBitsRunWide) {
  // 70,000 live outputs and as many constants: more registers than the
  // packed encoding's 16-bit fields hold, so Run takes the wide one.
  Graph g;
  const NodeId x = g.Variable(0), y = g.Variable(1);
  std::vector<NodeId> outs;
  for (int i = 0; i < 70000; ++i) outs.push_back(g.Sub(g.Mul(x, g.Constant(1.0 + i * 0.5)), y));
  const Program p = Program::Compile(g, outs);
  EXPECT_GT(p.scratch_size(), 1u << 16);
  ExpectRunMatchesEvaluate(g, outs, std::vector<double>{0.3, -2.0}.data());
}

TEST(ProgramTest, ArithmeticReadOnceIsFusedIntoItsReader) {
  // Every pair inner in {+, -, *, /} read by outer in {+, -, *, /} on either
  // side, or by a negation: one instruction after the three loads, and the
  // bits of the two separate operations (signed zeros included; any NaN).
  const GOp arith[] = {GOp::kAdd, GOp::kSub, GOp::kMul, GOp::kDiv};
  const double values[] = {0.0, -0.0, 1.5, -3.25, 1e308, -1e-310, std::numeric_limits<double>::infinity(), NAN, 7.0};
  for (GOp inner : arith) {
    for (int outer_k = 0; outer_k < 5; ++outer_k) {
      for (int side = 0; side < 2; ++side) {
        Graph g;
        const NodeId x = g.Variable(0), y = g.Variable(1), z = g.Variable(2);
        const NodeId u = g.Binary(inner, x, y);
        NodeId e;
        if (outer_k == 4) {
          if (side == 1) continue;
          e = g.Neg(u);
        } else {
          e = side == 0 ? g.Binary(arith[outer_k], u, z) : g.Binary(arith[outer_k], z, u);
        }
        const std::vector<NodeId> outs = {e};
        const Program p = Program::Compile(g, outs);
        EXPECT_EQ(p.num_instructions(), (outer_k == 4 ? 2u : 3u) + 1u)
            << internal::GOpName(inner) << " in outer " << outer_k << " side " << side;
        std::vector<double> scratch = p.NewScratch();
        for (double a : values) {
          for (double b : values) {
            for (double c : values) {
              const double in[] = {a, b, c};
              double out;
              p.Run(in, &out, scratch.data());
              const double ref = g.Evaluate(e, in);
              const bool same = (std::isnan(out) && std::isnan(ref)) ||
                                std::bit_cast<uint64_t>(out) == std::bit_cast<uint64_t>(ref);
              ASSERT_TRUE(same) << internal::GOpName(inner) << " in outer " << outer_k << " side " << side << " at (" << a
                                << ", " << b << ", " << c << "): " << out << " vs " << ref;
            }
          }
        }
      }
    }
  }
}

TEST(ProgramTest, ValuesReadTwiceOrOutputsAreNotFused) {
  Graph g;
  const NodeId x = g.Variable(0), y = g.Variable(1), z = g.Variable(2);
  const NodeId u = g.Mul(x, y);
  {
    // u is an output: it keeps its own instruction.
    const std::vector<NodeId> outs = {u, g.Add(u, z)};
    EXPECT_EQ(Program::Compile(g, outs).num_instructions(), 3u + 2u);
    ExpectRunMatchesEvaluate(g, outs, std::vector<double>{0.5, -2.0, 3.0}.data());
  }
  {
    // u read twice (u / (u - z)): computed once; one of its readers takes
    // u - z in, the other reads u's register.
    const std::vector<NodeId> outs = {g.Div(u, g.Sub(u, z))};
    EXPECT_EQ(Program::Compile(g, outs).num_instructions(), 3u + 2u);
    ExpectRunMatchesEvaluate(g, outs, std::vector<double>{0.5, -2.0, 3.0}.data());
  }
  {
    // A chain ((x*y)*z)*x: the first two fuse, the third reads a fused value.
    const std::vector<NodeId> outs = {g.Mul(g.Mul(u, z), x)};
    EXPECT_EQ(Program::Compile(g, outs).num_instructions(), 3u + 2u);
    ExpectRunMatchesEvaluate(g, outs, std::vector<double>{0.5, -2.0, 3.0}.data());
  }
}

TEST(ProgramTest, RunFiniteFindsNaNAndInfinityInEveryOutput) {
  // Outputs x_i * y computed (copied from registers), a plain variable, and
  // runs of one constant (filled): each bad value at each position is found,
  // from an input or made by an operation (1/0, 0/0), and RunFinite writes
  // what Run writes.
  const double bad[] = {std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (uint32_t n = 1; n <= 9; ++n) {
    Graph g;
    std::vector<NodeId> outs;
    for (uint32_t i = 0; i < n; ++i) outs.push_back(g.Div(g.Variable(i), g.Variable(20)));
    outs.push_back(g.Variable(21));
    for (int k = 0; k < 5; ++k) outs.push_back(g.Constant(0.0));
    for (int k = 0; k < 5; ++k) outs.push_back(g.Constant(-2.5));
    const Program p = Program::Compile(g, outs);
    std::vector<double> scratch = p.NewScratch();
    std::vector<double> in(22, 1.0), out(outs.size()), ref(outs.size());
    auto check = [&](bool expected, const std::string& what) {
      p.Run(in.data(), ref.data(), scratch.data());
      std::fill(out.begin(), out.end(), 99.0);
      EXPECT_EQ(p.RunFinite(in.data(), out.data(), scratch.data()), expected) << "n " << n << ": " << what;
      for (size_t i = 0; i < out.size(); ++i) EXPECT_TRUE(SameValue(out[i], ref[i])) << what << ", output " << i;
    };
    check(true, "all finite");
    for (uint32_t at = 0; at < n; ++at) {
      for (double b : bad) {
        in[at] = b;
        check(false, "input " + std::to_string(b) + " at " + std::to_string(at));
        in[at] = 1.0;
      }
      in[at] = 0.0;
      in[20] = 0.0;
      check(false, "0/0 at " + std::to_string(at));
      in[at] = 1.0;
      check(false, "1/0");
      in[20] = 1.0;
    }
    in[21] = bad[2];
    check(false, "a variable output");
    in[21] = std::numeric_limits<double>::max();
    check(true, "the largest finite value");
    in[21] = std::numeric_limits<double>::denorm_min();
    check(true, "a subnormal");
  }
  // A run of one non-finite constant is filled, and found.
  Graph g;
  const std::vector<NodeId> outs(6, g.Constant(std::numeric_limits<double>::infinity()));
  const Program p = Program::Compile(g, outs);
  std::vector<double> scratch = p.NewScratch(), out(outs.size());
  EXPECT_FALSE(p.RunFinite(nullptr, out.data(), scratch.data()));
  EXPECT_EQ(out[5], std::numeric_limits<double>::infinity());
}

TEST(ProgramTest, HoistedOperationsFollowTheirSteadyInputs) {
  // Random graphs with a random set of steady slots, run on a sequence of
  // inputs that changes unsteady slots, steady slots, nothing, or puts NaN
  // and -0.0 into a steady slot: every run gives Evaluate's bits, whether
  // the hoisted operations were recomputed or not.
  size_t hoisted = 0, programs_with_hoisting = 0;
  for (uint32_t seed = 0; seed < 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    Graph g;
    std::vector<NodeId> pool = RandomGraph(g, rng, 10 + static_cast<int>(seed % 80));
    std::vector<NodeId> outs(pool.end() - 5, pool.end());
    outs.push_back(pool[rng() % pool.size()]);
    outs.push_back(g.Derivative(pool.back(), 1));
    std::vector<bool> steady(5, false);
    for (size_t k = 0; k < steady.size(); ++k) steady[k] = (seed >> k) % 2 == 1 || k >= 3;
    const Program p = Program::Compile(g, outs, steady);
    hoisted += p.num_hoisted();
    programs_with_hoisting += p.num_hoisted() > 0 ? 1 : 0;
    std::vector<double> scratch = p.NewScratch();
    ASSERT_EQ(scratch.size(), p.scratch_size());
    std::uniform_real_distribution<double> u(-3.0, 3.0);
    double in[5];
    for (double& v : in) v = u(rng);
    std::vector<double> out(outs.size());
    for (int step = 0; step < 12; ++step) {
      const size_t k = rng() % 5;
      switch (step % 4) {
        case 0: break;  // the same inputs again
        case 1: in[k] = u(rng); break;
        case 2: in[k] = rng() % 2 == 0 ? std::numeric_limits<double>::quiet_NaN() : -0.0; break;
        case 3: in[k] = in[k] == 0.0 ? 0.0 : in[k]; break;  // -0.0 becomes +0.0: another bit pattern
      }
      p.Run(in, out.data(), scratch.data());
      for (size_t i = 0; i < outs.size(); ++i) {
        const double ref = g.Evaluate(outs[i], in);
        ASSERT_TRUE(SameValue(out[i], ref)) << "step " << step << " output " << i << ": " << out[i] << " vs " << ref;
      }
    }
  }
  EXPECT_GT(programs_with_hoisting, 100u);
  EXPECT_GT(hoisted, 1000u);
}

TEST(ProgramTest, TheFirstCallComputesHoistedValuesAlsoFromZeroInputs) {
  // Steady inputs that are +0.0 on the first call look like the zeroed
  // registers and copy of a new scratch buffer: the first call must still
  // run the hoisted operations (exp(k) is 1, not the register's 0). Both
  // with the block load (the guard compares with the block's registers)
  // and with gathered loads (it compares with its own copy).
  for (const uint32_t k_slot : {1u, 150u}) {
    Graph g;
    const NodeId k = g.Variable(k_slot), x = g.Variable(0);
    const NodeId steady_part = g.Add(g.Unary(GOp::kExp, k), g.Unary(GOp::kCos, g.Mul(k, g.Constant(3.0))));
    const std::vector<NodeId> outs = {g.Mul(g.Add(steady_part, g.Unary(GOp::kSqrt, g.Add(k, g.Constant(4.0)))), x)};
    std::vector<bool> steady(200, false);
    steady[k_slot] = true;
    const Program p = Program::Compile(g, outs, steady);
    ASSERT_GE(p.num_hoisted(), 4u);
    EXPECT_EQ(p.block_load(), k_slot == 1u);
    std::vector<double> in(200, 0.0);
    in[0] = 2.0;
    std::vector<double> scratch = p.NewScratch();
    double out = 0;
    p.Run(in.data(), &out, scratch.data());
    EXPECT_EQ(out, g.Evaluate(outs[0], in.data())) << "slot " << k_slot;
    EXPECT_EQ(out, 2.0 * (1.0 + 1.0 + 2.0));
  }
}

TEST(ProgramTest, HoistingKeepsTheRegistersOfLoadedVariables) {
  // Few of many slots read: each variable is loaded into a register of its
  // own on every call. A steady variable read only by hoisted operations
  // must keep that register, or its load would overwrite a hoisted value on
  // the next call that skips the prelude.
  Graph g;
  const NodeId k1 = g.Variable(150), k2 = g.Variable(151), k3 = g.Variable(3), x = g.Variable(7);
  const NodeId rate = g.Mul(g.Mul(k1, k2), g.Unary(GOp::kExp, g.Div(k3, k2)));  // steady: 4 operations
  const NodeId steady_out = g.Add(g.Mul(k1, k3), g.Constant(2.0));               // steady: 2 more
  const std::vector<NodeId> outs = {g.Mul(rate, x), g.Sub(x, g.Unary(GOp::kSqrt, k1)), steady_out,
                                    g.Mul(g.Mul(rate, x), x)};
  std::vector<bool> steady(200, false);
  for (uint32_t s : {3u, 150u, 151u}) steady[s] = true;
  const Program p = Program::Compile(g, outs, steady);
  EXPECT_FALSE(p.block_load());
  // 7 operations in 5 instructions: k3/k2, exp, (k1*k2)*exp, sqrt(k1),
  // k1*k3 + 2 (two fused pairs).
  EXPECT_EQ(p.num_hoisted(), 5u);
  EXPECT_EQ(p.num_guarded_inputs(), 3u);  // slot 3 and slots 150-151: two runs
  const Program plain = Program::Compile(g, outs);
  EXPECT_EQ(plain.num_hoisted(), 0u);
  EXPECT_EQ(plain.num_instructions(), p.num_instructions());
  std::vector<double> in(200, 0.0);
  in[3] = 0.7;
  in[7] = 2.0;
  in[150] = 1.5;
  in[151] = 4.0;
  std::vector<double> scratch = p.NewScratch();
  std::vector<double> out(outs.size());
  auto expect_evaluate = [&](const char* what) {
    p.Run(in.data(), out.data(), scratch.data());
    for (size_t i = 0; i < outs.size(); ++i) {
      const double ref = g.Evaluate(outs[i], in.data());
      EXPECT_TRUE(SameValue(out[i], ref)) << what << ", output " << i << ": " << out[i] << " vs " << ref;
    }
  };
  expect_evaluate("first call");
  expect_evaluate("same inputs");
  in[7] = -3.0;
  expect_evaluate("unsteady input changed");
  in[151] = 0.25;
  expect_evaluate("steady input changed");
  in[3] = -0.5;
  in[7] = 5.0;
  expect_evaluate("both changed");
  expect_evaluate("same inputs again");
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
