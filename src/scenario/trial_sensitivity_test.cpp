// Sensitivity of trial outcomes to the population inputs, against the
// analytic indices of y = X0 exp(-k) (scenario/trial_sensitivity.h).

#include "scenario/trial_sensitivity.h"

#include <gtest/gtest.h>

#include <cmath>

#include "formats/sbml/sbml_import.h"
#include "scenario/trial.h"

namespace soma::scenario {
namespace {

// dX/dt = -k X; `unused` appears nowhere in the math.
constexpr char kDecay[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="decay">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies><species id="X" compartment="c" initialConcentration="1" hasOnlySubstanceUnits="false"
      boundaryCondition="false" constant="false"/></listOfSpecies>
    <listOfParameters><parameter id="k" value="0.5" constant="true"/>
      <parameter id="unused" value="0.5" constant="true"/></listOfParameters>
    <listOfReactions><reaction id="out" reversible="false">
      <listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>
      <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>c</ci><ci>k</ci><ci>X</ci></apply></math></kineticLaw>
    </reaction></listOfReactions>
  </model>
</sbml>)";

nlohmann::json TrialJson(const nlohmann::json& sensitivity) {
  nlohmann::json scenario = {{"name", "s"}, {"end", 1}, {"steps", 10}, {"outputs", {"X"}},
                             {"outcomes", {{{"name", "x1"}, {"variable", "X"}, {"metric", "value_at"}, {"at", 1}}}}};
  return {{"name", "gsa"},
          {"scenarios", {scenario}},
          {"population", {{"size", 2}, {"parameters", {{"X", {{"distribution", "uniform"}, {"lower", 1}, {"upper", 2}}},
                                                       {"k", {{"distribution", "uniform"}, {"lower", 0}, {"upper", 1}}},
                                                       {"unused", {{"distribution", "uniform"}, {"lower", 0}, {"upper", 1}}}}}}},
          {"sensitivity", sensitivity}};
}

class TrialSensitivity : public ::testing::Test {
 protected:
  void SetUp() override {
    auto imported = formats::ParseSbml(kDecay);
    ASSERT_TRUE(imported.ok());
    model_ = imported->model;
    options_.simulation.integrator.rel_tol = 1e-10;
    options_.simulation.integrator.abs_tol = 1e-12;
  }
  model::Model model_;
  TrialOptions options_;
};

// y = a b with a = X0 ~ U(1, 2), b = exp(-k), k ~ U(0, 1) independent:
// V = E[a^2] E[b^2] - (E a E b)^2, S_a = Var(a) (E b)^2 / V,
// S_k = (E a)^2 Var(b) / V, ST_a = 1 - S_k, ST_k = 1 - S_a, unused 0.
TEST_F(TrialSensitivity, SobolIndicesMatchTheAnalyticValues) {
  auto trial = ParseTrial(TrialJson({{"method", "sobol"}, {"samples", 2048}, {"bootstrap", 100}, {"seed", 3}}), ".");
  ASSERT_TRUE(trial.ok()) << trial.status().ToString();
  auto out = RunTrialSensitivity(*trial, model_, options_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const double ea = 1.5, va = 1.0 / 12, ea2 = ea * ea + va;
  const double eb = 1 - std::exp(-1.0), eb2 = (1 - std::exp(-2.0)) / 2, vb = eb2 - eb * eb;
  const double v = ea2 * eb2 - ea * ea * eb * eb;
  const double sa = va * eb * eb / v, sk = ea * ea * vb / v;
  // Inputs in the population's (alphabetical) order: X, k, unused.
  ASSERT_EQ((*out)["inputs"], nlohmann::json({"X", "k", "unused"}));
  EXPECT_EQ((*out)["runs"], 2048 * 5);
  EXPECT_EQ((*out)["failed_runs"], 0);
  const auto& o = (*out)["outcomes"][0];
  ASSERT_FALSE(o.contains("error")) << o.dump();
  EXPECT_NEAR(o["variance"].get<double>(), v, 0.05 * v);
  // Monte Carlo estimators with n = 2048. Repeating this design with other
  // seeds (NumPy, same estimators) spreads the first-order estimates by
  // about +-0.08 and the total ones by +-0.03 around the exact values, so:
  // |S - exact| <= 0.15, |ST - exact| <= 0.06, and each exact value inside
  // its 95% bootstrap interval widened by 0.02.
  EXPECT_NEAR(o["first"][0].get<double>(), sa, 0.15);
  EXPECT_NEAR(o["first"][1].get<double>(), sk, 0.15);
  EXPECT_NEAR(o["total"][0].get<double>(), 1 - sk, 0.06);
  EXPECT_NEAR(o["total"][1].get<double>(), 1 - sa, 0.06);
  EXPECT_NEAR(o["first"][2].get<double>(), 0.0, 0.15);
  const double exact_first[] = {sa, sk}, exact_total[] = {1 - sk, 1 - sa};
  for (int i = 0; i < 2; ++i) {
    EXPECT_GE(exact_first[i], o["first_low"][i].get<double>() - 0.02) << o.dump();
    EXPECT_LE(exact_first[i], o["first_high"][i].get<double>() + 0.02) << o.dump();
    EXPECT_GE(exact_total[i], o["total_low"][i].get<double>() - 0.02) << o.dump();
    EXPECT_LE(exact_total[i], o["total_high"][i].get<double>() + 0.02) << o.dump();
  }
  // Moving only `unused` leaves y bit for bit unchanged: total index exactly 0.
  EXPECT_EQ(o["total"][2].get<double>(), 0.0);
  for (int i = 0; i < 2; ++i) {
    EXPECT_LE(o["first_low"][i].get<double>(), o["first"][i].get<double>());
    EXPECT_GE(o["first_high"][i].get<double>(), o["first"][i].get<double>());
    EXPECT_LT(o["total_high"][i].get<double>() - o["total_low"][i].get<double>(), 0.2);
  }
}

// Morris on the p = 4 grid: the unit step maps to a step of (1 - 1/p) in
// X0 (uniform width 1 after the level-midpoint shrink), so the effect of X0
// is (1 - 1/p) exp(-k) in [(1 - 1/p) / e, 1 - 1/p]; k's effects are all
// negative; `unused` has none.
TEST_F(TrialSensitivity, MorrisScreening) {
  auto trial = ParseTrial(TrialJson({{"method", "morris"}, {"trajectories", 30}, {"levels", 4}, {"seed", 5}}), ".");
  ASSERT_TRUE(trial.ok()) << trial.status().ToString();
  auto out = RunTrialSensitivity(*trial, model_, options_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)["runs"], 30 * 4);
  const auto& o = (*out)["outcomes"][0];
  ASSERT_FALSE(o.contains("error")) << o.dump();
  const double mu_x = o["mu_star"][0].get<double>();
  EXPECT_GE(mu_x, 0.75 / std::exp(1.0) - 1e-6);
  EXPECT_LE(mu_x, 0.75 + 1e-6);
  EXPECT_LT(o["mu"][1].get<double>(), 0.0);
  EXPECT_NEAR(o["mu_star"][1].get<double>(), -o["mu"][1].get<double>(), 1e-12);
  EXPECT_EQ(o["mu_star"][2].get<double>(), 0.0);
  EXPECT_EQ(o["sigma"][2].get<double>(), 0.0);
}

TEST_F(TrialSensitivity, RefusedWithoutIndependentDistributions) {
  nlohmann::json j = TrialJson({{"method", "sobol"}, {"samples", 8}});
  j["population"]["correlation"] = {{"parameters", {"X", "k"}}, {"matrix", {{1, 0.3}, {0.3, 1}}}};
  auto trial = ParseTrial(j, ".");
  ASSERT_TRUE(trial.ok()) << trial.status().ToString();
  auto out = RunTrialSensitivity(*trial, model_, options_);
  EXPECT_EQ(out.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("independent"), std::string::npos);
  EXPECT_EQ(ParseTrial(TrialJson({{"method", "fast"}}), ".").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(ParseTrial(TrialJson({{"method", "morris"}, {"levels", 3}}), ".").status().message().find("levels"),
            std::string::npos);
}

}  // namespace
}  // namespace soma::scenario
