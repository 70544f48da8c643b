// Value overrides, explicit output times and continuation from a final state:
// each checked against the analytic decay solution or against the run it
// must equal.

#include <cmath>

#include <gtest/gtest.h>

#include "sim/sensitivity.h"
#include "sim/sim_test_util.h"
#include "sim/simulator.h"

namespace soma::sim {
namespace {

using namespace soma::sim::testing;  // NOLINT(google-build-using-namespace)

std::shared_ptr<const CompiledModel> MustCompile(const model::Model& m) {
  auto cm = CompiledModel::Compile(m);
  EXPECT_TRUE(cm.ok()) << cm.status().ToString();
  return cm.ok() ? *cm : nullptr;
}

TEST(OverridesTest, ParameterAndInitialValueOverridesMatchAnalyticSolution) {
  auto cm = MustCompile(DecayModel());
  ASSERT_NE(cm, nullptr);
  SimulationOptions o = TightOptions(3.0, 6);
  o.overrides = {{"k", 1.3}, {"A", 2.5}};
  auto r = Simulator(cm).Simulate(o, {{"A"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (size_t i = 0; i < r->rows; ++i) {
    const double t = r->at(i, 0);
    // |x - ref| <= 1e-10 + 1e-7 |ref|: CVODES at rel 1e-10.
    ExpectClose(r->at(i, 1), 2.5 * std::exp(-1.3 * t), 1e-10, 1e-7, "A");
  }
  // The compiled model is unchanged: the next run without overrides gives k = 0.5.
  auto plain = Simulator(cm).Simulate(TightOptions(3.0, 6), {{"A"}});
  ASSERT_TRUE(plain.ok());
  ExpectClose(plain->at(6, 1), std::exp(-0.5 * 3.0), 1e-10, 1e-7, "A without overrides");
}

TEST(OverridesTest, RefusesUnknownSymbolsAndValuesSetByInitialAssignments) {
  model::Model m = DecayModel();
  m.parameters.push_back({.id = "k2", .value = 1.0});
  m.initial_assignments.push_back({.symbol = "k2", .math = Mul({Num(2.0), Sym("k")})});
  auto cm = MustCompile(m);
  ASSERT_NE(cm, nullptr);
  SimulationOptions o = TightOptions(1.0, 2);
  o.overrides = {{"nope", 1.0}};
  auto r = Simulator(cm).Simulate(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.status().message().find("nope"), std::string::npos);
  o.overrides = {{"k2", 3.0}};
  r = Simulator(cm).Simulate(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("initial assignment"), std::string::npos);
  o.overrides = {{"k", std::nan("")}};
  EXPECT_FALSE(Simulator(cm).Simulate(o).ok());
}

TEST(OverridesTest, OutputTimesGiveRowsAtThoseTimesIncludingRepeats) {
  auto cm = MustCompile(DecayModel());
  ASSERT_NE(cm, nullptr);
  SimulationOptions o = TightOptions(5.0, 1);
  o.output_times = {0.25, 1.0, 1.0, 4.75};
  auto r = Simulator(cm).Simulate(o, {{"A"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows, 4u);
  for (size_t i = 0; i < r->rows; ++i) {
    EXPECT_EQ(r->at(i, 0), o.output_times[i]);
    ExpectClose(r->at(i, 1), std::exp(-0.5 * o.output_times[i]), 1e-10, 1e-7, "A");
  }
  o.output_times = {1.0, 0.5};
  EXPECT_EQ(Simulator(cm).Simulate(o).status().code(), ErrorCode::kInvalidArgument);
  o.output_times = {6.0};
  EXPECT_EQ(Simulator(cm).Simulate(o).status().code(), ErrorCode::kInvalidArgument);
}

TEST(OverridesTest, ContinuingFromFinalStateEqualsOneRun) {
  auto cm = MustCompile(DecayModel());
  ASSERT_NE(cm, nullptr);
  auto whole = Simulator(cm).Simulate(TightOptions(4.0, 4), {{"A"}, {"B"}});
  ASSERT_TRUE(whole.ok());
  auto first = Simulator(cm).Simulate(TightOptions(2.0, 2), {{"A"}, {"B"}});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->final_state.size(), cm->num_states());
  SimulationOptions o = TightOptions(4.0, 2);
  o.start = 2.0;
  o.initial_state = first->final_state;
  auto second = Simulator(cm).Simulate(o, {{"A"}, {"B"}});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  // Restarting the integrator changes the error path only: 1e-12 + 1e-8 relative.
  for (size_t c = 1; c <= 2; ++c) ExpectClose(second->at(2, c), whole->at(4, c), 1e-12, 1e-8, "end");
  o.initial_state.push_back(1.0);
  EXPECT_EQ(Simulator(cm).Simulate(o).status().code(), ErrorCode::kInvalidArgument);
}

TEST(OverridesTest, SensitivityPlanWithOverridesMatchesAnalyticDerivatives) {
  auto cm = MustCompile(DecayModel());
  ASSERT_NE(cm, nullptr);
  auto plan = PlanSensitivities(cm, {{"A"}}, {"k", "A"});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  for (double k : {0.2, 0.9}) {
    SimulationOptions o = TightOptions(2.0, 1);
    o.output_times = {0.5, 2.0};
    o.overrides = {{"k", k}, {"A", 3.0}};
    auto r = SimulateWithSensitivities(**plan, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->trajectory.rows, 2u);
    for (size_t i = 0; i < 2; ++i) {
      const double t = o.output_times[i], e = std::exp(-k * t);
      // |x - ref| <= 1e-9 + 1e-6 |ref|.
      ExpectClose(r->trajectory.at(i, 1), 3.0 * e, 1e-9, 1e-6, "A");
      ExpectClose(r->at(i, 0, 0), -3.0 * t * e, 1e-9, 1e-6, "dA/dk");
      ExpectClose(r->at(i, 0, 1), e, 1e-9, 1e-6, "dA/dA0");
    }
  }
}

}  // namespace
}  // namespace soma::sim
