// Steady states against analytic solutions and invariants. Models are built
// directly in the IR so these tests do not depend on a file format.

#include "sim/steady_state.h"

#include <cmath>

#include <gtest/gtest.h>

#include "sim/model_system.h"
#include "sim/sim_test_util.h"

namespace soma::sim {
namespace {

using namespace soma::sim::testing;  // NOLINT(google-build-using-namespace)

using expr::Expr;
using expr::Op;

std::shared_ptr<const CompiledModel> Compile(const model::Model& m) {
  auto cm = CompiledModel::Compile(m);
  EXPECT_TRUE(cm.ok()) << cm.status().ToString();
  return cm.ok() ? *cm : nullptr;
}

// Tight tolerances: with |f| <= abs + rel |y| the distance to the exact
// steady state is at most about |f| / |slowest rate|.
SteadyStateOptions Tight() {
  SteadyStateOptions o;
  o.abs_tol = 1e-12;
  o.rel_tol = 1e-10;
  return o;
}

// -> S at k0 V, S -> at k1 S V in a compartment of size 2 (S a
// concentration): S* = k0 / k1 = 4, amount 8; d f / d amount = -k1.
model::Model ProductionDegradation() {
  model::Model m;
  m.id = "production_degradation";
  m.compartments.push_back({.id = "V", .size = 2.0});
  m.species.push_back({.id = "S", .compartment = "V", .initial_concentration = 0.0});
  m.parameters.push_back({.id = "k0", .value = 2.0});
  m.parameters.push_back({.id = "k1", .value = 0.5});
  m.reactions.push_back(MakeReaction("production", {}, {"S"}, Mul({Sym("k0"), Sym("V")})));
  m.reactions.push_back(MakeReaction("degradation", {"S"}, {}, Mul({Sym("k1"), Sym("S"), Sym("V")})));
  return m;
}

// A <-> B (kf A - kr B), amounts in V = 1, A0 = 3, B0 = 0: A* = T kr / (kf +
// kr) = 1, B* = 2. The conserved total makes the Jacobian singular.
model::Model Isomerisation() {
  model::Model m;
  m.id = "isomerisation";
  m.compartments.push_back({.id = "V", .size = 1.0});
  m.species.push_back({.id = "A", .compartment = "V", .initial_amount = 3.0});
  m.species.push_back({.id = "B", .compartment = "V", .initial_amount = 0.0});
  m.parameters.push_back({.id = "kf", .value = 1.0});
  m.parameters.push_back({.id = "kr", .value = 0.5});
  m.reactions.push_back(
      MakeReaction("R", {"A"}, {"B"}, Sub(Mul({Sym("kf"), Sym("A")}), Mul({Sym("kr"), Sym("B")}))));
  return m;
}

model::Model RateRules(std::vector<std::pair<const char*, Expr>> rules, std::vector<std::pair<const char*, double>> x0) {
  model::Model m;
  m.id = "rate_rules";
  for (auto& [id, v] : x0) m.parameters.push_back({.id = id, .value = v, .constant = false});
  for (auto& [id, rate] : rules) m.rules.push_back({model::RuleKind::kRate, id, std::move(rate)});
  return m;
}

TEST(SteadyStateTest, ProductionDegradationByNewton) {
  auto cm = Compile(ProductionDegradation());
  ASSERT_NE(cm, nullptr);
  auto r = FindSteadyState(*cm, Tight(), {{"S"}, {"S", SpeciesQuantity::kAmount}, {"degradation"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.route, SteadyStateRoute::kNewton) << r->summary.FullReport();
  // |f| <= 1e-12 + 1e-10 * 8 in amount / time: amount within 1.6e-9 / 0.5.
  ExpectClose(r->values[0], 4.0, 1e-9, 1e-9);
  ExpectClose(r->values[1], 8.0, 1e-9, 1e-9);
  ExpectClose(r->values[2], 4.0, 1e-9, 1e-9);  // degradation flux = production k0 V
  EXPECT_LE(r->summary.max_scaled_rate, 1.0);
  ASSERT_EQ(r->state_ids.size(), 1u);
  EXPECT_EQ(r->state_ids[0], "S");
  ExpectClose(r->states[0], 8.0, 1e-9, 1e-9);
  EXPECT_EQ(r->summary.stability.verdict, Stability::kStable);
  ExpectClose(r->summary.stability.max_real_part, -0.5, 1e-12, 1e-10);
  EXPECT_NE(r->summary.BriefReport().find("newton"), std::string::npos);
}

TEST(SteadyStateTest, ConservedMoietyFallsBackToIntegration) {
  auto cm = Compile(Isomerisation());
  ASSERT_NE(cm, nullptr);
  auto r = FindSteadyState(*cm, Tight());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // The Jacobian is singular everywhere: integration, and no Newton polish.
  EXPECT_EQ(r->summary.route, SteadyStateRoute::kIntegration) << r->summary.FullReport();
  EXPECT_NE(r->summary.newton_rejected.find("singular"), std::string::npos) << r->summary.newton_rejected;
  EXPECT_GT(r->summary.integrator.steps, 0);
  // |f| <= 1e-12 + 1e-10 * 2 over the decay rate kf + kr = 1.5, plus the
  // integrator's drift of the total (rel_tol 1e-13): well inside 1e-8.
  ExpectClose(r->value("A"), 1.0, 1e-8, 1e-8);
  ExpectClose(r->value("B"), 2.0, 1e-8, 1e-8);
  ExpectClose(r->value("A") + r->value("B"), 3.0, 1e-10, 1e-10);  // the initial total
  EXPECT_EQ(r->summary.stability.verdict, Stability::kStable) << r->summary.stability.Describe();
  ExpectClose(r->summary.stability.max_real_part, -1.5, 1e-9, 1e-9);
  EXPECT_EQ(r->summary.stability.zero_eigenvalues, 1);
}

// Fast A -> B with law k2 A and slow B -> A at k1 B, from A = 0, B = 2.
// With k2 = 0 the fast reaction is switched off (its law vanishes whatever
// the amounts) and the slow one empties B: A = 2, B = 0. With k2 = 1 the
// fast reaction holds A at 0: A = 0, B = 2. A slow reaction at a constant
// rate has no steady state, and the message says which internal state
// still moves.
TEST(SteadyStateTest, FastReactionsSwitchedOffLetTheSlowOnesMoveTheirSpecies) {
  auto model = [](double k2, Expr slow_law) {
    model::Model m;
    m.compartments.push_back({.id = "V", .size = 1.0});
    m.species.push_back({.id = "A", .compartment = "V", .initial_amount = 0.0});
    m.species.push_back({.id = "B", .compartment = "V", .initial_amount = 2.0});
    m.parameters.push_back({.id = "k1", .value = 1.0});
    m.parameters.push_back({.id = "k2", .value = k2});
    m.reactions.push_back(MakeReaction("fast", {"A"}, {"B"}, Apply(Op::kTimes, {Sym("k2"), Sym("A")}), true));
    m.reactions.push_back(MakeReaction("slow", {"B"}, {"A"}, std::move(slow_law)));
    return m;
  };
  const Expr mass_action = Apply(Op::kTimes, {Sym("k1"), Sym("B")});
  for (double k2 : {0.0, 1.0}) {
    auto cm = Compile(model(k2, mass_action));
    ASSERT_NE(cm, nullptr);
    auto r = FindSteadyState(*cm, Tight(), {{"A"}, {"B"}});
    ASSERT_TRUE(r.ok()) << "k2 = " << k2 << ": " << r.status().ToString();
    ExpectClose(r->value("A"), k2 == 0.0 ? 2.0 : 0.0, 1e-8, 1e-8, "A");
    ExpectClose(r->value("B"), k2 == 0.0 ? 0.0 : 2.0, 1e-8, 1e-8, "B");
  }
  auto cm = Compile(model(0.0, Sym("k1")));
  ASSERT_NE(cm, nullptr);
  SteadyStateOptions o = Tight();
  o.max_time = 1e3;
  auto r = FindSteadyState(*cm, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("the extent of fast reaction 'fast' while it is switched off"),
            std::string::npos)
      << r.status().message();
}

TEST(SteadyStateTest, NewtonAloneRefusesAConservedMoiety) {
  auto cm = Compile(Isomerisation());
  ASSERT_NE(cm, nullptr);
  SteadyStateOptions o = Tight();
  o.method = SteadyStateMethod::kNewton;
  auto r = FindSteadyState(*cm, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kSolverFailure);
  EXPECT_NE(r.status().message().find("Newton"), std::string::npos) << r.status().message();
}

TEST(SteadyStateTest, EnzymeCycleKeepsBothConservedTotals) {
  // E + S <-> C -> E + P, P -> S: E + C and S + C + P are conserved; at the
  // steady state every rate is ~0. An invariant check, not a formula.
  model::Model m;
  m.compartments.push_back({.id = "V", .size = 1.0});
  m.species.push_back({.id = "E", .compartment = "V", .initial_amount = 1.0});
  m.species.push_back({.id = "S", .compartment = "V", .initial_amount = 10.0});
  m.species.push_back({.id = "C", .compartment = "V", .initial_amount = 0.0});
  m.species.push_back({.id = "P", .compartment = "V", .initial_amount = 0.0});
  m.parameters.push_back({.id = "kon", .value = 2.0});
  m.parameters.push_back({.id = "koff", .value = 1.0});
  m.parameters.push_back({.id = "kcat", .value = 3.0});
  m.parameters.push_back({.id = "kret", .value = 0.2});
  m.reactions.push_back(MakeReaction("bind", {"E", "S"}, {"C"},
                                   Sub(Mul({Sym("kon"), Sym("E"), Sym("S")}), Mul({Sym("koff"), Sym("C")}))));
  m.reactions.push_back(MakeReaction("cat", {"C"}, {"E", "P"}, Mul({Sym("kcat"), Sym("C")})));
  m.reactions.push_back(MakeReaction("ret", {"P"}, {"S"}, Mul({Sym("kret"), Sym("P")})));
  auto cm = Compile(m);
  ASSERT_NE(cm, nullptr);
  auto r = FindSteadyState(*cm, Tight(), {{"E"}, {"S"}, {"C"}, {"P"}, {"cat"}, {"ret"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->summary.route, SteadyStateRoute::kNewton);
  ExpectClose(r->value("E") + r->value("C"), 1.0, 1e-9, 1e-9);
  ExpectClose(r->value("S") + r->value("C") + r->value("P"), 10.0, 1e-9, 1e-9);
  ExpectClose(r->value("cat"), r->value("ret"), 1e-8, 1e-8);  // flux balance around the cycle
  EXPECT_EQ(r->summary.stability.zero_eigenvalues, 2) << r->summary.stability.Describe();
  EXPECT_EQ(r->summary.stability.verdict, Stability::kStable);
}

TEST(SteadyStateTest, AssignmentRulesAreReportedAtTheSteadyState) {
  // k0 := a * b = 2 and Stot := 2 S: S* = 4, Stot* = 8.
  model::Model m = ProductionDegradation();
  m.parameters[0] = {.id = "k0", .constant = false};
  m.parameters.push_back({.id = "a", .value = 1.0});
  m.parameters.push_back({.id = "b", .value = 2.0});
  m.parameters.push_back({.id = "Stot", .constant = false});
  m.rules.push_back({model::RuleKind::kAssignment, "k0", Mul({Sym("a"), Sym("b")})});
  m.rules.push_back({model::RuleKind::kAssignment, "Stot", Mul({Num(2.0), Sym("S")})});
  auto cm = Compile(m);
  ASSERT_NE(cm, nullptr);
  auto r = FindSteadyState(*cm, Tight());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Default outputs: species, then the parameters that are not constant.
  ASSERT_EQ(r->ids, (std::vector<std::string>{"S", "k0", "Stot"}));
  ExpectClose(r->value("S"), 4.0, 1e-9, 1e-9);
  ExpectClose(r->value("k0"), 2.0, 0.0, 1e-15);
  ExpectClose(r->value("Stot"), 8.0, 1e-9, 1e-9);
}

TEST(SteadyStateTest, AlgebraicRuleUsesDifferenceQuotients) {
  // x' = k0 - k1 z, with 0 = z - x / 2 (an algebraic rule): x* = 2 k0 / k1 = 8, z* = 4.
  model::Model m = RateRules({{"x", Sub(Sym("k0"), Mul({Sym("k1"), Sym("z")}))}}, {{"x", 1.0}, {"z", 0.0}});
  m.parameters.push_back({.id = "k0", .value = 2.0});
  m.parameters.push_back({.id = "k1", .value = 0.5});
  m.rules.push_back({model::RuleKind::kAlgebraic, "", Sub(Sym("z"), Mul({Sym("x"), Num(0.5)}))});
  auto cm = Compile(m);
  ASSERT_NE(cm, nullptr);
  auto r = FindSteadyState(*cm, Tight(), {{"x"}, {"z"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.route, SteadyStateRoute::kNewton) << r->summary.FullReport();
  // d x' / d x = -k1 / 2 = -0.25: |x - 8| <= (1e-12 + 8e-10) / 0.25.
  ExpectClose(r->value("x"), 8.0, 1e-8, 1e-9);
  ExpectClose(r->value("z"), 4.0, 1e-8, 1e-9);
  ExpectClose(r->summary.stability.max_real_part, -0.25, 1e-6, 1e-6);  // difference quotients
}

TEST(SteadyStateTest, UnstableAndMarginalSteadyStatesAreClassified) {
  // x' = x - 1: x* = 1, eigenvalue +1.
  auto unstable = Compile(RateRules({{"x", Sub(Sym("x"), Num(1.0))}}, {{"x", 2.0}}));
  ASSERT_NE(unstable, nullptr);
  auto r = FindSteadyState(*unstable, Tight());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.route, SteadyStateRoute::kNewton);
  ExpectClose(r->value("x"), 1.0, 1e-12, 1e-12);
  EXPECT_EQ(r->summary.stability.verdict, Stability::kUnstable);
  ExpectClose(r->summary.stability.max_real_part, 1.0, 1e-12, 1e-12);

  // Harmonic oscillator x' = y, y' = -x: the origin is a centre.
  auto centre = Compile(RateRules({{"x", Sym("y")}, {"y", Expr::Apply(Op::kMinus, {Sym("x")})}}, {{"x", 1.0}, {"y", 0.0}}));
  ASSERT_NE(centre, nullptr);
  auto c = FindSteadyState(*centre, Tight());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ExpectClose(c->value("x"), 0.0, 1e-12, 0.0);
  EXPECT_EQ(c->summary.stability.verdict, Stability::kMarginal) << c->summary.stability.Describe();
}

TEST(SteadyStateTest, NoSteadyStateIsASolverFailureThatSaysWhatWasTried) {
  // x' = 1 never settles.
  auto growth = Compile(RateRules({{"x", Num(1.0)}}, {{"x", 0.0}}));
  ASSERT_NE(growth, nullptr);
  SteadyStateOptions o = Tight();
  o.max_time = 1e3;
  auto r = FindSteadyState(*growth, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kSolverFailure);
  EXPECT_NE(r.status().message().find("max_time"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("dx/dt"), std::string::npos) << r.status().message();

  // With the default relative tolerance x = t would pass |x'| <= rel |x| from
  // t = 1e6 on; it still changes by 100% over the time integrated.
  auto d = FindSteadyState(*growth, SteadyStateOptions{});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("'x' still changes"), std::string::npos) << d.status().message();

  // An oscillator integrated never settles either (Newton would find the centre).
  auto centre = Compile(RateRules({{"x", Sym("y")}, {"y", Expr::Apply(Op::kMinus, {Sym("x")})}}, {{"x", 1.0}, {"y", 0.0}}));
  ASSERT_NE(centre, nullptr);
  o.method = SteadyStateMethod::kIntegration;
  o.max_steps = 2000;
  o.max_time = 1e6;
  auto c = FindSteadyState(*centre, o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kSolverFailure);
  EXPECT_NE(c.status().message().find("integration"), std::string::npos) << c.status().message();
}

TEST(SteadyStateTest, EventsAreIgnored) {
  // An event at t >= 0 (firing at the start in a simulation) and one at t >= 1
  // would change k1; the steady state is that of the equations as declared.
  model::Model m = ProductionDegradation();
  m.parameters[1].constant = false;
  model::Event at_start;
  at_start.id = "at_start";
  at_start.trigger_initial_value = false;
  at_start.trigger = Expr::Apply(Op::kGe, {Expr::Leaf(Op::kTime), Num(0.0)});
  at_start.assignments.push_back({"k1", Num(100.0)});
  m.events.push_back(at_start);
  model::Event later = at_start;
  later.id = "later";
  later.trigger = Expr::Apply(Op::kGe, {Expr::Leaf(Op::kTime), Num(1.0)});
  m.events.push_back(later);
  auto cm = Compile(m);
  ASSERT_NE(cm, nullptr);
  for (SteadyStateMethod method : {SteadyStateMethod::kAuto, SteadyStateMethod::kIntegration}) {
    SteadyStateOptions o = Tight();
    o.method = method;
    auto r = FindSteadyState(*cm, o, {{"S"}, {"k1"}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ExpectClose(r->value("S"), 4.0, 1e-8, 1e-8);
    EXPECT_EQ(r->value("k1"), 0.5);
  }
}

TEST(SteadyStateTest, IntegrationThenNewtonPolish) {
  SteadyStateOptions o;  // default tolerances; polish tightens to Newton's accuracy
  o.method = SteadyStateMethod::kIntegration;
  auto cm = Compile(ProductionDegradation());
  ASSERT_NE(cm, nullptr);
  auto r = FindSteadyState(*cm, o, {{"S"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.route, SteadyStateRoute::kIntegrationThenNewton) << r->summary.FullReport();
  EXPECT_GT(r->summary.integrated_time, 0.0);
  ExpectClose(r->value("S"), 4.0, 1e-8, 1e-8);
  o.polish = false;
  auto unpolished = FindSteadyState(*cm, o, {{"S"}});
  ASSERT_TRUE(unpolished.ok());
  EXPECT_EQ(unpolished->summary.route, SteadyStateRoute::kIntegration);
  // abs 1e-9 + rel 1e-6 * 8 over the rate 0.5 in amount; S = amount / 2.
  ExpectClose(unpolished->value("S"), 4.0, 1e-8, 1e-5);
}

TEST(SteadyStateTest, ModelWithoutStatesAndBadInputs) {
  model::Model m;
  m.parameters.push_back({.id = "p", .value = 3.0});
  auto cm = Compile(m);
  ASSERT_NE(cm, nullptr);
  auto r = FindSteadyState(*cm, Tight(), {{"p"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.route, SteadyStateRoute::kNone);
  EXPECT_EQ(r->value("p"), 3.0);
  EXPECT_TRUE(std::isnan(r->value("nope")));

  auto pd = Compile(ProductionDegradation());
  ASSERT_NE(pd, nullptr);
  SteadyStateOptions bad;
  bad.abs_tol = 0;
  auto b = FindSteadyState(*pd, bad);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("SteadyStateOptions::abs_tol"), std::string::npos) << b.status().message();
  auto unknown = FindSteadyState(*pd, {}, {{"nope"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("nope"), std::string::npos);
}

Expr Delay(Expr x, double tau) { return Apply(Op::kDelay, {std::move(x), Num(tau)}); }

// x' = a - b delay(x, 2), y' = delay(delay(x, 1), 1) - y: at the steady
// state every delayed value is the current one, x* = a / b = 4 and y* = x*
// (a nested delay). The Jacobian of f(y, y) has entries only through the
// delays (dx'/dx = -b, dy'/dx = 1), so Newton converges only if it sees them.
TEST(SteadyStateTest, DelaysReadTheCurrentStateByNewton) {
  model::Model m = RateRules({{"x", Sub(Sym("a"), Mul({Sym("b"), Delay(Sym("x"), 2.0)}))},
                              {"y", Sub(Delay(Delay(Sym("x"), 1.0), 1.0), Sym("y"))}},
                             {{"x", 1.0}, {"y", 0.0}});
  m.parameters.push_back({.id = "a", .value = 2.0});
  m.parameters.push_back({.id = "b", .value = 0.5});
  auto cm = Compile(m);
  ASSERT_NE(cm, nullptr);
  auto r = FindSteadyState(*cm, Tight(), {{"x"}, {"y"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.route, SteadyStateRoute::kNewton) << r->summary.FullReport();
  // |f| <= 1e-12 + 1e-10 * 4 over the rates 0.5 and 1 (and the
  // difference-quotient Jacobian changes Newton's path, not the test).
  ExpectClose(r->value("x"), 4.0, 1e-8, 1e-8);
  ExpectClose(r->value("y"), 4.0, 1e-8, 1e-8);
  EXPECT_EQ(r->summary.stability.verdict, Stability::kNotComputed);
  EXPECT_NE(r->summary.stability.Describe().find("delay()"), std::string::npos) << r->summary.stability.Describe();
}

// A -> B at k delay(A, 1), B -> A at kr B (rate rules): A + B = 3 is
// conserved, the Jacobian is singular, and integration runs the delay
// equation to k A* = kr B*: A* = 3 kr / (k + kr) = 1, B* = 2.
TEST(SteadyStateTest, DelayEquationIsIntegratedWhenNewtonCannotBeUsed) {
  Expr flux = Sub(Mul({Sym("k"), Delay(Sym("A"), 1.0)}), Mul({Sym("kr"), Sym("B")}));
  model::Model m = RateRules({{"A", Apply(Op::kMinus, {flux})}, {"B", flux}}, {{"A", 3.0}, {"B", 0.0}});
  m.parameters.push_back({.id = "k", .value = 1.0});
  m.parameters.push_back({.id = "kr", .value = 0.5});
  auto cm = Compile(m);
  ASSERT_NE(cm, nullptr);
  auto r = FindSteadyState(*cm, Tight(), {{"A"}, {"B"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.route, SteadyStateRoute::kIntegration) << r->summary.FullReport();
  EXPECT_NE(r->summary.newton_rejected.find("singular"), std::string::npos) << r->summary.newton_rejected;
  ExpectClose(r->value("A"), 1.0, 1e-8, 1e-8);
  ExpectClose(r->value("B"), 2.0, 1e-8, 1e-8);
  ExpectClose(r->value("A") + r->value("B"), 3.0, 1e-9, 1e-9);
  // Integrated as a delay equation: the first second, A' = -k A(0) + kr B
  // with the past held at A = 3, differs from the ODE without the delay;
  // both reach the same state, but the delay equation's path oscillates
  // (complex roots of lambda + k exp(-lambda) + kr = 0), so it needs more
  // time than the ODE's single decay at rate k + kr.
  EXPECT_GT(r->summary.integrator.steps, 0);
}

// What the search relies on: at equilibrium delay(x, tau) reads the state
// it is given, where the delay equation reads the recorded past.
TEST(SteadyStateTest, ModelSystemReadsDelaysAtEquilibriumWhenAsked) {
  auto cm = Compile(RateRules({{"x", Apply(Op::kMinus, {Delay(Sym("x"), 1.0)})}}, {{"x", 3.0}}));
  ASSERT_NE(cm, nullptr);
  std::vector<double> in = cm->InitialWorkspace(0.0);
  ModelSystem system(*cm, in);
  system.RecordHistory();  // the past held x = 3
  const double y = 1.0;
  double f = 0.0;
  ASSERT_EQ(system.Rhs(0.5, &y, &f), 0);
  EXPECT_EQ(f, -3.0);
  system.set_delays_at_equilibrium(true);
  ASSERT_EQ(system.Rhs(0.5, &y, &f), 0);
  EXPECT_EQ(f, -1.0);
}

// No ODE states: the values at the start, delayed values included (the
// workspace's delay slot was left unfilled, NaN, before it was scattered).
TEST(SteadyStateTest, DelayedValuesAreReportedWithoutODEStates) {
  model::Model m;
  m.parameters.push_back({.id = "p", .value = 3.0});
  m.parameters.push_back({.id = "y", .constant = false});
  m.rules.push_back({model::RuleKind::kAssignment, "y", Apply(Op::kPlus, {Num(2.0), Delay(Sym("p"), 1.0)})});
  auto cm = Compile(m);
  ASSERT_NE(cm, nullptr);
  auto r = FindSteadyState(*cm, Tight(), {{"y"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.route, SteadyStateRoute::kNone);
  EXPECT_EQ(r->value("y"), 5.0);
}

// x' = tanh(1 - delay(x, x - 0.5)) from x = 2.5: the steady state x* = 1
// has the delay 0.5, and the trajectory from 2.5 down to 1 keeps it positive,
// but Newton's first step overshoots to x = -2.5, where the delay would be -3.
// That iterate is a point Newton passed through, not the model's error.
TEST(SteadyStateTest, NegativeDelayAtANewtonIterateIsNotTheModelsError) {
  const Expr tau = Sub(Sym("x"), Num(0.5));
  const Expr rate = Apply(Op::kTanh, {Sub(Num(1.0), Apply(Op::kDelay, {Sym("x"), tau}))});
  auto cm = Compile(RateRules({{"x", rate}}, {{"x", 2.5}}));
  ASSERT_NE(cm, nullptr);
  auto r = FindSteadyState(*cm, Tight(), {{"x"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectClose(r->value("x"), 1.0, 1e-8, 1e-8);
  SteadyStateOptions newton = Tight();
  newton.method = SteadyStateMethod::kNewton;
  auto n = FindSteadyState(*cm, newton, {{"x"}});
  if (n.ok()) {
    ExpectClose(n->value("x"), 1.0, 1e-8, 1e-8);  // a line search that avoided the iterate
  } else {
    // Newton's failure, with the iterate's negative delay as its reason;
    // not kInvalidModel, which said the model itself broke SBML's rule.
    EXPECT_EQ(n.status().code(), ErrorCode::kSolverFailure) << n.status().ToString();
    EXPECT_NE(n.status().message().find("Newton did not converge"), std::string::npos) << n.status().message();
    EXPECT_NE(n.status().message().find("an iterate gave delay(x, x - 0.5): the delay is -3"), std::string::npos)
        << n.status().message();
  }
}

TEST(SteadyStateTest, NegativeDelayIsAnError) {
  auto cm = Compile(RateRules({{"x", Apply(Op::kMinus, {Delay(Sym("x"), -1.0)})}}, {{"x", 3.0}}));
  ASSERT_NE(cm, nullptr);
  auto r = FindSteadyState(*cm, Tight());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(r.status().message().find("SBML requires a delay >= 0"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace soma::sim
