#include "scenario/scenario.h"

#include <gtest/gtest.h>

#include <cmath>

#include "formats/sbml/sbml_import.h"

namespace soma::scenario {
namespace {

// dX/dt = R - k X in a unit compartment (X a concentration), R an input rate.
constexpr char kElimination[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="elim">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="X" compartment="c" initialConcentration="0" hasOnlySubstanceUnits="false"
               boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfParameters>
      <parameter id="k" value="0.5" constant="true"/>
      <parameter id="R" value="0" constant="false"/>
      <parameter id="meal_rate" value="0" constant="false"/>
      <parameter id="meal_ingested" value="0" constant="false"/>
      <parameter id="twice_k" constant="false"/>
    </listOfParameters>
    <listOfRules>
      <assignmentRule variable="twice_k"><math xmlns="http://www.w3.org/1998/Math/MathML">
        <apply><times/><cn>2</cn><ci>k</ci></apply></math></assignmentRule>
    </listOfRules>
    <listOfReactions>
      <reaction id="in" reversible="false">
        <listOfProducts><speciesReference species="X" stoichiometry="1" constant="true"/></listOfProducts>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>c</ci><ci>R</ci></apply></math></kineticLaw>
      </reaction>
      <reaction id="out" reversible="false">
        <listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>c</ci><ci>k</ci><ci>X</ci></apply></math></kineticLaw>
      </reaction>
    </listOfReactions>
  </model>
</sbml>)";

model::Model Elimination() {
  auto imported = formats::ParseSbml(kElimination);
  EXPECT_TRUE(imported.ok()) << imported.status().ToString();
  return imported->model;
}

sim::SimulationOptions Tight() {
  sim::SimulationOptions o;
  o.integrator.rel_tol = 1e-10;
  o.integrator.abs_tol = 1e-12;
  return o;
}

Scenario Parse(const std::string& text) {
  auto s = ParseScenarioText(text);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : Scenario{};
}

double Outcome(const ScenarioRun& run, const std::string& name) {
  for (const auto& [n, v] : run.outcomes) {
    if (n == name) return v;
  }
  ADD_FAILURE() << "no outcome " << name;
  return NAN;
}

TEST(Scenario, RepeatedBolusesMatchTheAnalyticSolution) {
  // Three boluses of 2 at t = 1, 9, 17 into X; X(t) = sum 2 exp(-k (t - t_i)).
  Scenario s = Parse(R"({
    "schema": "soma.scenario/1", "name": "q8h", "end": 24, "steps": 240, "outputs": ["X"],
    "interventions": [{"type": "bolus", "target": "X", "amount": 2, "time": 1,
                       "repeat": {"every": 8, "count": 3}}],
    "outcomes": [{"name": "x20", "variable": "X", "metric": "value_at", "at": 20},
                 {"name": "auc", "variable": "X", "metric": "auc"},
                 {"name": "cmax", "variable": "X", "metric": "cmax"},
                 {"name": "tmax", "variable": "X", "metric": "tmax"}]})");
  ASSERT_EQ(s.changes.size(), 3u);
  auto run = RunScenario(s, Elimination(), Tight());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const double k = 0.5;
  double x20 = 0, auc = 0;
  for (double ti : {1.0, 9.0, 17.0}) {
    x20 += 2 * std::exp(-k * (20 - ti));
    auc += 2 / k * (1 - std::exp(-k * (24 - ti)));
  }
  EXPECT_NEAR(Outcome(*run, "x20"), x20, 1e-8);
  // The output row at a bolus time shows the value after the bolus, so the
  // trapezoid over the interval before it adds h * jump / 2 = 0.1 per bolus
  // (documented in outcomes.h); the rest is the trapezoid rule's O(h^2) error.
  EXPECT_NEAR(Outcome(*run, "auc"), auc + 3 * 0.5 * 0.1 * 2, 2e-3 * auc);
  EXPECT_NEAR(Outcome(*run, "cmax"), 2 + 2 * std::exp(-4.0) + 2 * std::exp(-8.0), 1e-8);
  EXPECT_NEAR(Outcome(*run, "tmax"), 17.0, 1e-12);
}

TEST(Scenario, MethodChoosesTheIntegrator) {
  // The repeated boluses again with "method": "rk45": the run uses the
  // explicit Runge-Kutta method (its summary says so) and gives the same
  // analytic values; without "method" the caller's method stays.
  const std::string text = R"({
    "schema": "soma.scenario/1", "name": "q8h", "end": 24, "steps": 240, "outputs": ["X"], "method": "rk45",
    "interventions": [{"type": "bolus", "target": "X", "amount": 2, "time": 1,
                       "repeat": {"every": 8, "count": 3}}],
    "outcomes": [{"name": "x20", "variable": "X", "metric": "value_at", "at": 20}]})";
  Scenario s = Parse(text);
  ASSERT_TRUE(s.method.has_value());
  EXPECT_EQ(*s.method, solvers::OdeMethod::kRungeKutta);
  auto run = RunScenario(s, Elimination(), Tight());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->trajectory.summary.integrator.method, solvers::OdeMethod::kRungeKutta);
  double x20 = 0;
  for (double ti : {1.0, 9.0, 17.0}) x20 += 2 * std::exp(-0.5 * (20 - ti));
  EXPECT_NEAR(Outcome(*run, "x20"), x20, 1e-8);

  Scenario plain = Parse(R"({"name": "x", "end": 1})");
  EXPECT_FALSE(plain.method.has_value());
  sim::SimulationOptions bdf = Tight();
  bdf.integrator.method = solvers::OdeMethod::kBdf;
  auto plain_run = RunScenario(plain, Elimination(), bdf);
  ASSERT_TRUE(plain_run.ok()) << plain_run.status().ToString();
  EXPECT_EQ(plain_run->trajectory.summary.integrator.method, solvers::OdeMethod::kBdf);

  auto bad = ParseScenarioText(R"({"name": "x", "end": 1, "method": "euler"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("method: method 'euler' is not one of auto, bdf, adams, rk45"),
            std::string::npos) << bad.status().message();
}

