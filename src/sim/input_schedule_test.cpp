// Input schedules checked against analytic solutions of a one-compartment
// model with first-order elimination: amount A in volume V = 2,
//   dA/dt = R - k A,  k = 0.5,
// with the infusion rate R (a parameter) and boluses as inputs.

#include "sim/input_schedule.h"

#include <gtest/gtest.h>

#include <cmath>

#include "sim/sim_test_util.h"
#include "sim/simulator.h"

namespace soma::sim {
namespace {

using namespace soma::sim::testing;  // NOLINT(google-build-using-namespace)

using Mode = InputChange::Mode;

constexpr double kK = 0.5;
constexpr double kV = 2.0;

// Species C declared as a concentration (its symbol is amount / V), infused
// by reaction "infusion" at rate R (amount/time) and eliminated at k * amount.
model::Model OneCompartment() {
  model::Model m;
  m.id = "one_compartment";
  m.compartments.push_back({.id = "V", .size = kV});
  m.species.push_back({.id = "C", .compartment = "V", .initial_concentration = 0.0});
  m.parameters.push_back({.id = "k", .value = kK});
  m.parameters.push_back({.id = "R", .value = 0.0, .constant = false});
  model::Reaction in;
  in.id = "infusion";
  in.products.push_back({.species = "C"});
  in.kinetic_law = Sym("R");
  m.reactions.push_back(in);
  model::Reaction out;
  out.id = "elimination";
  out.reactants.push_back({.species = "C"});
  out.kinetic_law = Mul({Sym("k"), Sym("C"), Sym("V")});
  m.reactions.push_back(out);
  return m;
}

Result<SimulationResult> Simulate(const model::Model& m, double start, double end, int steps) {
  auto cm = CompiledModel::Compile(m);
  if (!cm.ok()) return cm.status();
  SimulationOptions o = TightOptions(end, steps);
  o.start = start;
  return Simulator(*cm).Simulate(o, {{"C", SpeciesQuantity::kAmount}, {"R"}});
}

TEST(InputScheduleTest, ConstantInfusionIntoFirstOrderElimination) {
  // R = 3 on [1, 4), then 0: A = R/k (1 - e^{-k (t-1)}) during the infusion,
  // then A(4) e^{-k (t-4)}.
  model::Model m = OneCompartment();
  ASSERT_TRUE(ApplyInputSchedule(PiecewiseConstant("R", {{1.0, 3.0}, {4.0, 0.0}}), {0.0, 10.0}, m).ok());
  auto r = Simulate(m, 0.0, 10.0, 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.events_fired, 2);
  const double rate = 3.0;
  const double a4 = rate / kK * (1 - std::exp(-kK * 3.0));
  for (size_t i = 0; i < r->rows; ++i) {
    const double t = r->at(i, 0);
    double exact = 0.0, rate_now = 0.0;
    if (t >= 1.0 && t < 4.0) {
      exact = rate / kK * (1 - std::exp(-kK * (t - 1.0)));
      rate_now = rate;
    } else if (t >= 4.0) {
      exact = a4 * std::exp(-kK * (t - 4.0));
    }
    ExpectClose(r->at(i, 1), exact, 1e-9, 1e-8, "A at t = " + std::to_string(t));
    EXPECT_EQ(r->at(i, 2), rate_now) << "R at t = " << t;
  }
}

TEST(InputScheduleTest, BolusAtStartAndLater) {
  // Amount 5 at t = 0 (the start) and 5 more at t = 3:
  // A = 5 e^{-k t} + 5 e^{-k (t-3)} H(t-3).
  model::Model m = OneCompartment();
  std::vector<InputChange> doses = {
      {.time = 0.0, .target = "C", .value = 5.0, .mode = Mode::kAdd, .quantity = SpeciesQuantity::kAmount},
      {.time = 3.0, .target = "C", .value = 5.0, .mode = Mode::kAdd, .quantity = SpeciesQuantity::kAmount}};
  ASSERT_TRUE(ApplyInputSchedule(doses, {0.0, 8.0}, m).ok());
  auto r = Simulate(m, 0.0, 8.0, 16);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->summary.events_fired, 2);
  for (size_t i = 0; i < r->rows; ++i) {
    const double t = r->at(i, 0);
    const double exact = 5.0 * std::exp(-kK * t) + (t >= 3.0 ? 5.0 * std::exp(-kK * (t - 3.0)) : 0.0);
    ExpectClose(r->at(i, 1), exact, 1e-9, 1e-8, "A at t = " + std::to_string(t));
  }
}

TEST(InputScheduleTest, ValueInTheSymbolsUnitsIsAConcentration) {
  // C's symbol is a concentration: adding 1 to it adds V = 2 to the amount.
  model::Model m = OneCompartment();
  ASSERT_TRUE(
      ApplyInputSchedule({{.time = 0.0, .target = "C", .value = 1.0, .mode = Mode::kAdd}}, {0, 1}, m).ok());
  auto r = Simulate(m, 0.0, 1.0, 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectClose(r->at(0, 1), kV, 1e-12, 1e-12, "amount at the start");
  ExpectClose(r->at(1, 1), kV * std::exp(-kK), 1e-9, 1e-8, "amount at t = 1");
}

TEST(InputScheduleTest, ChangeAtALaterStartIsAppliedAtTheStart) {
  // Simulating from t0 = 2 with R = 3 set at 2: A = R/k (1 - e^{-k (t-2)}).
  model::Model m = OneCompartment();
  ASSERT_TRUE(ApplyInputSchedule(PiecewiseConstant("R", {{2.0, 3.0}}), {2.0, 6.0}, m).ok());
  auto r = Simulate(m, 2.0, 6.0, 4);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at(0, 2), 3.0);
  for (size_t i = 0; i < r->rows; ++i) {
    const double t = r->at(i, 0);
    ExpectClose(r->at(i, 1), 3.0 / kK * (1 - std::exp(-kK * (t - 2.0))), 1e-9, 1e-8);
  }
}

TEST(InputScheduleTest, SimultaneousChangesApplyInTheOrderGiven) {
  auto final_rate = [](std::vector<InputChange> changes) {
    model::Model m = OneCompartment();
    EXPECT_TRUE(ApplyInputSchedule(changes, {0.0, 2.0}, m).ok());
    auto r = Simulate(m, 0.0, 2.0, 2);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->at(2, 2) : NAN;
  };
  const InputChange set{.time = 1.0, .target = "R", .value = 1.0, .mode = Mode::kSet};
  const InputChange add{.time = 1.0, .target = "R", .value = 2.0, .mode = Mode::kAdd};
  EXPECT_EQ(final_rate({set, add}), 3.0);
  EXPECT_EQ(final_rate({add, set}), 1.0);
}

TEST(InputScheduleTest, OrderHoldsAcrossCallsAndIdsAreUnique) {
  model::Model m = OneCompartment();
  m.parameters.push_back({.id = "input_0_R", .value = 0.0});  // an id the first event would take
  ASSERT_TRUE(ApplyInputSchedule(PiecewiseConstant("R", {{1.0, 1.0}}), {0.0, 2.0}, m).ok());
  ASSERT_TRUE(
      ApplyInputSchedule({{.time = 1.0, .target = "R", .value = 2.0, .mode = Mode::kAdd}}, {0, 2}, m).ok());
  ASSERT_EQ(m.events.size(), 2u);
  EXPECT_EQ(m.events[0].id, "input_1_R");
  EXPECT_EQ(m.events[1].id, "input_2_R");
  auto r = Simulate(m, 0.0, 2.0, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at(2, 2), 3.0);
}

TEST(InputScheduleTest, ModelEventsTriggeredByAnInputFollowIt) {
  // A model event copies R into a parameter when R becomes positive.
  model::Model m = OneCompartment();
  m.parameters.push_back({.id = "seen", .value = 0.0, .constant = false});
  model::Event ev;
  ev.id = "watch";
  ev.trigger = Apply(expr::Op::kGt, {Sym("R"), Num(0.0)});
  ev.assignments.push_back({"seen", Sym("R")});
  m.events.push_back(ev);
  ASSERT_TRUE(ApplyInputSchedule(PiecewiseConstant("R", {{0.0, 4.0}}), {0.0, 1.0}, m).ok());
  auto cm = CompiledModel::Compile(m);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  auto r = Simulator(*cm).Simulate(TightOptions(1.0, 1), {{"seen"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->at(0, 1), 4.0);
}

TEST(InputScheduleTest, ErrorsNameTheChange) {
  auto error = [](InputChange c, InputWindow w = {0.0, 10.0}) {
    model::Model m = OneCompartment();
    m.rules.push_back({.kind = model::RuleKind::kAssignment, .variable = "ruled", .math = Num(1.0)});
    m.parameters.push_back({.id = "ruled", .constant = false});
    Status s = ApplyInputSchedule({{.time = 0.5, .target = "R", .value = 1.0}, c}, w, m);
    EXPECT_EQ(m.events.size(), 0u) << "the model must be left unchanged";
    return s;
  };
  Status s = error({.time = 1.0, .target = "nope", .value = 1.0});
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_NE(s.message().find("input change 1 (t = 1, target 'nope')"), std::string::npos) << s.message();
  s = error({.time = 1.0, .target = "k", .value = 1.0});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'k' is constant"), std::string::npos) << s.message();
  s = error({.time = 11.0, .target = "R", .value = 1.0});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("outside the simulated window [0, 10]"), std::string::npos) << s.message();
  EXPECT_EQ(error({.time = -1.0, .target = "R", .value = 1.0}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(error({.time = NAN, .target = "R", .value = 1.0}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(error({.time = 1.0, .target = "R", .value = INFINITY}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(error({.time = 1.0, .target = "ruled", .value = 1.0}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(error({.time = 1.0, .target = "infusion", .value = 1.0}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(error({.time = 1.0, .target = "R", .value = 1.0, .quantity = SpeciesQuantity::kAmount}).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(error({.time = 1.0, .target = "R", .value = 1.0}, {5.0, 4.0}).code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace soma::sim
