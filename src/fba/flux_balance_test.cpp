// Flux balance analysis on small linear programs with known optima (worked
// by hand below each test), the non-optimal outcomes, and values that fbc
// models set through initial assignments. Fluxes and objective values are
// compared with |x - expected| <= 1e-9 (GLPK's simplex is exact up to
// rounding on these problems, tolerances 1e-9).

#include "fba/flux_balance.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "formats/sbml/sbml_import.h"

namespace soma::fba {
namespace {

constexpr double kTol = 1e-9;
constexpr double kInf = INFINITY;

// Builds IR models for LPs: species, reactions "A + 2 B -> C", bounds.
class ModelBuilder {
 public:
  ModelBuilder() {
    m_.id = "lp";
    m_.compartments.push_back({"c", "", 3, 1.0, true, "", {}});
    m_.flux_balance.emplace();
  }
  ModelBuilder& Species(const std::string& id, bool boundary = false) {
    model::Species s;
    s.id = id;
    s.compartment = "c";
    s.initial_amount = 0;
    s.boundary_condition = boundary;
    m_.species.push_back(s);
    return *this;
  }
  // reactants/products: {species, stoichiometry}
  ModelBuilder& Reaction(const std::string& id, std::vector<std::pair<std::string, double>> reactants,
                         std::vector<std::pair<std::string, double>> products, double lower = -kInf,
                         double upper = kInf) {
    model::Reaction r;
    r.id = id;
    for (auto& [s, n] : reactants) r.reactants.push_back({"", s, n, true, std::nullopt});
    for (auto& [s, n] : products) r.products.push_back({"", s, n, true, std::nullopt});
    m_.reactions.push_back(r);
    model::FluxBounds b{id, {}, {}};
    if (lower > -kInf) b.lower.value = lower;
    if (upper < kInf) b.upper.value = upper;
    m_.flux_balance->bounds.push_back(b);
    return *this;
  }
  ModelBuilder& Objective(const std::string& id, model::ObjectiveSense sense,
                          std::vector<model::FluxObjective> terms, bool active = true) {
    m_.flux_balance->objectives.push_back({id, "", sense, std::move(terms)});
    if (active) m_.flux_balance->active_objective = id;
    return *this;
  }
  model::Model Build() const { return m_; }

 private:
  model::Model m_;
};

constexpr auto kMax = model::ObjectiveSense::kMaximize;
constexpr auto kMin = model::ObjectiveSense::kMinimize;

TEST(FluxBalanceTest, LinearChainCarriesTheUptakeLimit) {
  // -> A -> B -> with uptake in [0, 10]: max export = 10, every flux 10.
  model::Model m = ModelBuilder()
                       .Species("A").Species("B")
                       .Reaction("up", {}, {{"A", 1}}, 0, 10)
                       .Reaction("conv", {{"A", 1}}, {{"B", 1}})
                       .Reaction("out", {{"B", 1}}, {}, 0)
                       .Objective("obj", kMax, {{"out", 1}})
                       .Build();
  Result<FbaResult> r = SolveFluxBalance(m);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status(), FbaStatus::kOptimal);
  EXPECT_EQ(r->objective_id, "obj");
  EXPECT_NEAR(r->objective_value, 10, kTol);
  EXPECT_NEAR(r->Flux("up"), 10, kTol);
  EXPECT_NEAR(r->Flux("conv"), 10, kTol);
  EXPECT_NEAR(r->Flux("out"), 10, kTol);
  EXPECT_EQ(r->summary.reactions, 3);
  EXPECT_EQ(r->summary.balanced_species, 2);
}

TEST(FluxBalanceTest, TextbookLpWithUniqueOptimum) {
  // max 3x + 5y  s.t.  x <= 4, 2y <= 12, 3x + 2y <= 18  (optimum 36 at
  // x = 2, y = 6). Resources R1, R2 come from supply reactions with the
  // right-hand sides as upper bounds; x and y consume them.
  model::Model m = ModelBuilder()
                       .Species("R1").Species("R2")
                       .Reaction("s1", {}, {{"R1", 1}}, 0, 18)
                       .Reaction("s2", {}, {{"R2", 1}}, 0, 12)
                       .Reaction("x", {{"R1", 3}}, {}, 0, 4)
                       .Reaction("y", {{"R1", 2}, {"R2", 2}}, {}, 0)
                       .Objective("profit", kMax, {{"x", 3}, {"y", 5}})
                       .Build();
  Result<FbaResult> r = SolveFluxBalance(m);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status(), FbaStatus::kOptimal);
  EXPECT_NEAR(r->objective_value, 36, kTol);
  EXPECT_NEAR(r->Flux("x"), 2, kTol);
  EXPECT_NEAR(r->Flux("y"), 6, kTol);
  EXPECT_NEAR(r->Flux("s1"), 18, kTol);
  EXPECT_NEAR(r->Flux("s2"), 12, kTol);
}

