// Forward sensitivities against analytic derivatives and against central
// finite differences of full simulations.

#include "sim/sensitivity.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "sim/sim_test_util.h"

#include "formats/sbml/sbml_import.h"
#include "sim/sensitivity_program.h"
#include "sim/simulator.h"

namespace soma::sim {
namespace {

using namespace soma::sim::testing;  // NOLINT(google-build-using-namespace)

using expr::Expr;
using expr::Op;

std::shared_ptr<const CompiledModel> MustCompile(const model::Model& m) {
  auto cm = CompiledModel::Compile(m);
  EXPECT_TRUE(cm.ok()) << cm.status().ToString();
  return cm.ok() ? *cm : nullptr;
}

TEST(SensitivityTest, FirstOrderDecayMatchesAnalyticDerivatives) {
  auto cm = MustCompile(DecayModel());
  ASSERT_NE(cm, nullptr);
  auto r = SimulateWithSensitivities(cm, TightOptions(4.0, 8), {{"A"}, {"B", SpeciesQuantity::kAmount}}, {"k", "A", "V"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->trajectory.rows, 9u);
  for (size_t i = 0; i < r->trajectory.rows; ++i) {
    const double t = r->trajectory.at(i, 0), e = std::exp(-0.5 * t);
    // Tolerances: |x - ref| <= 1e-10 + 1e-6 |ref| for every entry below.
    ExpectClose(r->at(i, 0, 0), -t * e, 1e-10, 1e-6, "dA/dk");
    ExpectClose(r->at(i, 0, 1), e, 1e-10, 1e-6, "dA/dA0");
    ExpectClose(r->at(i, 0, 2), 0.0, 1e-10, 0, "dA/dV");  // A(t) does not depend on V
    ExpectClose(r->at(i, 1, 0), 2.0 * t * e, 1e-10, 1e-6, "dB/dk");  // B = V A0 (1 - e)
    ExpectClose(r->at(i, 1, 1), 2.0 * (1 - e), 1e-10, 1e-6, "dB/dA0");
    ExpectClose(r->at(i, 1, 2), 1 - e, 1e-10, 1e-6, "dB/dV");
  }
  SimulationResult table = r->Table();
  ASSERT_EQ(table.columns.size(), 3u + 6u);
  EXPECT_EQ(table.columns[3], "dA/dk");
  EXPECT_EQ(table.columns[8], "dB/dV");
  EXPECT_EQ(table.at(2, 3), r->at(2, 0, 0));
  EXPECT_GT(r->sensitivity_rhs_evaluations, 0);
}

TEST(SensitivityTest, SwitchAtAParameterTimeIsLandedOnAndContinuesFromAGivenState) {
  // x' = -k x + piecewise(0, time - T < 0, 1), T = 1.5 by override (fixed in
  // the run, not a sensitivity parameter): the switch is landed on like in
  // Simulate. From x(0) = 0: x = (1 - e^{-k (t - T)}) / k after T, and
  // dx/dk = ((t - T) k e^{-k (t - T)} - (1 - e^{-k (t - T)})) / k^2.
  model::Model m;
  m.compartments.push_back({.id = "V", .size = 1.0});
  m.species.push_back({.id = "x", .compartment = "V", .initial_amount = 0.0, .has_only_substance_units = true});
  m.parameters.push_back({.id = "k", .value = 0.5});
  m.parameters.push_back({.id = "T", .value = 1.0});
  model::Reaction in, out;
  in.id = "in";
  in.products.push_back({.species = "x"});
  in.kinetic_law = Apply(Op::kPiecewise, {Num(0.0), Apply(Op::kLt, {Sub(Expr::Leaf(Op::kTime), Sym("T")), Num(0.0)}), Num(1.0)});
  out.id = "out";
  out.reactants.push_back({.species = "x"});
  out.kinetic_law = Mul({Sym("k"), Sym("x")});
  m.reactions = {in, out};
  auto cm = MustCompile(m);
  ASSERT_NE(cm, nullptr);
  EXPECT_TRUE(cm->searched_relations().empty());
  SimulationOptions o = TightOptions(4.0, 8);
  o.overrides = {{"T", 1.5}};
  auto r = SimulateWithSensitivities(cm, o, {{"x"}}, {"k"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->trajectory.summary.roots_found, 1);
  const double k = 0.5;
  for (size_t i = 0; i < r->trajectory.rows; ++i) {
    const double t = r->trajectory.at(i, 0), d = std::max(0.0, t - 1.5), e = std::exp(-k * d);
    ExpectClose(r->trajectory.at(i, 1), (1 - e) / k, 1e-10, 1e-7, "x");
    ExpectClose(r->at(i, 0, 0), (d * k * e - (1 - e)) / (k * k), 1e-10, 1e-6, "dx/dk");
  }
  // Continuing from the end state and sensitivities at t = 4 gives the same
  // as one run to 6 (reference: the analytic values).
  SimulationOptions more = o;
  more.start = 4.0;
  more.end = 6.0;
  more.steps = 2;
  more.initial_state = r->trajectory.final_state;
  auto plan = PlanSensitivities(cm, {{"x"}}, {"k"});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_FALSE(SimulateWithSensitivities(**plan, more).ok());  // initial_state needs initial sensitivities
  auto r2 = SimulateWithSensitivities(**plan, more, {}, &r->final_sensitivities);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  const double d = 6.0 - 1.5, e = std::exp(-k * d);
  ExpectClose(r2->trajectory.at(2, 1), (1 - e) / k, 1e-10, 1e-7, "x(6)");
  ExpectClose(r2->at(2, 0, 0), (d * k * e - (1 - e)) / (k * k), 1e-10, 1e-6, "dx/dk(6)");
}

TEST(SensitivityTest, StateEventJumpIncludesTheMovingEventTime) {
  // x' = -k x, x(0) = 1; when x < 0.5 it is reset to 1. The reset happens at
  // tau = ln 2 / k, which moves with k: after it x = exp(-k (t - tau)) = 2
  // exp(-k t) (until 2 tau), so dx/dk = -2 t exp(-k t). x0 moves tau too (0.5
  // is reached at ln(2 x0) / k): after the reset x = 2 x0 exp(-k t), so
  // dx/dx0 = 2 exp(-k t), although the reset assigns a constant.
  model::Model m;
  m.compartments.push_back({.id = "V", .size = 1.0});
  m.species.push_back({.id = "x", .compartment = "V", .initial_amount = 1.0, .has_only_substance_units = true});
  m.parameters.push_back({.id = "k", .value = 0.5});
  model::Reaction out;
  out.id = "out";
  out.reactants.push_back({.species = "x"});
  out.kinetic_law = Mul({Sym("k"), Sym("x")});
  m.reactions = {out};
  model::Event reset;
  reset.id = "reset";
  reset.trigger = Apply(Op::kLt, {Sym("x"), Num(0.5)});
  reset.assignments.push_back({"x", Num(1.0)});
  m.events.push_back(reset);
  auto cm = MustCompile(m);
  ASSERT_NE(cm, nullptr);
  auto r = SimulateWithSensitivities(cm, TightOptions(2.5, 5), {{"x"}}, {"k", "x"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->trajectory.summary.events_fired, 1);
  const double k = 0.5, tau = std::log(2.0) / k;
  for (size_t i = 0; i < r->trajectory.rows; ++i) {
    const double t = r->trajectory.at(i, 0);
    const double e = std::exp(-k * t);
    // Tolerances: |x - ref| <= 1e-9 + 1e-6 |ref| (CVODES at rel 1e-10; the
    // event time is located to root-finding accuracy).
    if (t < tau) {
      ExpectClose(r->at(i, 0, 0), -t * e, 1e-9, 1e-6, "dx/dk before the reset");
      ExpectClose(r->at(i, 0, 1), e, 1e-9, 1e-6, "dx/dx0 before the reset");
    } else {
      ExpectClose(r->trajectory.at(i, 1), 2 * e, 1e-9, 1e-6, "x after the reset");
      ExpectClose(r->at(i, 0, 0), -2 * t * e, 1e-9, 1e-6, "dx/dk after the reset");
      ExpectClose(r->at(i, 0, 1), 2 * e, 1e-9, 1e-6, "dx/dx0 after the reset");
    }
  }
}

TEST(SensitivityTest, RightHandSideSwitchesAtMovingTimesJump) {
  // y' = piecewise(0, time < T, 1): y = max(0, t - T), dy/dT = -1 after T (a
  // switch at a parameter time). z' = piecewise(a, z < 1, 0.5), z(0) = 0: z =
  // a t until tau = 1 / a, then 1 + 0.5 (t - 1 / a), so dz/da = t before tau
  // and 0.5 / a^2 after (a switch on the state). Tolerance |x - ref| <= 1e-8
  // + 1e-6 |ref| (the switch on z is located by root finding).
  model::Model m;
  m.parameters.push_back({.id = "T", .value = 1.0});
  m.parameters.push_back({.id = "a", .value = 2.5});  // tau = 0.4, between output times
  m.parameters.push_back({.id = "y", .value = 0.0, .constant = false});
  m.parameters.push_back({.id = "z", .value = 0.0, .constant = false});
  m.rules.push_back({model::RuleKind::kRate, "y",
                     Apply(Op::kPiecewise, {Num(0.0), Apply(Op::kLt, {Expr::Leaf(Op::kTime), Sym("T")}), Num(1.0)})});
  m.rules.push_back({model::RuleKind::kRate, "z",
                     Apply(Op::kPiecewise, {Sym("a"), Apply(Op::kLt, {Sym("z"), Num(1.0)}), Num(0.5)})});
  auto cm = MustCompile(m);
  ASSERT_NE(cm, nullptr);
  auto r = SimulateWithSensitivities(cm, TightOptions(2.0, 8), {{"y"}, {"z"}}, {"T", "a"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (size_t i = 0; i < r->trajectory.rows; ++i) {
    const double t = r->trajectory.at(i, 0), a = 2.5;
    ExpectClose(r->at(i, 0, 0), t < 1.0 ? 0.0 : -1.0, 1e-8, 1e-6, "dy/dT at t = " + std::to_string(t));
    ExpectClose(r->at(i, 0, 1), 0.0, 1e-8, 0, "dy/da");
    ExpectClose(r->at(i, 1, 1), t < 1 / a ? t : 0.5 / (a * a), 1e-8, 1e-6, "dz/da at t = " + std::to_string(t));
    ExpectClose(r->at(i, 1, 0), 0.0, 1e-8, 0, "dz/dT");
  }
}

TEST(SensitivityTest, SwitchOnAFallingStateJumpsWhereTheRootLandsOnTheOldSide) {
  // SBML Test Suite 00194's form: w' = -k w, w(0) = 1, and x' = piecewise(p1,
  // w < 0.5, p2), x(0) = 0. The switch is at tau = ln 2 / k, where root
  // finding leaves w at 0.5 to rounding, on either side; f+ must be taken
  // on the new side. After tau, x = p2 tau + p1 (t - tau), so dx/dk =
  // (p1 - p2) ln 2 / k^2 (and 0 before). Tolerance 1e-8 + 1e-6 |ref|.
  model::Model m;
  m.parameters.push_back({.id = "k", .value = 1.0});
  m.parameters.push_back({.id = "p1", .value = 1.5});
  m.parameters.push_back({.id = "p2", .value = 0.05});
  m.parameters.push_back({.id = "w", .value = 1.0, .constant = false});
  m.parameters.push_back({.id = "x", .value = 0.0, .constant = false});
  m.rules.push_back({model::RuleKind::kRate, "w", Apply(Op::kTimes, {Num(-1.0), Sym("k"), Sym("w")})});
  m.rules.push_back({model::RuleKind::kRate, "x",
                     Apply(Op::kPiecewise, {Sym("p1"), Apply(Op::kLt, {Sym("w"), Num(0.5)}), Sym("p2")})});
  auto cm = MustCompile(m);
  ASSERT_NE(cm, nullptr);
  auto r = SimulateWithSensitivities(cm, TightOptions(2.0, 8), {{"x"}}, {"k"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const double tau = std::log(2.0);
  for (size_t i = 0; i < r->trajectory.rows; ++i) {
    const double t = r->trajectory.at(i, 0);
    ExpectClose(r->at(i, 0, 0), t < tau ? 0.0 : (1.5 - 0.05) * std::log(2.0), 1e-8, 1e-6,
                "dx/dk at t = " + std::to_string(t));
  }
}

// floor() of a state jumps where no root function looks: refused, named.
TEST(SensitivityTest, FloorOfAStateInARateIsUnsupported) {
  model::Model m;
  m.parameters.push_back({.id = "k", .value = 1.0});
  m.parameters.push_back({.id = "w", .value = 3.0, .constant = false});
  m.rules.push_back({model::RuleKind::kRate, "w", Apply(Op::kTimes, {Num(-1.0), Sym("k"), Apply(Op::kFloor, {Sym("w")})})});
  auto cm = MustCompile(m);
  ASSERT_NE(cm, nullptr);
  auto r = SimulateWithSensitivities(cm, TightOptions(2.0, 8), {{"w"}}, {"k"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(r.status().message().find("the rate of 'w' contains floor() of the state"), std::string::npos)
      << r.status().ToString();
}

TEST(SensitivityTest, ConcurrentRunsOnOneSharedModelAgree) {
  auto cm = MustCompile(DecayModel());
  ASSERT_NE(cm, nullptr);
  std::vector<std::vector<double>> got(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] {
      auto r = SimulateWithSensitivities(cm, TightOptions(2.0, 4), {{"A"}, {"B"}}, {"k", "V"});
      if (r.ok()) got[i] = r->sensitivities;
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_FALSE(got[0].empty());
  for (size_t i = 1; i < got.size(); ++i) EXPECT_EQ(got[i], got[0]);  // bit-identical
}

TEST(SensitivityTest, TrajectoryEqualsSimulator) {
  auto cm = MustCompile(DecayModel());
  ASSERT_NE(cm, nullptr);
  auto r = SimulateWithSensitivities(cm, TightOptions(4.0, 8), {{"A"}}, {"k"});
  auto plain = Simulator(cm).Simulate(TightOptions(4.0, 8), {{"A"}});
  ASSERT_TRUE(r.ok() && plain.ok());
  for (size_t i = 0; i < plain->rows; ++i) {
    // Both at rel_tol 1e-10: |x - ref| <= 1e-12 + 1e-8 |ref|.
    ExpectClose(r->trajectory.at(i, 1), plain->at(i, 1), 1e-12, 1e-8, "A");
  }
}

TEST(SensitivityTest, LocalParameterAndInitialAssignmentChain) {
  // Rate uses the local parameter R.kl = 0.5 and q, whose initial assignment
  // q = 2 * c reads c = 0.25: dA/dt = -kl q A ... with q = 0.5, rate
  // constant kl * q = 0.25.
  model::Model m = DecayModel();
  m.parameters.push_back({.id = "c", .value = 0.25});
  m.parameters.push_back({.id = "q"});
  m.initial_assignments.push_back({"q", Apply(Op::kTimes, {Num(2.0), Sym("c")})});
  m.reactions[0].local_parameters.push_back({.id = "kl", .value = 0.5});
  m.reactions[0].kinetic_law = Apply(Op::kTimes, {Sym("kl"), Sym("q"), Sym("A"), Sym("V")});
  auto cm = MustCompile(m);
  ASSERT_NE(cm, nullptr);
  auto r = SimulateWithSensitivities(cm, TightOptions(3.0, 3), {{"A"}}, {"R.kl", "c"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (size_t i = 0; i < r->trajectory.rows; ++i) {
    const double t = r->trajectory.at(i, 0), e = std::exp(-0.25 * t);
    // A = exp(-kl * 2c * t): dA/dkl = -2c t A, dA/dc = -2 kl t A.
    // Tolerance: |x - ref| <= 1e-10 + 1e-6 |ref|.
    ExpectClose(r->at(i, 0, 0), -0.5 * t * e, 1e-10, 1e-6, "dA/dR.kl");
    ExpectClose(r->at(i, 0, 1), -1.0 * t * e, 1e-10, 1e-6, "dA/dc");
  }
  // q's declared value is overridden: not a parameter.
  auto bad = SimulateWithSensitivities(cm, TightOptions(1, 1), {{"A"}}, {"q"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("initial assignment"), std::string::npos);
}

TEST(SensitivityTest, TimeEventThatChangesTheParameter) {
  // At t >= 1, k becomes 0: for t >= 1, A = exp(-k) and dA/dk = -exp(-k);
  // the event erases k's own sensitivity (its new value does not depend on k).
  model::Model m = DecayModel();
  m.parameters[0].constant = false;
  model::Event ev;
  ev.id = "stop";
  ev.trigger = Apply(Op::kGe, {Expr::Leaf(Op::kTime), Num(1.0)});
  ev.assignments.push_back({"k", Num(0.0)});
  m.events.push_back(ev);
  auto cm = MustCompile(m);
  ASSERT_NE(cm, nullptr);
  auto r = SimulateWithSensitivities(cm, TightOptions(3.0, 6), {{"A"}, {"k"}}, {"k"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->trajectory.summary.events_fired, 1);
  for (size_t i = 0; i < r->trajectory.rows; ++i) {
    const double t = r->trajectory.at(i, 0), te = std::min(t, 1.0);
    // Tolerance: |x - ref| <= 1e-9 + 1e-6 |ref| (the event time is found by
    // root finding).
    ExpectClose(r->at(i, 0, 0), -te * std::exp(-0.5 * te), 1e-9, 1e-6, "dA/dk at t = " + std::to_string(t));
    ExpectClose(r->at(i, 1, 0), t < 1.0 ? 1.0 : 0.0, 0, 0, "dk/dk");
  }
}

TEST(SensitivityTest, EventsAtTimesThatMoveAndAlgebraicRules) {
  // A state event: when A = exp(-k t) falls below 0.5 (at tau = ln 2 / k), B
  // (an amount, V (1 - A) before) is set to 0. After it B = V (A(tau) - A(t))
  // = 2 (0.5 - exp(-k t)), so dB/dk = 2 t exp(-k t): the jump includes
  // d tau / dk. Tolerance |x - ref| <= 1e-9 + 1e-6 |ref| (root finding).
  model::Model m = DecayModel();
  model::Event ev;
  ev.id = "low_A";
  ev.trigger = Apply(Op::kLt, {Sym("A"), Num(0.5)});
  ev.assignments.push_back({"B", Num(0.0)});
  m.events.push_back(ev);
  auto cm = MustCompile(m);
  ASSERT_NE(cm, nullptr);
  auto r = SimulateWithSensitivities(cm, TightOptions(3, 6), {{"B", SpeciesQuantity::kAmount}}, {"k"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const double tau = std::log(2.0) / 0.5;
  for (size_t i = 0; i < r->trajectory.rows; ++i) {
    const double t = r->trajectory.at(i, 0), e = std::exp(-0.5 * t);
    // Before tau B = 2 (1 - exp(-k t)): the same derivative on both sides.
    ExpectClose(r->at(i, 0, 0), 2 * t * e, 1e-9, 1e-6, "dB/dk at t = " + std::to_string(t));
    if (t > tau) ExpectClose(r->trajectory.at(i, 1), 2 * (0.5 - e), 1e-9, 1e-6, "B");
  }

  // A time event whose time is a chosen parameter moves with it: B is set to
  // 0 at t_dose, then B = 2 (exp(-k t_dose) - exp(-k t)), dB/dt_dose =
  // -2 k exp(-k t_dose).
  model::Model m2 = DecayModel();
  m2.parameters.push_back({.id = "t_dose", .value = 1.0});
  model::Event dose;
  dose.id = "dose";
  dose.trigger = Apply(Op::kGe, {Expr::Leaf(Op::kTime), Sym("t_dose")});
  dose.assignments.push_back({"B", Num(0.0)});
  m2.events.push_back(dose);
  auto cm2 = MustCompile(m2);
  ASSERT_NE(cm2, nullptr);
  auto moved = SimulateWithSensitivities(cm2, TightOptions(2, 4), {{"B", SpeciesQuantity::kAmount}}, {"t_dose", "k"});
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  for (size_t i = 0; i < moved->trajectory.rows; ++i) {
    const double t = moved->trajectory.at(i, 0);
    ExpectClose(moved->at(i, 0, 0), t < 1.0 ? 0.0 : -2 * 0.5 * std::exp(-0.5), 1e-9, 1e-6, "dB/dt_dose at t = " + std::to_string(t));
    // dB/dk: before t_dose 2 t e^{-kt}; after, 2 (-t_dose e^{-k t_dose} + t e^{-k t}).
    const double dk = t < 1.0 ? 2 * t * std::exp(-0.5 * t) : 2 * (-std::exp(-0.5) + t * std::exp(-0.5 * t));
    ExpectClose(moved->at(i, 0, 1), dk, 1e-9, 1e-6, "dB/dk at t = " + std::to_string(t));
  }

  // An algebraic rule 0 = x - c A determines x (A = e^{-kt}, the
  // concentration), and y' = x reads it: x = c e^{-kt}, y = c (1 - e^{-kt}) / k.
  // dx/dk = -c t e^{-kt}, dx/dc = e^{-kt}; dy/dk = c (t e^{-kt} / k - (1 -
  // e^{-kt}) / k^2), dy/dc = (1 - e^{-kt}) / k. Tolerance 1e-9 + 1e-6 |ref|.
  model::Model m3 = DecayModel();
  m3.parameters.push_back({.id = "c", .value = 3.0});
  m3.parameters.push_back({.id = "x", .constant = false});
  m3.parameters.push_back({.id = "y", .value = 0.0, .constant = false});
  m3.rules.push_back({model::RuleKind::kAlgebraic, "", Apply(Op::kMinus, {Sym("x"), Mul({Sym("c"), Sym("A")})})});
  m3.rules.push_back({model::RuleKind::kRate, "y", Sym("x")});
  auto cm3 = MustCompile(m3);
  ASSERT_NE(cm3, nullptr);
  auto a = SimulateWithSensitivities(cm3, TightOptions(2, 4), {{"x"}, {"y"}}, {"k", "c"});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  for (size_t i = 0; i < a->trajectory.rows; ++i) {
    const double t = a->trajectory.at(i, 0), k = 0.5, c = 3.0, e = std::exp(-k * t);
    const std::string at = " at t = " + std::to_string(t);
    ExpectClose(a->at(i, 0, 0), -c * t * e, 1e-9, 1e-6, "dx/dk" + at);
    ExpectClose(a->at(i, 0, 1), e, 1e-9, 1e-6, "dx/dc" + at);
    ExpectClose(a->at(i, 1, 0), c * (t * e / k - (1 - e) / (k * k)), 1e-9, 1e-6, "dy/dk" + at);
    ExpectClose(a->at(i, 1, 1), (1 - e) / k, 1e-9, 1e-6, "dy/dc" + at);
  }
}

TEST(SensitivityTest, BadParametersAreNamed) {
  auto cm = MustCompile(DecayModel());
  ASSERT_NE(cm, nullptr);
  for (const char* p : {"nope", "R"}) {
    auto r = SimulateWithSensitivities(cm, TightOptions(1, 1), {{"A"}}, {p});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(std::string("'") + p + "'"), std::string::npos) << r.status().message();
  }
  EXPECT_FALSE(SimulateWithSensitivities(cm, TightOptions(1, 1), {{"A"}}, {}).ok());
  EXPECT_FALSE(SimulateWithSensitivities(cm, TightOptions(1, 1), {{"A"}}, {"k", "k"}).ok());
}

// Central differences of full simulations: (x(p + h) - x(p - h)) / 2h.
template <typename Perturb>
std::vector<double> CentralDifference(const model::Model& base, Perturb perturb, double p, double h,
                                      const SimulationOptions& o, const std::vector<OutputVariable>& outs) {
  std::vector<double> plus, minus;
  for (int side : {1, -1}) {
    model::Model m = base;
    perturb(m, p + side * h);
    auto cm = CompiledModel::Compile(m);
    EXPECT_TRUE(cm.ok());
    auto r = Simulator(*cm).Simulate(o, outs);
    EXPECT_TRUE(r.ok());
    (side > 0 ? plus : minus) = r->values;
  }
  std::vector<double> d(plus.size());
  for (size_t i = 0; i < d.size(); ++i) d[i] = (plus[i] - minus[i]) / (2 * h);
  return d;
}

// A sensitivity parameter for ExpectMatchesCentralDifferences: its id, its
// value, and how to set it in the model.
struct FdCase {
  const char* name;
  double value;
  std::function<void(model::Model&, double)> set;
};

// sens (parameters in the order of `cases`) against central differences with
// step h = rel_step * value. Finite differences carry O(h^2) truncation and
// solver (and root-location) noise over h: |x - fd| <= 1e-6 + 1e-5 |fd|.
void ExpectMatchesCentralDifferences(const model::Model& m, const SensitivityResult& sens, const std::vector<FdCase>& cases,
                                    double rel_step, const SimulationOptions& o, const std::vector<OutputVariable>& outs) {
  const size_t ncol = 1 + outs.size();
  for (size_t k = 0; k < cases.size(); ++k) {
    auto fd = CentralDifference(m, cases[k].set, cases[k].value, rel_step * cases[k].value, o, outs);
    for (size_t row = 0; row < sens.trajectory.rows; ++row) {
      for (size_t j = 0; j < outs.size(); ++j) {
        ExpectClose(sens.at(row, j, k), fd[row * ncol + 1 + j], 1e-6, 1e-5,
                    std::string("d") + outs[j].id + "/d" + cases[k].name + " row " + std::to_string(row));
      }
    }
  }
}

TEST(SensitivityTest, MichaelisMentenMatchesFiniteDifferences) {
  // S -> P, rate Vmax S / (Km + S) in a unit compartment; S0 = 10.
  model::Model m;
  m.id = "mm";
  m.compartments.push_back({.id = "cell", .size = 1.0});
  m.species.push_back({.id = "S", .compartment = "cell", .initial_concentration = 10.0});
  m.species.push_back({.id = "P", .compartment = "cell", .initial_concentration = 0.0});
  m.parameters.push_back({.id = "Vmax", .value = 2.0});
  m.parameters.push_back({.id = "Km", .value = 3.0});
  model::Reaction r;
  r.id = "R";
  r.reactants.push_back({.species = "S"});
  r.products.push_back({.species = "P"});
  r.kinetic_law = Apply(Op::kDivide, {Apply(Op::kTimes, {Sym("Vmax"), Sym("S")}), Apply(Op::kPlus, {Sym("Km"), Sym("S")})});
  m.reactions.push_back(r);
  auto cm = MustCompile(m);
  ASSERT_NE(cm, nullptr);
  const SimulationOptions o = TightOptions(8.0, 8);
  const std::vector<OutputVariable> outs = {{"S"}, {"R"}};
  auto sens = SimulateWithSensitivities(cm, o, outs, {"Vmax", "Km", "S"});
  ASSERT_TRUE(sens.ok()) << sens.status().ToString();
  ExpectMatchesCentralDifferences(m, *sens,
                                  {{"Vmax", 2.0, [](model::Model& x, double v) { x.parameters[0].value = v; }},
                                   {"Km", 3.0, [](model::Model& x, double v) { x.parameters[1].value = v; }},
                                   {"S", 10.0, [](model::Model& x, double v) { x.species[0].initial_concentration = v; }}},
                                  1e-4, o, outs);
}

// Fast A <-> B (law kf A - kr B) and slow B -> at rate k B, from A = 3;
// an event at t = 2 sets kf = 3, so the reaction has a switch
// (CompiledModel::FastReactions::Switch), which stays on.
model::Model SwitchableRapidEquilibrium(double kf) {
  model::Model m;
  m.id = "switchable";
  m.compartments.push_back({.id = "V", .size = 1.0});
  m.species.push_back({.id = "A", .compartment = "V", .initial_amount = 3.0});
  m.species.push_back({.id = "B", .compartment = "V", .initial_amount = 0.0});
  m.parameters.push_back({.id = "kf", .value = kf, .constant = false});
  m.parameters.push_back({.id = "kr", .value = 2.0});
  m.parameters.push_back({.id = "k", .value = 0.5});
  m.reactions.push_back(MakeReaction("equilibrium", {"A"}, {"B"}, Sub(Mul({Sym("kf"), Sym("A")}), Mul({Sym("kr"), Sym("B")})),
                                      /*fast=*/true));
  m.reactions.push_back(MakeReaction("degradation", {"B"}, {}, Mul({Sym("k"), Sym("B")})));
  model::Event ev;
  ev.trigger = Apply(Op::kGe, {Expr::Leaf(Op::kTime), Num(2.0)});
  ev.assignments.push_back({"kf", Num(3.0)});
  m.events.push_back(ev);
  return m;
}

// While a fast reaction with a switch is on, sensitivities are those of
// rapid equilibrium (checked against central differences); switched off
// (a law k2 A with k2 = 0), they are refused, naming the reaction.
TEST(SensitivityTest, FastReactionsWithASwitchOnMatchFiniteDifferencesAndOffAreUnsupported) {
  model::Model m = SwitchableRapidEquilibrium(1.0);
  auto cm = MustCompile(m);
  ASSERT_NE(cm, nullptr);
  ASSERT_EQ(cm->fast_reactions().switches.size(), 1u);
  const SimulationOptions o = TightOptions(4.0, 8);
  const std::vector<OutputVariable> outs = {{"A"}, {"B"}};
  auto sens = SimulateWithSensitivities(cm, o, outs, {"kr", "k"});
  ASSERT_TRUE(sens.ok()) << sens.status().ToString();
  ExpectMatchesCentralDifferences(m, *sens,
                                  {{"kr", 2.0, [](model::Model& x, double v) { x.parameters[1].value = v; }},
                                   {"k", 0.5, [](model::Model& x, double v) { x.parameters[2].value = v; }}},
                                  1e-4, o, outs);
  model::Model off = SwitchableRapidEquilibrium(0.0);
  off.reactions[0].kinetic_law = Mul({Sym("kf"), Sym("A")});
  cm = MustCompile(off);
  ASSERT_NE(cm, nullptr);
  auto refused = SimulateWithSensitivities(cm, o, outs, {"kr", "k"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(refused.status().message().find("fast reaction 'equilibrium' is switched off"), std::string::npos)
      << refused.status().message();
}

TEST(SensitivityTest, StateEventThatSetsARateFromTheStateMatchesFiniteDifferences) {
  // x' = -k x + u (amount in a unit compartment, x0 = 2); when x falls below
  // 1, the inflow u (a parameter, 0 before) is set to c x: a discrete target
  // whose assigned value moves along the trajectory, at a time that moves
  // with k, c and x0.
  model::Model m;
  m.compartments.push_back({.id = "V", .size = 1.0});
  m.species.push_back({.id = "x", .compartment = "V", .initial_amount = 2.0, .has_only_substance_units = true});
  m.parameters.push_back({.id = "k", .value = 0.7});
  m.parameters.push_back({.id = "c", .value = 0.4});
  m.parameters.push_back({.id = "u", .value = 0.0, .constant = false});
  model::Reaction out, in;
  out.id = "out";
  out.reactants.push_back({.species = "x"});
  out.kinetic_law = Mul({Sym("k"), Sym("x")});
  in.id = "in";
  in.products.push_back({.species = "x"});
  in.kinetic_law = Sym("u");
  m.reactions = {out, in};
  model::Event low;
  low.id = "low";
  low.trigger = Apply(Op::kLt, {Sym("x"), Num(1.0)});
  low.assignments.push_back({"u", Mul({Sym("c"), Sym("x")})});
  m.events.push_back(low);
  auto cm = MustCompile(m);
  ASSERT_NE(cm, nullptr);
  const SimulationOptions o = TightOptions(4.0, 8);
  const std::vector<OutputVariable> outs = {{"x"}, {"u"}};
  auto sens = SimulateWithSensitivities(cm, o, outs, {"k", "c", "x"});
  ASSERT_TRUE(sens.ok()) << sens.status().ToString();
  EXPECT_EQ(sens->trajectory.summary.events_fired, 1);
  ExpectMatchesCentralDifferences(m, *sens,
                                  {{"k", 0.7, [](model::Model& x, double v) { x.parameters[0].value = v; }},
                                   {"c", 0.4, [](model::Model& x, double v) { x.parameters[1].value = v; }},
                                   {"x", 2.0, [](model::Model& x, double v) { x.species[0].initial_amount = v; }}},
                                  1e-5, o, outs);
}

TEST(SensitivityTest, BergmanWithInsulinBolusMatchesFiniteDifferences) {
  // The bundled minimal model, its time event (I += 50 at t = 30) included.
  auto imported = formats::LoadSbmlFile(std::string(SOMA_SOURCE_DIR) + "/models/bergman-minimal.xml");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  const model::Model& m = imported->model;
  auto cm = MustCompile(m);
  ASSERT_NE(cm, nullptr);
  const SimulationOptions o = TightOptions(60.0, 12);
  const std::vector<OutputVariable> outs = {{"G"}, {"X"}, {"I"}};
  const std::vector<std::string> params = {"p1", "p2", "p3", "n", "G"};
  auto sens = SimulateWithSensitivities(cm, o, outs, params);
  ASSERT_TRUE(sens.ok()) << sens.status().ToString();
  EXPECT_EQ(sens->trajectory.summary.events_fired, 1);
  for (size_t k = 0; k < params.size(); ++k) {
    const model::Parameter* p = m.FindParameter(params[k]);
    ASSERT_NE(p, nullptr);
    const double value = *p->value, h = 1e-4 * value;
    auto set = [&](model::Model& x, double v) {
      for (auto& q : x.parameters) {
        if (q.id == params[k]) q.value = v;
      }
    };
    auto fd = CentralDifference(m, set, value, h, o, outs);
    for (size_t row = 0; row < sens->trajectory.rows; ++row) {
      for (size_t j = 0; j < outs.size(); ++j) {
        // |x - fd| <= 1e-6 |scale| + 1e-5 |fd|, with the scale of the output
        // per unit relative change of p (|fd| alone is 0 at t = 0).
        const double scale = 1e-6 * std::max(1.0, std::abs(sens->trajectory.at(row, 1 + j) / value));
        ExpectClose(sens->at(row, j, k), fd[row * 4 + 1 + j], scale, 1e-5,
                    "d" + outs[j].id + "/d" + params[k] + " at t = " + std::to_string(sens->trajectory.at(row, 0)));
      }
    }
  }
}

TEST(SensitivityTest, ProductFormRightHandSideMatchesDirectionalDifferences) {
  // Michaelis-Menten with an assignment rule and a parameter an event
  // changes (so a non-state slot carries sensitivities). The states'
  // sensitivity equations (ProductRhs, used by the integrator) give
  // sum over slots v of (d f / d w_v) s_v,k, the derivative of the model's
  // own right-hand side along the direction s_.,k: checked against central
  // differences of CompiledModel::rhs() with step 1e-6 at random workspaces,
  // |x - ref| <= 1e-7 (|ref| + 1) (truncation O(h^2), rounding ~1e-10).
  model::Model m;
  m.id = "mm";
  m.compartments.push_back({.id = "cell", .size = 2.0});
  m.species.push_back({.id = "S", .compartment = "cell", .initial_concentration = 10.0});
  m.species.push_back({.id = "P", .compartment = "cell", .initial_concentration = 0.0});
  m.species.push_back({.id = "E", .compartment = "cell", .initial_concentration = 1.0});
  m.parameters.push_back({.id = "Vmax", .value = 2.0});
  m.parameters.push_back({.id = "Km", .value = 3.0});
  m.parameters.push_back({.id = "kd", .value = 0.1, .constant = false});
  m.parameters.push_back({.id = "v", .constant = false});
  m.rules.push_back({model::RuleKind::kAssignment, "v",
                     Apply(Op::kDivide, {Apply(Op::kTimes, {Sym("Vmax"), Sym("E"), Sym("S")}),
                                         Apply(Op::kPlus, {Sym("Km"), Sym("S")})})});
  model::Reaction r;
  r.id = "R";
  r.reactants.push_back({.species = "S"});
  r.products.push_back({.species = "P"});
  r.kinetic_law = Apply(Op::kTimes, {Sym("cell"), Sym("v")});
  model::Reaction d;
  d.id = "D";
  d.reactants.push_back({.species = "E"});
  d.kinetic_law = Apply(Op::kTimes, {Sym("cell"), Sym("kd"), Sym("E"), Sym("E")});
  m.reactions = {r, d};
  model::Event ev;
  ev.id = "more_decay";
  ev.trigger = Apply(Op::kLt, {Sym("S"), Num(5.0)});
  ev.assignments.push_back({"kd", Apply(Op::kTimes, {Num(2.0), Sym("Km")})});
  m.events.push_back(ev);
  auto cm = MustCompile(m);
  ASSERT_NE(cm, nullptr);
  auto sp = cm->CompileSensitivities({"Vmax", "Km", "kd", "S", "cell"}, {{"P"}});
  ASSERT_TRUE(sp.ok()) << sp.status().ToString();
  const size_t n = sp->num_states, np = sp->parameters.size();
  ASSERT_GT(sp->rhs_partials.num_outputs(), n);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> value(0.5, 3.0), direction(-1.0, 1.0);
  const expr::Program& f = cm->rhs();
  std::vector<double> f_scratch = f.NewScratch(), fp(n), fm(n), product(n * np);
  auto ps = sp->NewProductScratch();
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> ws = cm->DeclaredWorkspace(0.0);
    ws.resize(sp->workspace_size());
    for (size_t v = 1; v < sp->num_slots; ++v) ws[v] = value(rng);
    for (size_t v = sp->num_slots; v < ws.size(); ++v) ws[v] = direction(rng);
    std::vector<std::vector<double>> s(np, std::vector<double>(n));
    std::vector<const double*> sk(np);
    for (size_t k = 0; k < np; ++k) {
      for (size_t i = 0; i < n; ++i) s[k][i] = ws[sp->SensitivitySlot(static_cast<uint32_t>(1 + i), k)];
      sk[k] = s[k].data();
    }
    sp->ProductRhs(ws.data(), sk.data(), product.data(), ps);
    for (size_t k = 0; k < np; ++k) {
      // The direction: the sensitivities of the slots whose sensitivities
      // can be nonzero (the states and sensitivity_columns), 0 elsewhere.
      const double h = 1e-6;
      std::vector<double> wp(ws.begin(), ws.begin() + static_cast<long>(sp->num_slots)), wm = wp;
      for (uint32_t v : sp->sensitivity_columns) {
        wp[v] += h * ws[sp->SensitivitySlot(v, k)];
        wm[v] -= h * ws[sp->SensitivitySlot(v, k)];
      }
      f.Run(wp.data(), fp.data(), f_scratch.data());
      f.Run(wm.data(), fm.data(), f_scratch.data());
      for (size_t i = 0; i < n; ++i) {
        const double ref = (fp[i] - fm[i]) / (2 * h);
        EXPECT_NEAR(product[i + k * n], ref, 1e-7 * (std::abs(ref) + 1))
            << "trial " << trial << ", state " << i << ", parameter " << sp->parameters[k];
      }
    }
  }
}

}  // namespace
}  // namespace soma::sim