TEST(Scenario, InfusionAddsToTheRateAndStops) {
  // R = 0.3 from t = 2 to 6 on top of an initial override R = 0.1.
  Scenario s = Parse(R"({"name": "inf", "end": 10, "steps": 100, "outputs": ["X", "R"],
    "parameters": {"R": 0.1},
    "interventions": [{"type": "infusion", "target": "R", "rate": 0.3, "start": 2, "duration": 4}],
    "outcomes": [{"name": "x10", "variable": "X", "metric": "value_at", "at": 10},
                 {"name": "rmax", "variable": "R", "metric": "max"},
                 {"name": "r_end", "variable": "R", "metric": "value_at", "at": 10}]})");
  auto run = RunScenario(s, Elimination(), Tight());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const double k = 0.5;
  // Piecewise: X' = R - kX with R = 0.1, then 0.4 on [2, 6], then 0.1.
  auto step = [k](double x0, double r, double dt) { return r / k + (x0 - r / k) * std::exp(-k * dt); };
  double x = step(0.0, 0.1, 2);
  x = step(x, 0.4, 4);
  x = step(x, 0.1, 4);
  EXPECT_NEAR(Outcome(*run, "x10"), x, 1e-8);
  EXPECT_NEAR(Outcome(*run, "rmax"), 0.4, 1e-12);
  EXPECT_NEAR(Outcome(*run, "r_end"), 0.1, 1e-12);
}

TEST(Scenario, MealsBecomePerStepInputs) {
  // 12 g at t = 10, eaten at 5 g per 1-min step: 5, 5, 2 g.
  Scenario s = Parse(R"({"name": "meal", "end": 30,
    "meal_input": {"rate": "meal_rate", "ingested": "meal_ingested", "units_per_gram": 1000,
                   "eat_rate_g_per_step": 5, "step": 1},
    "interventions": [{"type": "meal", "time": 10, "grams": 12}]})");
  std::vector<std::tuple<double, std::string, double>> got;
  for (const auto& c : s.changes) got.emplace_back(c.time, c.target, c.value);
  std::vector<std::tuple<double, std::string, double>> want = {
      {10, "meal_rate", 5000}, {10, "meal_ingested", 5000}, {11, "meal_ingested", 10000},
      {12, "meal_rate", 2000}, {12, "meal_ingested", 12000}, {13, "meal_rate", 0}};
  EXPECT_EQ(got, want);
  auto run = RunScenario(s, Elimination(), Tight());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
}

TEST(Scenario, ErrorsNameTheField) {
  auto msg = [](const std::string& text) {
    auto s = ParseScenarioText(text);
    return s.ok() ? std::string("ok") : s.status().ToString();
  };
  EXPECT_NE(msg(R"({"name": "x", "end": 1, "colour": 1})").find("colour: unknown field"), std::string::npos);
  EXPECT_NE(msg(R"({"name": "x", "end": 1, "controllers": [{"name": "c", "every": 0}]})").find("controllers[0].every"), std::string::npos);
  EXPECT_NE(msg(R"({"name": "x", "end": 5, "interventions": [{"type": "infusion", "target": "R",
            "rate": 1, "start": 1, "duration": 0}]})").find("interventions[0].duration"), std::string::npos);
  EXPECT_NE(msg(R"({"name": "x", "end": 5, "interventions": [{"type": "meal", "time": 1, "grams": 5}]})")
                .find("meal_input"), std::string::npos);
  EXPECT_NE(msg(R"({"name": "x", "end": 5, "interventions": [{"type": "bolus", "target": "X",
            "amount": 1, "time": 9}]})").find("outside"), std::string::npos);
  EXPECT_NE(msg(R"({"name": "x", "end": 5, "interventions": [{"type": "dose", "time": 1}]})")
                .find("interventions[0].type"), std::string::npos);
  EXPECT_NE(msg("{not json").find("parse error"), std::string::npos);
  EXPECT_NE(msg(R"({"name": "x", "end": 1, "schema": "soma.scenario/9"})").find("unsupported"), std::string::npos);

  model::Model m = Elimination();
  Scenario bad = Parse(R"({"name": "x", "end": 1, "parameters": {"twice_k": 3}})");
  EXPECT_NE(ApplyScenario(bad, m).message().find("rule"), std::string::npos);
  Scenario unknown = Parse(R"({"name": "x", "end": 1, "interventions": [{"type": "set", "target": "nope",
                                "value": 1, "time": 0.5}]})");
  EXPECT_EQ(ApplyScenario(unknown, m).code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace soma::scenario