TEST(FluxBalanceTest, MinimiseWithAForcedFlux) {
  // -> A (v1 >= 0), A -> 2 B (v2), B -> (v3 >= 3): minimum uptake is 1.5.
  model::Model m = ModelBuilder()
                       .Species("A").Species("B")
                       .Reaction("v1", {}, {{"A", 1}}, 0)
                       .Reaction("v2", {{"A", 1}}, {{"B", 2}})
                       .Reaction("v3", {{"B", 1}}, {}, 3)
                       .Objective("uptake", kMin, {{"v1", 1}})
                       .Build();
  Result<FbaResult> r = SolveFluxBalance(m);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status(), FbaStatus::kOptimal);
  EXPECT_NEAR(r->objective_value, 1.5, kTol);
  EXPECT_NEAR(r->Flux("v3"), 3, kTol);
}

TEST(FluxBalanceTest, BoundarySpeciesAreNotBalanced) {
  // X is a boundary species: X -> A needs no supply of X.
  model::Model m = ModelBuilder()
                       .Species("X", /*boundary=*/true).Species("A")
                       .Reaction("in", {{"X", 1}}, {{"A", 1}}, 0, 2)
                       .Reaction("out", {{"A", 1}}, {{"X", 1}}, 0)
                       .Objective("obj", kMax, {{"out", 1}})
                       .Build();
  Result<FbaResult> r = SolveFluxBalance(m);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->objective_value, 2, kTol);
  EXPECT_EQ(r->summary.balanced_species, 1);
}

TEST(FluxBalanceTest, OnlyBoundsWhenNoSpeciesIsBalanced) {
  // Every species is a boundary species: the LP has no rows.
  model::Model m = ModelBuilder()
                       .Species("X", /*boundary=*/true)
                       .Reaction("r", {{"X", 1}}, {}, -1, 5)
                       .Objective("obj", kMin, {{"r", 2}})
                       .Build();
  Result<FbaResult> r = SolveFluxBalance(m);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status(), FbaStatus::kOptimal);
  EXPECT_EQ(r->summary.balanced_species, 0);
  EXPECT_NEAR(r->objective_value, -2, kTol);
  EXPECT_NEAR(r->Flux("r"), -1, kTol);
}

TEST(FluxBalanceTest, InfeasibleBoundsAreAnOutcome) {
  // Production fixed at 1, consumption at most 0.5: A cannot balance.
  model::Model m = ModelBuilder()
                       .Species("A")
                       .Reaction("in", {}, {{"A", 1}}, 1, 1)
                       .Reaction("out", {{"A", 1}}, {}, 0, 0.5)
                       .Objective("obj", kMax, {{"out", 1}})
                       .Build();
  Result<FbaResult> r = SolveFluxBalance(m);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status(), FbaStatus::kInfeasible);
  EXPECT_TRUE(std::isnan(r->objective_value));
  EXPECT_TRUE(std::isnan(r->Flux("in")));
}

TEST(FluxBalanceTest, InvertedBoundsAreInfeasibleNamingTheReaction) {
  model::Model m = ModelBuilder()
                       .Species("A")
                       .Reaction("in", {}, {{"A", 1}}, 2, 1)
                       .Reaction("out", {{"A", 1}}, {})
                       .Objective("obj", kMax, {{"out", 1}})
                       .Build();
  Result<FbaResult> r = SolveFluxBalance(m);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status(), FbaStatus::kInfeasible);
  EXPECT_NE(r->summary.message.find("'in'"), std::string::npos) << r->summary.message;
}

TEST(FluxBalanceTest, UnboundedObjectiveIsAnOutcome) {
  model::Model m = ModelBuilder()
                       .Species("A")
                       .Reaction("in", {}, {{"A", 1}})
                       .Reaction("out", {{"A", 1}}, {})
                       .Objective("obj", kMax, {{"out", 1}})
                       .Build();
  Result<FbaResult> r = SolveFluxBalance(m);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status(), FbaStatus::kUnbounded);
  EXPECT_EQ(r->objective_value, kInf);
}

