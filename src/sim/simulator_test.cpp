// Simulator checks against analytic solutions. Models are built directly in
// the IR so these tests do not depend on a file format.

#include "sim/simulator.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <gtest/gtest.h>

#include "sim/sensitivity.h"
#include "sim/sim_test_util.h"

namespace soma::sim {
namespace {

using namespace soma::sim::testing;  // NOLINT(google-build-using-namespace)

using expr::Expr;
using expr::Op;

TEST(SimulatorTest, FirstOrderDecayMatchesExponential) {
  auto cm = CompiledModel::Compile(DecayModel());
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  Simulator sim(*cm);
  SimulationOptions opt = TightOptions(4.0, 8);
  opt.integrator.method = solvers::OdeMethod::kBdf;  // to see the analytic Jacobian used
  auto r = sim.Simulate(opt, {{"A"}, {"B", SpeciesQuantity::kAmount}, {"R"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows, 9u);
  for (size_t i = 0; i < r->rows; ++i) {
    double t = r->at(i, 0);
    EXPECT_DOUBLE_EQ(t, 0.5 * i);
    double a = std::exp(-0.5 * t);                        // concentration
    ExpectClose(r->at(i, 1), a, 1e-12, 1e-8);
    ExpectClose(r->at(i, 2), 2.0 * (1.0 - a), 1e-12, 1e-8);  // amount of B
    ExpectClose(r->at(i, 3), 0.5 * a * 2.0, 1e-12, 1e-8);    // reaction rate
  }
  EXPECT_GT(r->summary.integrator.jacobian_evaluations, 0);
}

TEST(SimulatorTest, DeadlineStopsTheRunWithResourceExhausted) {
  auto cm = CompiledModel::Compile(DecayModel());
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  Simulator sim(*cm);
  SimulationOptions opt = TightOptions(4.0, 8);
  opt.deadline = std::chrono::steady_clock::now();  // already passed
  auto r = sim.Simulate(opt, {{"A"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("time limit"), std::string::npos) << r.status().ToString();
  auto s = SimulateWithSensitivities(*cm, opt, {{"A"}}, {"k"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kResourceExhausted);
  opt.deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);  // far away: no effect
  EXPECT_TRUE(sim.Simulate(opt, {{"A"}}).ok());
  EXPECT_TRUE(SimulateWithSensitivities(*cm, opt, {{"A"}}, {"k"}).ok());
}

TEST(SimulatorTest, TimeEventChangesParameterAndRestarts) {
  // At t >= 1, k becomes 0: A stays at exp(-0.5).
  model::Model m = DecayModel();
  m.parameters[0].constant = false;
  m.events.push_back(TimeEvent("stop", 1.0, "k", Num(0.0)));
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  auto r = Simulator(*cm).Simulate(TightOptions(3.0, 3), {{"A"}, {"k"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.events_fired, 1);
  ExpectClose(r->at(1, 1), std::exp(-0.5), 1e-12, 1e-8);
  ExpectClose(r->at(3, 1), std::exp(-0.5), 1e-12, 1e-8);
  EXPECT_EQ(r->at(3, 2), 0.0);
}

TEST(SimulatorTest, TheSegmentToTheEndIsJudgedByTheEndTime) {
  // At t = 1 an event sets A back to 1: A = exp(-0.5 (t - 1)) afterwards.
  // No stop follows, and the segment to the end at 3 is short for the model
  // (rho * length = 0.5 * 2): the automatic method runs it with the explicit
  // method, as it does the segment to the scheduled stop at 1 before it.
  model::Model m = DecayModel();
  m.events.push_back(TimeEvent("refill", 1.0, "A", Num(1.0)));
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  auto r = Simulator(*cm).Simulate(TightOptions(3.0, 6), {{"A"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.integrator.rk_segments, 2);
  EXPECT_NE(r->summary.FullReport().find("automatic method               explicit Runge-Kutta on 2 of 2 segments\n"),
            std::string::npos)
      << r->summary.FullReport();
  for (size_t row = 2; row <= 6; ++row) {
    const double t = 0.5 * static_cast<double>(row);
    ExpectClose(r->at(row, 1), std::exp(-0.5 * (t - 1.0)), 1e-12, 1e-8, "t = " + std::to_string(t));
  }
}

TEST(SimulatorTest, RelationsOverDiscreteValuesAreNotSearched) {
  // An event at t = 1 sets the parameter `on` to 1; a second event, on
  // on > 0.5, sets A back to 1. The second trigger can only change when an
  // event assigns `on`: it is discrete, the integrator evaluates no root
  // function at all, and the cascade still fires at t = 1 exactly.
  model::Model m = DecayModel();
  m.parameters.push_back({.id = "on", .value = 0.0, .constant = false});
  m.events.push_back(TimeEvent("switch_on", 1.0, "on", Num(1.0)));
  model::Event refill;
  refill.id = "refill";
  refill.trigger = Expr::Apply(Op::kGt, {Sym("on"), Num(0.5)});
  refill.assignments.push_back({"A", Num(1.0)});
  m.events.push_back(refill);
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  int discrete = 0;
  for (const Relation& r : (*cm)->relations()) discrete += r.discrete ? 1 : 0;
  EXPECT_EQ(discrete, 1);
  EXPECT_TRUE((*cm)->searched_relations().empty());
  auto r = Simulator(*cm).Simulate(TightOptions(3.0, 6), {{"A"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.events_fired, 2);
  EXPECT_EQ(r->summary.integrator.root_evaluations, 0);
  ExpectClose(r->at(2, 1), 1.0, 1e-12, 1e-8, "t = 1, after the cascade");
  ExpectClose(r->at(6, 1), std::exp(-1.0), 1e-12, 1e-8, "t = 3");
}

TEST(SimulatorTest, RelationsWithTimeStopAtTheirTimePoints) {
  // time > 1.25 sets k = 0; 2.5 < time (a falling root) sets k = 1. Neither
  // needs root finding: the simulator stops at 1.25 and 2.5 exactly.
  model::Model m = DecayModel();
  m.parameters[0].constant = false;
  model::Event pause, resume;
  pause.id = "pause";
  pause.trigger = Expr::Apply(Op::kGt, {Expr::Leaf(Op::kTime), Num(1.25)});
  pause.assignments.push_back({"k", Num(0.0)});
  resume.id = "resume";
  resume.trigger = Expr::Apply(Op::kLt, {Num(2.5), Expr::Leaf(Op::kTime)});
  resume.assignments.push_back({"k", Num(1.0)});
  m.events = {pause, resume};
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  ASSERT_EQ((*cm)->relations().size(), 2u);
  EXPECT_EQ((*cm)->relations()[0].time_direction, 1);
  EXPECT_EQ((*cm)->relations()[1].time_direction, -1);
  EXPECT_TRUE((*cm)->searched_relations().empty());
  const std::vector<double> start = (*cm)->InitialWorkspace(0.0, {});
  EXPECT_EQ((*cm)->TimePoints(start.data()), (std::vector<double>{1.25, 2.5}));
  auto r = Simulator(*cm).Simulate(TightOptions(3.0, 3), {{"A"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.events_fired, 2);
  EXPECT_EQ(r->summary.roots_found, 2);
  ExpectClose(r->at(1, 1), std::exp(-0.5), 1e-12, 1e-8);
  ExpectClose(r->at(2, 1), std::exp(-0.625), 1e-12, 1e-8);
  ExpectClose(r->at(3, 1), std::exp(-0.625 - 0.5), 1e-12, 1e-8);
}

// y' = piecewise(0, time - T < 0, 1) + piecewise(0, time / 2 < T2, 1): y
// grows at rate 1 from T on and by 1 more from 2 T2 on.
model::Model SwitchedAtParameterTimes() {
  model::Model m;
  m.id = "switched";
  m.parameters.push_back({.id = "T", .value = 1.0});
  m.parameters.push_back({.id = "T2", .value = 1.25});
  m.parameters.push_back({.id = "y", .value = 0.0, .constant = false});
  auto time = Expr::Leaf(Op::kTime);
  auto first = Apply(Op::kPiecewise, {Num(0.0), Apply(Op::kLt, {Sub(time, Sym("T")), Num(0.0)}), Num(1.0)});
  auto second = Apply(Op::kPiecewise,
                      {Num(0.0), Apply(Op::kLt, {Apply(Op::kDivide, {time, Num(2.0)}), Sym("T2")}), Num(1.0)});
  m.rules.push_back({model::RuleKind::kRate, "y", Apply(Op::kPlus, {first, second})});
  return m;
}

TEST(SimulatorTest, RelationsLinearInTimeWithFixedParametersStopAtTheirTimePoints) {
  // time - T < 0 and time / 2 < T2 cross zero at T and 2 T2, known when the
  // run starts (T, T2 are parameters no event assigns): the simulator lands
  // on them instead of searching, also when a run overrides T.
  auto cm = CompiledModel::Compile(SwitchedAtParameterTimes());
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  ASSERT_EQ((*cm)->relations().size(), 2u);
  EXPECT_TRUE((*cm)->searched_relations().empty());
  ASSERT_EQ((*cm)->scheduled_relations().size(), 2u);
  SimulationOptions opt = TightOptions(4.0, 8);
  opt.overrides = {{"T", 1.5}};
  auto start = (*cm)->StartWorkspace(opt);
  ASSERT_TRUE(start.ok()) << start.status().ToString();
  std::vector<double> points = (*cm)->TimePoints(start->data());
  std::sort(points.begin(), points.end());
  EXPECT_EQ(points, (std::vector<double>{1.5, 2.5}));
  auto r = Simulator(*cm).Simulate(opt, {{"y"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.roots_found, 2);
  for (size_t i = 0; i < r->rows; ++i) {
    const double t = r->at(i, 0);
    ExpectClose(r->at(i, 1), std::max(0.0, t - 1.5) + std::max(0.0, t - 2.5), 1e-12, 1e-9, "t = " + std::to_string(t));
  }
}

TEST(SimulatorTest, TimePointIsTheFirstDoubleWhereTheRelationHasChanged) {
  // time + a < b flips where (time + a) - b reaches 0. With a = 0.502 and
  // b = 2.964, b - a rounds to a double at which time + a is still below b
  // (2.4619999999999997 + 0.502 < 2.964): the time point must be the first
  // double at which the relation is false, or the run would restart one bit
  // before the switch.
  model::Model m;
  m.parameters.push_back({.id = "a", .value = 0.502});
  m.parameters.push_back({.id = "b", .value = 2.964});
  m.parameters.push_back({.id = "y", .value = 0.0, .constant = false});
  auto rel = Apply(Op::kLt, {Apply(Op::kPlus, {Expr::Leaf(Op::kTime), Sym("a")}), Sym("b")});
  m.rules.push_back({model::RuleKind::kRate, "y", Apply(Op::kPiecewise, {Num(1.0), rel, Num(0.0)})});
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  ASSERT_EQ((*cm)->scheduled_relations().size(), 1u);
  const std::vector<double> start = (*cm)->InitialWorkspace(0.0, {});
  const double tp = (*cm)->TimePoints(start.data())[0];
  const double a = 0.502, b = 2.964;
  ASSERT_TRUE((b - a) + a < b);  // the rounding this test is about
  EXPECT_FALSE(tp + a < b) << tp;
  const double before = std::nextafter(tp, 0.0);
  EXPECT_TRUE(before + a < b) << before;
}

TEST(SimulatorTest, RelationsWithParametersThatEventsChangeAreSearched) {
  // An event sets T = 2 at t = 0.5: the crossing of time - T < 0 is not known
  // at the start, so CVODES searches for it (and finds it at 2).
  model::Model m = SwitchedAtParameterTimes();
  m.parameters[0].constant = false;
  m.events.push_back(TimeEvent("later", 0.5, "T", Num(2.0)));
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  ASSERT_EQ((*cm)->searched_relations().size(), 1u);
  EXPECT_EQ((*cm)->scheduled_relations().size(), 2u);  // the event's time >= 0.5 and time / 2 < T2
  auto r = Simulator(*cm).Simulate(TightOptions(4.0, 8), {{"y"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (size_t i = 0; i < r->rows; ++i) {
    const double t = r->at(i, 0);
    ExpectClose(r->at(i, 1), std::max(0.0, t - 2.0) + std::max(0.0, t - 2.5), 1e-9, 1e-7, "t = " + std::to_string(t));
  }
}

TEST(SimulatorTest, DelayedStateEventUsesValuesFromTriggerTime) {
  // When A (a concentration) drops below 0.5, at t* = 2 ln 2, wait 1 time
  // unit, then set B to the value A had at t*. B's symbol is a concentration
  // too, so B's amount becomes 0.5 * V = 1.
  model::Model m = DecayModel();
  model::Event ev;
  ev.id = "e";
  ev.trigger = Expr::Apply(Op::kLt, {Sym("A"), Num(0.5)});
  ev.delay = Num(1.0);
  ev.assignments.push_back({"B", Sym("A")});
  m.events.push_back(ev);
  m.reactions[0].products.clear();  // B only changes through the event
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  const double t_star = 2.0 * std::log(2.0);
  auto r = Simulator(*cm).Simulate(TightOptions(4.0, 4), {{"B", SpeciesQuantity::kAmount}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.events_fired, 1);
  ASSERT_LT(t_star + 1.0, 3.0);
  EXPECT_EQ(r->at(2, 1), 0.0);  // t = 2: not yet executed
  ExpectClose(r->at(3, 1), 1.0, 1e-9, 1e-7);  // t = 3: executed at t* + 1
}

TEST(SimulatorTest, AssignmentAndRateRulesOnAGrowingCompartment) {
  // V' = 1 (rate rule), V(0) = 1; species S has constant amount 2, so its
  // concentration is 2 / (1 + t); C = S * 3 by an assignment rule.
  model::Model m;
  m.compartments.push_back({.id = "V", .size = 1.0, .constant = false});
  m.species.push_back({.id = "S", .compartment = "V", .initial_amount = 2.0});
  m.parameters.push_back({.id = "C", .constant = false});
  m.rules.push_back({model::RuleKind::kRate, "V", Num(1.0)});
  m.rules.push_back({model::RuleKind::kAssignment, "C", Mul({Sym("S"), Num(3.0)})});
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  auto r = Simulator(*cm).Simulate(TightOptions(2.0, 2), {{"V"}, {"S"}, {"C"}, {"S", SpeciesQuantity::kAmount}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (size_t i = 0; i < r->rows; ++i) {
    double t = r->at(i, 0);
    ExpectClose(r->at(i, 1), 1 + t, 1e-12, 1e-9);
    ExpectClose(r->at(i, 2), 2 / (1 + t), 1e-12, 1e-9);
    ExpectClose(r->at(i, 3), 6 / (1 + t), 1e-12, 1e-9);
    ExpectClose(r->at(i, 4), 2.0, 1e-12, 1e-9);
  }
}

TEST(SimulatorTest, ConstraintViolationsAreReported) {
  // A decays below 0.5 at t = 2 ln 2 ~ 1.386: the constraint A >= 0.5 fails
  // at the output time 2, and only its first violation is reported.
  model::Model m = DecayModel();
  m.constraints.push_back({Expr::Apply(Op::kGe, {Sym("A"), Num(0.5)}), "A fell below 0.5", {}});
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  auto r = Simulator(*cm).Simulate(TightOptions(4.0, 4), {{"A"}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->summary.constraint_violations.size(), 1u);
  EXPECT_NE(r->summary.constraint_violations[0].find("t = 2"), std::string::npos);
  EXPECT_NE(r->summary.constraint_violations[0].find("A fell below 0.5"), std::string::npos);
}

TEST(SimulatorTest, ErrorsNameTheProblem) {
  auto cm = CompiledModel::Compile(DecayModel());
  ASSERT_TRUE(cm.ok());
  auto r = Simulator(*cm).Simulate(TightOptions(1.0, 1), {{"nope"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nope"), std::string::npos);
  SimulationOptions bad = TightOptions(1.0, 1);
  bad.end = -1;
  auto r2 = Simulator(*cm).Simulate(bad);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("SimulationOptions::end"), std::string::npos);
}

// Species A and B (amounts in V = 1) and a fast reaction A -> B with the
// given kinetic law.
model::Model FastPairModel(double a0, double b0, Expr law, const char* id = "J0") {
  model::Model m;
  m.compartments.push_back({.id = "V", .size = 1.0});
  m.species.push_back({.id = "A", .compartment = "V", .initial_amount = a0});
  m.species.push_back({.id = "B", .compartment = "V", .initial_amount = b0});
  m.reactions.push_back(MakeReaction(id, {"A"}, {"B"}, std::move(law), /*fast=*/true));
  return m;
}

// Fast A <-> B (rate kf A - kr B) and slow B -> (rate k B), with kf = 1,
// kr = 2, k = 0.5, from A = 3, B = 0.
model::Model RapidEquilibriumModel() {
  model::Model m = FastPairModel(3.0, 0.0, Sub(Mul({Sym("kf"), Sym("A")}), Mul({Sym("kr"), Sym("B")})), "equilibrium");
  m.parameters.push_back({.id = "kf", .value = 1.0});
  m.parameters.push_back({.id = "kr", .value = 2.0});
  m.parameters.push_back({.id = "k", .value = 0.5});
  model::Reaction slow;
  slow.id = "degradation";
  slow.reactants.push_back({.species = "B"});
  slow.kinetic_law = Mul({Sym("k"), Sym("B")});
  m.reactions.push_back(slow);
  return m;
}

TEST(SimulatorTest, FastReactionsAreInRapidEquilibrium) {
  // RapidEquilibriumModel: B = T kf / (kf + kr) at all times, so the total
  // T = A + B obeys T' = -k T kf / (kf + kr): T = T0 exp(-k t / 3).
  model::Model m = RapidEquilibriumModel();
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  auto r = Simulator(*cm).Simulate(TightOptions(6.0, 6), {{"A"}, {"B"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (size_t i = 0; i < r->rows; ++i) {
    const double total = 3.0 * std::exp(-0.5 * r->at(i, 0) / 3.0);
    ExpectClose(r->at(i, 1), total * 2.0 / 3.0, 1e-10, 1e-7);
    ExpectClose(r->at(i, 2), total / 3.0, 1e-10, 1e-7);
  }
}

// SBML Test Suite 01396 in a compartment of size 2: fast 5 S1 -> S2 with
// law S1 from concentrations S1 = 5, S2 = 0. The reaction uses up S1 and
// the conserved amount S1 + 5 S2 = 10 gives S2 = 2 (amount). The first
// equilibrium's amounts were passed back as declared concentrations, which
// multiplied them by the size once more (S2 = 4); with size 1 the suite
// could not see it.
TEST(SimulatorTest, FastEquilibriumOfConcentrationsInACompartmentOfSizeTwo) {
  model::Model m;
  m.compartments.push_back({.id = "V", .size = 2.0});
  m.species.push_back({.id = "S1", .compartment = "V", .initial_concentration = 5.0});
  m.species.push_back({.id = "S2", .compartment = "V", .initial_concentration = 0.0});
  model::Reaction r;
  r.id = "J0";
  r.fast = true;
  r.reactants.push_back({.species = "S1", .stoichiometry = 5.0});
  r.products.push_back({.species = "S2"});
  r.kinetic_law = Sym("S1");
  m.reactions.push_back(r);
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  auto out = Simulator(*cm).Simulate(TightOptions(1.0, 2),
                                     {{"S1", SpeciesQuantity::kAmount}, {"S2", SpeciesQuantity::kAmount}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  for (size_t i = 0; i < out->rows; ++i) {
    ExpectClose(out->at(i, 1), 0.0, 1e-9, 0);
    ExpectClose(out->at(i, 2), 2.0, 1e-9, 1e-9);
  }
}

// Fast A -> B with kinetic law k A B from A = B = 5: the equilibrium
// condition k A B = 0 has two branches, A = 0 and B = 0. The reaction runs
// until it stops, so for k > 0 it uses up A (A = 0, B = 10) and for k < 0
// it runs backwards (A = 10, B = 0); with k = 0 nothing happens.
// (Newton from the initial amounts starts on a singular Jacobian here.)
TEST(SimulatorTest, FastReactionsRunToTheEquilibriumTheyReach) {
  for (double k : {1.0, -1.0, 0.0}) {
    model::Model m = FastPairModel(5.0, 5.0, Mul({Sym("k"), Sym("A"), Sym("B")}));
    m.parameters.push_back({.id = "k", .value = k});
    auto cm = CompiledModel::Compile(m);
    ASSERT_TRUE(cm.ok()) << cm.status().ToString();
    auto r = Simulator(*cm).Simulate(TightOptions(2.0, 2), {{"A"}, {"B"}});
    ASSERT_TRUE(r.ok()) << "k = " << k << ": " << r.status().ToString();
    const double a = k > 0 ? 0.0 : k < 0 ? 10.0 : 5.0;
    for (size_t i = 0; i < r->rows; ++i) {
      ExpectClose(r->at(i, 1), a, 1e-9, 1e-9, "A, k = " + std::to_string(k));
      ExpectClose(r->at(i, 2), 10.0 - a, 1e-9, 1e-9, "B, k = " + std::to_string(k));
    }
  }
}

// RapidEquilibriumModel with an event at t = 2
// that sets A = 6: the total becomes 6 + B(2-), which the fast reaction
// splits 2 : 1 again at once, and which then decays as before:
// T(t) = (6 + T0 exp(-k 2 / 3) / 3) exp(-k (t - 2) / 3).
TEST(SimulatorTest, EventsAssigningAFastSpeciesChangeTheConservedTotal) {
  model::Model m = RapidEquilibriumModel();
  m.events.push_back(TimeEvent("", 2.0, "A", Num(6.0)));
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  auto r = Simulator(*cm).Simulate(TightOptions(6.0, 6), {{"A"}, {"B"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const double after = 6.0 + 3.0 * std::exp(-0.5 * 2.0 / 3.0) / 3.0;
  for (size_t i = 0; i < r->rows; ++i) {
    const double t = r->at(i, 0);
    const double total = t < 2.0 ? 3.0 * std::exp(-0.5 * t / 3.0) : after * std::exp(-0.5 * (t - 2.0) / 3.0);
    ExpectClose(r->at(i, 1), total * 2.0 / 3.0, 1e-9, 1e-7, "A at t = " + std::to_string(t));
    ExpectClose(r->at(i, 2), total / 3.0, 1e-9, 1e-7, "B at t = " + std::to_string(t));
  }
}

// SBML Test Suite 00019 run far past its settling time with one output
// interval: S1 + S2 <-> S3 (k1 = 1000, k2 = 0.9), S3 -> S1 + S4 (k3 = 0.7).
// Once S3 and S2 have decayed, Adams at order 7 with fixed-point iteration
// sat at a constant h = 0.0121 (h * rho = 0.043, held by stability, below
// the 0.05 at which a stalled step used to make the automatic method try
// BDF) and ran into max_steps (500,000) at t = 6065. BDF and Adams with
// Newton take about 500 steps.
TEST(SimulatorTest, AutomaticMethodSwitchesWhenHighOrderAdamsIsHeldDownByStability) {
  model::Model m;
  m.compartments.push_back({.id = "c", .size = 1.0});
  for (const char* id : {"S1", "S2", "S3", "S4"}) {
    const bool start = std::string(id) == "S1" || std::string(id) == "S2";
    m.species.push_back({.id = id, .compartment = "c", .initial_amount = start ? 2e-3 : 0.0});
  }
  m.parameters.push_back({.id = "k1", .value = 1000.0});
  m.parameters.push_back({.id = "k2", .value = 0.9});
  m.parameters.push_back({.id = "k3", .value = 0.7});
  m.reactions.push_back(MakeReaction("bind", {"S1", "S2"}, {"S3"}, Mul({Sym("k1"), Sym("S1"), Sym("S2")})));
  m.reactions.push_back(MakeReaction("unbind", {"S3"}, {"S1", "S2"}, Mul({Sym("k2"), Sym("S3")})));
  m.reactions.push_back(MakeReaction("convert", {"S3"}, {"S1", "S4"}, Mul({Sym("k3"), Sym("S3")})));
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  SimulationOptions o;
  o.end = 1e4;
  o.steps = 1;
  o.integrator.rel_tol = 1e-9;  // soma simulate --rel 1e-6 --abs 1e-8
  o.integrator.abs_tol = 1e-13;
  auto r = Simulator(*cm).Simulate(o, {{"S1"}, {"S4"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(r->summary.integrator.steps, 5000) << r->summary.integrator.steps;
  EXPECT_GE(r->summary.integrator.method_switches, 1);
  // All of S2 ends up in S4 (S1 + S4 and S2 + S3 + S4 are conserved).
  ExpectClose(r->at(1, 1), 2e-3, 1e-12, 1e-8, "S1");
  ExpectClose(r->at(1, 2), 2e-3, 1e-12, 1e-8, "S4");
}

// x' = x^2 from x = 1 blows up at t = 1: the failure names where CVODES got
// to (not the last output time, 0), its step size and the state's size.
TEST(SimulatorTest, ASolutionThatBlowsUpIsReportedWhereItBlowsUp) {
  model::Model m;
  m.parameters.push_back({.id = "x", .value = 1.0, .constant = false});
  m.rules.push_back({.kind = model::RuleKind::kRate, .variable = "x", .math = Mul({Sym("x"), Sym("x")})});
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  auto r = Simulator(*cm).Simulate(TightOptions(2.0, 1), {{"x"}});
  ASSERT_FALSE(r.ok());
  const std::string& msg = r.status().message();
  EXPECT_EQ(msg.find("at t = 0.000000"), std::string::npos) << msg;
  const size_t at = msg.find("CVode at t = ");
  ASSERT_NE(at, std::string::npos) << msg;
  EXPECT_NEAR(std::stod(msg.substr(at + 13)), 1.0, 1e-3) << msg;
  EXPECT_NE(msg.find("step size"), std::string::npos) << msg;
  EXPECT_NE(msg.find("largest |state|"), std::string::npos) << msg;
}

// Fast A -> B with kinetic law k2 A and slow B -> A at rate k1 = 1, from
// A = 0, B = 2 (SBML Test Suite 00988 without its events).
model::Model SwitchedFastPairModel(double k2) {
  model::Model m = FastPairModel(0.0, 2.0, Mul({Sym("k2"), Sym("A")}), "switched");
  m.parameters.push_back({.id = "k1", .value = 1.0});
  m.parameters.push_back({.id = "k2", .value = k2, .constant = false});
  m.reactions.push_back(MakeReaction("back", {"B"}, {"A"}, Sym("k1")));
  return m;
}

// With k2 = 0 the fast reaction's law vanishes whatever the amounts: it is
// switched off and holds nothing, so the slow reaction moves A and B apart:
// A = t, B = 2 - t. (Rapid equilibrium with the conserved total A + B
// integrated and A, B solved from "k2 A = 0" cannot follow that: every A
// solves it.) With k2 = 1 it holds A at 0 and B = 2 throughout.
TEST(SimulatorTest, FastReactionsWhoseLawVanishesAreSwitchedOff) {
  auto cm = CompiledModel::Compile(SwitchedFastPairModel(0.0));
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  auto r = Simulator(*cm).Simulate(TightOptions(1.5, 3), {{"A"}, {"B"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (size_t i = 0; i < r->rows; ++i) {
    const double t = r->at(i, 0);
    ExpectClose(r->at(i, 1), t, 1e-9, 1e-9, "A at t = " + std::to_string(t));
    ExpectClose(r->at(i, 2), 2.0 - t, 1e-9, 1e-9, "B at t = " + std::to_string(t));
  }
  cm = CompiledModel::Compile(SwitchedFastPairModel(1.0));
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  r = Simulator(*cm).Simulate(TightOptions(1.0, 1), {{"A"}, {"B"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectClose(r->at(1, 1), 0.0, 1e-9, 0.0, "A");
  ExpectClose(r->at(1, 2), 2.0, 1e-9, 1e-9, "B");
}

// SBML Test Suite 00988, solved by hand: A = t until it reaches 0.99; then
// one event sets k2 = 1 (the fast reaction turns all of A into B at once)
// and another, 0.1 later, sets k2 = 0 again: A = t - 1.09 from there, and
// the cycle repeats when A reaches 0.99 again (t = 2.08, off at 2.18).
TEST(SimulatorTest, EventsSwitchFastReactionsOnAndOff) {
  model::Model m = SwitchedFastPairModel(0.0);
  model::Event on, off;
  on.id = "on";
  on.trigger = Expr::Apply(Op::kGe, {Sym("A"), Num(0.99)});
  on.assignments.push_back({"k2", Num(1.0)});
  off.id = "off";
  off.trigger = Expr::Apply(Op::kGe, {Sym("A"), Num(0.99)});
  off.delay = Num(0.1);
  off.assignments.push_back({"k2", Num(0.0)});
  m.events.push_back(on);
  m.events.push_back(off);
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  auto r = Simulator(*cm).Simulate(TightOptions(2.5, 25), {{"A"}, {"B"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (size_t i = 0; i < r->rows; ++i) {
    const double t = r->at(i, 0);
    double a = t;
    if (t >= 0.99 && t < 1.09) a = 0.0;
    if (t >= 1.09) a = t - 1.09;
    if (t >= 2.08 && t < 2.18) a = 0.0;
    if (t >= 2.18) a = t - 2.18;
    ExpectClose(r->at(i, 1), a, 1e-8, 1e-8, "A at t = " + std::to_string(t));
    ExpectClose(r->at(i, 2), 2.0 - a, 1e-8, 1e-8, "B at t = " + std::to_string(t));
  }
  EXPECT_EQ(r->summary.events_fired, 4);
}

// Two fast reactions sharing B, one switched off: fast A <-> B (law A - B)
// holds A = B; fast B -> C (law k2 B, k2 = 0) is off; slow C -> A at rate 1
// moves amount from C to the pair: A = B = 1 + t/2, C = 2 - t. The extent of
// B -> C uses its row of N's pseudo-inverse, which does not see A <-> B.
TEST(SimulatorTest, OneOfTwoCoupledFastReactionsSwitchedOff) {
  model::Model m = FastPairModel(1.0, 1.0, Sub(Sym("A"), Sym("B")), "pair");
  m.species.push_back({.id = "C", .compartment = "V", .initial_amount = 2.0});
  m.parameters.push_back({.id = "k2", .value = 0.0});
  m.reactions.push_back(MakeReaction("off", {"B"}, {"C"}, Mul({Sym("k2"), Sym("B")}), /*fast=*/true));
  m.reactions.push_back(MakeReaction("slow", {"C"}, {"A"}, Num(1.0)));
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  ASSERT_EQ((*cm)->fast_reactions().switches.size(), 1u);
  auto r = Simulator(*cm).Simulate(TightOptions(1.5, 3), {{"A"}, {"B"}, {"C"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (size_t i = 0; i < r->rows; ++i) {
    const double t = r->at(i, 0);
    ExpectClose(r->at(i, 1), 1.0 + t / 2.0, 1e-9, 1e-9, "A at t = " + std::to_string(t));
    ExpectClose(r->at(i, 2), 1.0 + t / 2.0, 1e-9, 1e-9, "B at t = " + std::to_string(t));
    ExpectClose(r->at(i, 3), 2.0 - t, 1e-9, 1e-9, "C at t = " + std::to_string(t));
  }
}

// Switches change only at events. A law that vanishes without depending on
// anything events set or declared 0 (here through a rule, k2 = max(0,
// 0.5 - t)) has no switch: where it vanishes while the slow reaction moves
// A and B, that is reported as unsupported, naming the reaction. So is a
// law switched off at the start that stops vanishing between events
// ((k2 + t) A with k2 = 0 vanishes at t = 0 only).
TEST(SimulatorTest, FastReactionsThatStopHoldingBetweenEventsAreUnsupported) {
  model::Model m = SwitchedFastPairModel(1.0);
  m.rules.push_back({.kind = model::RuleKind::kAssignment,
                     .variable = "k2",
                     .math = Expr::Apply(Op::kMax, {Num(0.0), Sub(Num(0.5), Expr::Leaf(Op::kTime))})});
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  EXPECT_TRUE((*cm)->fast_reactions().switches.empty());
  auto r = Simulator(*cm).Simulate(TightOptions(1.0, 4), {{"A"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(r.status().message().find("'switched'"), std::string::npos) << r.status().message();

  m = SwitchedFastPairModel(0.0);
  m.reactions[0].kinetic_law = Mul({Expr::Apply(Op::kPlus, {Sym("k2"), Expr::Leaf(Op::kTime)}), Sym("A")});
  cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  EXPECT_EQ((*cm)->fast_reactions().switches.size(), 1u);
  r = Simulator(*cm).Simulate(TightOptions(1.0, 4), {{"A"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(r.status().message().find("no longer vanishes"), std::string::npos) << r.status().message();
}

// A fast reaction with a constant rate never stops: there is no equilibrium
// to run into, and the run says so instead of returning numbers.
TEST(SimulatorTest, FastReactionsWithoutAnEquilibriumAreAnError) {
  const Status r = RunStatus(FastPairModel(1.0, 0.0, Num(1.0)), 1.0, 1, {{"A"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::kSolverFailure) << r.ToString();
  EXPECT_NE(r.message().find("fast reactions reach no equilibrium"), std::string::npos) << r.message();
}

TEST(SimulatorTest, UnsupportedConstructsAreReportedNotSimulated) {
  // A fast reaction whose stoichiometry changes continuously (an assignment
  // rule with time) has no fixed conserved moieties: it is reported, naming
  // the reaction.
  model::Model m = DecayModel();
  m.reactions[0].fast = true;
  m.reactions[0].reactants[0].id = "nA";
  m.reactions[0].reactants[0].constant = false;
  m.rules.push_back({.kind = model::RuleKind::kAssignment, .variable = "nA",
                     .math = Apply(Op::kPlus, {Num(1.0), Expr::Leaf(Op::kTime)})});
  auto cm = CompiledModel::Compile(m);
  ASSERT_FALSE(cm.ok());
  EXPECT_EQ(cm.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(cm.status().message().find("'R'"), std::string::npos) << cm.status().message();
}

// Fast nu A -> B with kinetic law A (it uses up A) and nu = 1, from A = 5,
// B = 0: B = 5 at once. At t = 4.5 an event sets A = 5 and nu = 5: the
// reaction now takes 5 of A per unit of B, so it uses up A again and
// B = 6. (SBML Test Suite 01398 in the small.)
TEST(SimulatorTest, FastReactionStoichiometriesThatEventsSetChangeTheMoieties) {
  model::Model m = FastPairModel(5.0, 0.0, Sym("A"));
  m.reactions[0].reactants[0].id = "nu";
  m.reactions[0].reactants[0].constant = false;
  model::Event ev;
  ev.trigger = Expr::Apply(Op::kGt, {Expr::Leaf(Op::kTime), Num(4.5)});
  ev.assignments.push_back({"A", Num(5.0)});
  ev.assignments.push_back({"nu", Num(5.0)});
  m.events.push_back(ev);
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  auto r = Simulator(*cm).Simulate(TightOptions(8.0, 8), {{"A"}, {"B"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (size_t i = 0; i < r->rows; ++i) {
    const double t = r->at(i, 0);
    ExpectClose(r->at(i, 1), 0.0, 1e-9, 0.0, "A at t = " + std::to_string(t));
    ExpectClose(r->at(i, 2), t < 4.5 ? 5.0 : 6.0, 1e-9, 1e-9, "B at t = " + std::to_string(t));
  }
  // Both stoichiometries set to 0: N has rank 0, one moiety more than the
  // run has; that is an error naming the cause, not a simulation.
  m.reactions[0].products[0].id = "mu";
  m.reactions[0].products[0].constant = false;
  m.events[0].assignments = {{"nu", Num(0.0)}, {"mu", Num(0.0)}};
  cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  r = Simulator(*cm).Simulate(TightOptions(8.0, 8), {{"A"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kSolverFailure);
  EXPECT_NE(r.status().message().find("number of conserved moieties"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("after an event at t = 4.5"), std::string::npos) << r.status().message();
}

}  // namespace
// x' = -delay(x, 1) with x(0) = k: before the start x holds its initial
// value, so on [0, 1] x = c (1 - t) and on [1, 2] x = -c (2t - t^2/2 - 3/2),
// where c is the initial value of this run. Parameter overrides and an
// initial state must reach the history before the start too (it used the
// declared k = 1 for both before).
TEST(SimulatorTest, HistoryBeforeTheStartUsesTheOverridesAndTheInitialState) {
  model::Model m;
  m.id = "dde";
  m.parameters.push_back({.id = "k", .value = 1.0});
  m.parameters.push_back({.id = "x", .constant = false});
  m.initial_assignments.push_back({.symbol = "x", .math = Sym("k")});
  m.rules.push_back({.kind = model::RuleKind::kRate,
                     .variable = "x",
                     .math = Apply(Op::kMinus, {Apply(Op::kDelay, {Sym("x"), Num(1.0)})})});
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  auto exact = [](double c, double t) { return t <= 1 ? c * (1 - t) : -c * (2 * t - t * t / 2 - 1.5); };
  SimulationOptions declared = TightOptions(2.0, 8), overridden = declared, restarted = declared;
  overridden.overrides = {{"k", 5.0}};
  restarted.initial_state = {3.0};
  for (const auto& [options, c] : {std::pair{declared, 1.0}, {overridden, 5.0}, {restarted, 3.0}}) {
    auto r = Simulator(*cm).Simulate(options, {{"x"}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (size_t i = 0; i < r->rows; ++i) {
      ExpectClose(r->at(i, 1), exact(c, r->at(i, 0)), 1e-8, 1e-8, "c = " + std::to_string(c));
    }
  }
}

// x' = -delay(x, tau) with x(0) = 1 and a delay parameter.
model::Model DelayedDecay(Expr tau) {
  model::Model m;
  m.id = "delayed_decay";
  m.parameters.push_back({.id = "x", .value = 1.0, .constant = false});
  m.rules.push_back({.kind = model::RuleKind::kRate,
                     .variable = "x",
                     .math = Apply(Op::kMinus, {Apply(Op::kDelay, {Sym("x"), std::move(tau)})})});
  return m;
}

// delay(x, 0) is x itself: exp(-t). It was read off the history's linear
// extrapolation from the last step (relative error 3e-6 at t = 1 with the
// CLI's default accuracy, and about 1e-5 here).
TEST(SimulatorTest, ZeroDelayIsTheCurrentValue) {
  auto cm = CompiledModel::Compile(DelayedDecay(Num(0.0)));
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  auto r = Simulator(*cm).Simulate(TightOptions(2.0, 4), {{"x"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (size_t i = 0; i < r->rows; ++i) ExpectClose(r->at(i, 1), std::exp(-r->at(i, 0)), 1e-12, 1e-8);
}

// SBML requires a delay >= 0. A negative one is the model's error, named
// with its value and time; it made the integrator read extrapolated future
// values (a constant -0.5 gave a wrong curve; -1 took steps without end).
TEST(SimulatorTest, NegativeDelayIsAnErrorThatNamesIt) {
  const Status r = RunStatus(DelayedDecay(Num(-0.5)), 2.0, 4, {{"x"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::kInvalidModel) << r.ToString();
  EXPECT_NE(r.message().find("the delay is -0.5 at t = 0"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("delay(x, "), std::string::npos) << r.message();

  // tau = 1 - time turns negative after t = 1. Up to 0.9 the run is fine
  // (the integrator must not step past the end, where tau < 0): x' =
  // -x(2t - 1) is solved exactly by the method of steps (breakpoints 1/2,
  // 3/4, 7/8), x(0.9) = 245281/960000. To 2 it fails once tau < 0.
  auto shrinking = CompiledModel::Compile(DelayedDecay(Sub(Num(1.0), expr::Expr::Leaf(Op::kTime))));
  ASSERT_TRUE(shrinking.ok()) << shrinking.status().ToString();
  auto early = Simulator(*shrinking).Simulate(TightOptions(0.9, 3), {{"x"}});
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  ExpectClose(early->at(3, 1), 245281.0 / 960000.0, 1e-12, 1e-9);
  auto late = Simulator(*shrinking).Simulate(TightOptions(2.0, 4), {{"x"}});
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(late.status().message().find("SBML requires a delay >= 0"), std::string::npos) << late.status().message();
}

// An event delay must be >= 0 too; a negative one executed the event at
// once (as if it were 0) without a word.
TEST(SimulatorTest, NegativeEventDelayIsAnError) {
  model::Model m = DelayedDecay(Num(1.0));
  model::Event ev = TimeEvent("E", 0.5, "x", Num(2.0));
  ev.delay = Num(-0.2);
  m.events.push_back(ev);
  const Status r = RunStatus(m, 1.0, 4, {{"x"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::kInvalidModel) << r.ToString();
  EXPECT_NE(r.message().find("event 'E': its delay is -0.2 at t = 0.5"), std::string::npos) << r.message();
}

// A failed integration names what failed: the states whose rate is not a
// number (here log of a negative value), and a step that collapsed at a
// singularity (x' = 1 / (1 - t)), where "raise max_steps" would not help.
TEST(SimulatorTest, SolverFailuresNameTheRateThatIsNotANumberOrTheSingularity) {
  model::Model m;
  m.id = "bad_rates";
  m.parameters.push_back({.id = "x", .value = 1.0, .constant = false});
  m.rules.push_back({.kind = model::RuleKind::kRate,
                     .variable = "x",
                     .math = Apply(Op::kMinus, {Apply(Op::kLn, {Sub(Sym("x"), Num(2.0))})})});
  Status r = RunStatus(m, 1.0, 2, {{"x"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::kSolverFailure) << r.ToString();
  EXPECT_NE(r.message().find("the rate of 'x' is NaN (x = 1)"), std::string::npos) << r.message();

  m.rules[0].math = Apply(Op::kDivide, {Num(1.0), Sub(Num(1.0), expr::Expr::Leaf(Op::kTime))});
  r = RunStatus(m, 2.0, 2, {{"x"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("the step size collapsed near t = 1"), std::string::npos) << r.message();
}

}  // namespace soma::sim
