#include "scenario/decay_sbml_test_util.h"
#include "scenario/controller.h"

#include <gtest/gtest.h>

#include <cmath>

#include "formats/sbml/sbml_import.h"
#include "scenario/scenario.h"

namespace soma::scenario {
namespace {

// dX/dt = -k X, X(0) = 0, k a non-constant parameter (0.5).
const std::string kDecay = testing::DecaySbml(testing::RateParameter::kChangeable);

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto imported = formats::ParseSbml(kDecay);
    ASSERT_TRUE(imported.ok());
    model_ = imported->model;
    sim_.integrator.rel_tol = 1e-11;
    sim_.integrator.abs_tol = 1e-13;
  }
  Result<ScenarioRun> Run(const nlohmann::json& controllers) {
    nlohmann::json j = {{"name", "ctl"}, {"end", 12}, {"steps", 1200}, {"outputs", {"X", "k"}},
                        {"interventions", {{{"type", "bolus"}, {"target", "X"}, {"amount", 1}, {"time", 0}}}},
                        {"controllers", controllers}};
    auto s = ParseScenario(j);
    if (!s.ok()) return s.status();
    return RunScenario(*s, model_, sim_);
  }
  model::Model model_;
  sim::SimulationOptions sim_;
};

// Correction rule: every 1, if X < 0.3 and no correction in the last 2 time
// units, add 0.5 - X. Hand computation: between samples X decays by
// exp(-0.5); at a sample the rule sees the state after the t = 0 bolus.
// (X < 0.3 first at t = 3: X = e^-1.5 = 0.2231 -> 0.5; then 0.5 e^-0.5 =
// 0.3033 at t = 4 is not below 0.3; 0.5 e^-1 = 0.1839 at t = 5 -> 0.5; ...)
TEST_F(ControllerTest, CorrectionBolusMatchesHandComputation) {
  auto run = Run({{{"name", "correction"}, {"every", 1}, {"when", "X < 0.3 && time - last_action >= 2"},
                   {"action", {{"type", "bolus"}, {"target", "X"}, {"amount", "0.5 - X"}}}}});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  // Reference: the exact solution sample by sample.
  std::vector<double> at_sample(13);  // X just after each sample's action
  std::vector<int> doses;
  double x = 1.0, last = -1e300;
  for (int t = 0; t <= 12; ++t) {
    if (t > 0) x *= std::exp(-0.5);
    if (x < 0.3 && t - last >= 2) {
      x += 0.5 - x;
      last = t;
      doses.push_back(t);
    }
    at_sample[t] = x;
  }
  EXPECT_EQ(doses, (std::vector<int>{3, 5, 7, 9, 11}));
  const auto& tr = run->trajectory;
  for (size_t row = 0; row < tr.rows; ++row) {
    const double t = tr.at(row, 0);
    const int k = static_cast<int>(std::floor(t + 1e-9));
    const double ref = at_sample[k] * std::exp(-0.5 * (t - k));
    // |x - ref| <= 1e-9 + 1e-8 |ref| (CVODES at rel 1e-11 over 12 time units)
    ASSERT_NEAR(tr.at(row, 1), ref, 1e-9 + 1e-8 * ref) << "t = " << t;
  }
}

// Set rule without a condition: every 2, k := 2 X. Then on [2j, 2j + 2)
// X decays with rate k_j = 2 X(2j): X(2j + 2) = X(2j) exp(-2 k_j).
TEST_F(ControllerTest, StateDependentSetMatchesHandComputation) {
  auto run = Run({{{"name", "titrate"}, {"every", 2}, {"end", 10},
                   {"action", {{"type", "set"}, {"target", "k"}, {"value", "2 * X"}}}}});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const auto& tr = run->trajectory;
  double x = 1.0, k = 0.5;
  for (size_t row = 0; row < tr.rows; ++row) {
    const double t = tr.at(row, 0);
    // Sample times 0, 2, ..., 10; k stays after the last one.
    const int j = std::min(5, static_cast<int>(std::floor(t / 2 + 1e-9)));
    double xs = 1.0;
    for (int i = 0; i < j; ++i) xs *= std::exp(-2 * (2 * xs));
    k = 2 * xs;
    x = xs * std::exp(-k * (t - 2 * j));
    ASSERT_NEAR(tr.at(row, 1), x, 1e-9 + 1e-8 * x) << "t = " << t;
    // k = 2 X(t_j) carries the integration error of X(t_j).
    ASSERT_NEAR(tr.at(row, 2), k, 1e-10 + 1e-8 * k) << "t = " << t;
  }
}

TEST_F(ControllerTest, ErrorsNameTheController) {
  auto bad_symbol = Run({{{"name", "c"}, {"every", 1}, {"when", "G > 180"},
                          {"action", {{"type", "bolus"}, {"target", "X"}, {"amount", 1}}}}});
  EXPECT_EQ(bad_symbol.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(bad_symbol.status().message().find("'G'"), std::string::npos) << bad_symbol.status().ToString();
  auto constant_target = Run({{{"name", "c"}, {"every", 1},
                               {"action", {{"type", "set"}, {"target", "c"}, {"value", 1}}}}});
  EXPECT_EQ(constant_target.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(constant_target.status().message().find("controllers[0] 'c'.action.target"), std::string::npos)
      << constant_target.status().ToString();
  auto bad_text = Run({{{"name", "c"}, {"every", 1}, {"when", "X >"},
                        {"action", {{"type", "bolus"}, {"target", "X"}, {"amount", 1}}}}});
  EXPECT_NE(bad_text.status().message().find("controllers[0].when"), std::string::npos);
  auto bad_type = Run({{{"name", "c"}, {"every", 1}, {"action", {{"type", "pump"}, {"target", "X"}}}}});
  EXPECT_NE(bad_type.status().message().find("controllers[0].action.type"), std::string::npos);
}

TEST(ControllerSamples, StartStepEndInclusive) {
  Controller c;
  c.start = 0;
  c.every = 0.1;
  c.end = 0.3;
  EXPECT_EQ(SampleTimes(c).size(), 4u);
  EXPECT_DOUBLE_EQ(SampleTimes(c).back(), 0.3);
}

}  // namespace
}  // namespace soma::scenario