TEST(FluxBalanceTest, ObjectiveChosenByOptions) {
  // Two objectives on a reversible exchange in [-1, 3]; the active one
  // maximises (3), the other minimises (-1).
  model::Model m = ModelBuilder()
                       .Species("A")
                       .Reaction("ex", {}, {{"A", 1}}, -1, 3)
                       .Reaction("sink", {{"A", 1}}, {})
                       .Objective("low", kMin, {{"sink", 1}}, /*active=*/false)
                       .Objective("high", kMax, {{"sink", 1}})
                       .Build();
  FbaOptions options;
  Result<FbaResult> high = SolveFluxBalance(m, options);
  ASSERT_TRUE(high.ok()) << high.status().ToString();
  EXPECT_NEAR(high->objective_value, 3, kTol);
  options.objective = "low";
  Result<FbaResult> low = SolveFluxBalance(m, options);
  ASSERT_TRUE(low.ok()) << low.status().ToString();
  EXPECT_EQ(low->objective_id, "low");
  EXPECT_NEAR(low->objective_value, -1, kTol);
  options.objective = "nope";
  Result<FbaResult> bad = SolveFluxBalance(m, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(bad.status().message().find("'nope'"), std::string::npos);
}

TEST(FluxBalanceTest, ModelWithoutFluxBalanceDataIsAnError) {
  model::Model m = ModelBuilder().Species("A").Build();
  m.flux_balance.reset();
  Result<FbaResult> r = SolveFluxBalance(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidModel);
}

TEST(FluxBalanceTest, OptionsValidationNamesTheField) {
  model::Model m = ModelBuilder().Species("A").Build();
  FbaOptions options;
  options.iteration_limit = -1;
  Result<FbaResult> r = SolveFluxBalance(m, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("FbaOptions::iteration_limit"), std::string::npos);
  options = {};
  options.feasibility_tolerance = 0;
  EXPECT_NE(options.Validate().message().find("FbaOptions::feasibility_tolerance"), std::string::npos);
}

// fbc v2 through the importer: the bound parameter and a stoichiometry are
// reset by initial assignments (ub: 10 -> 2 * 3 = 6; sr: 1 -> 2), so the
// optimum is 6 * 2 = 12 export of B.
TEST(FluxBalanceTest, InitialAssignmentsSetBoundsAndStoichiometries) {
  const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" xmlns:fbc="http://www.sbml.org/sbml/level3/version1/fbc/version2"
      level="3" version="2" fbc:required="false">
  <model id="m" fbc:strict="false">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="A" compartment="c" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
      <species id="B" compartment="c" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfParameters>
      <parameter id="zero" value="0" constant="true"/>
      <parameter id="ub" value="10" constant="true"/>
      <parameter id="inf" value="INF" constant="true"/>
    </listOfParameters>
    <listOfInitialAssignments>
      <initialAssignment symbol="ub"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><cn>2</cn><cn>3</cn></apply></math></initialAssignment>
      <initialAssignment symbol="sr"><math xmlns="http://www.w3.org/1998/Math/MathML"><cn>2</cn></math></initialAssignment>
    </listOfInitialAssignments>
    <listOfReactions>
      <reaction id="R1" reversible="false" fbc:lowerFluxBound="zero" fbc:upperFluxBound="ub">
        <listOfProducts><speciesReference species="A" stoichiometry="1" constant="true"/></listOfProducts>
      </reaction>
      <reaction id="R2" reversible="false" fbc:lowerFluxBound="zero" fbc:upperFluxBound="inf">
        <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
        <listOfProducts><speciesReference id="sr" species="B" stoichiometry="1" constant="true"/></listOfProducts>
      </reaction>
      <reaction id="R3" reversible="false" fbc:lowerFluxBound="zero" fbc:upperFluxBound="inf">
        <listOfReactants><speciesReference species="B" stoichiometry="1" constant="true"/></listOfReactants>
      </reaction>
    </listOfReactions>
    <fbc:listOfObjectives fbc:activeObjective="obj">
      <fbc:objective fbc:id="obj" fbc:type="maximize">
        <fbc:listOfFluxObjectives><fbc:fluxObjective fbc:reaction="R3" fbc:coefficient="1"/></fbc:listOfFluxObjectives>
      </fbc:objective>
    </fbc:listOfObjectives>
  </model>
</sbml>)";
  Result<formats::SbmlImport> imported = formats::ParseSbml(xml);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  Result<FbaResult> r = SolveFluxBalance(imported->model);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status(), FbaStatus::kOptimal);
  EXPECT_NEAR(r->Flux("R1"), 6, kTol);
  EXPECT_NEAR(r->objective_value, 12, kTol);
}

}  // namespace
}  // namespace soma::fba
