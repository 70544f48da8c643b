// The analytic Jacobian of the residuals (forward sensitivities, chain rule
// through scales, noise models and priors) against central differences.

#include "infer/objective.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "infer/infer_test_util.h"

namespace soma::infer {
namespace {

using internal::Derivatives;
using internal::Objective;

// Central differences with step 1e-6 on the estimation scale; integrator
// at rel 1e-12 so that differences resolve 1e-6 relative changes.
// |J - FD| <= 1e-5 (|FD| + 1e-3 max_col|FD|): the difference error is
// O(h^2) plus integration noise / h.
void ExpectJacobianMatchesDifferences(const EstimationProblem& p, const std::vector<double>& x) {
  EstimationOptions o;
  o.rel_tol = 1e-12;
  o.abs_tol = 1e-14;
  auto obj = Objective::Prepare(p, o, Derivatives::kSensitivities);
  ASSERT_TRUE(obj.ok()) << obj.status().ToString();
  const size_t n = (*obj)->num_parameters(), nr = (*obj)->num_residuals();
  auto v = (*obj)->Compute(x, true);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const std::vector<double> offsets = (*obj)->SigmaOffsets(*v);
  std::vector<double> r(nr), jac(nr * n);
  ASSERT_TRUE((*obj)->Residuals(*v, x, offsets, r.data(), jac.data()).ok());
  std::vector<double> theta = (*obj)->ToTheta(x);
  for (size_t k = 0; k < n; ++k) {
    const double h = 1e-6;
    std::vector<double> rp(nr), rm(nr);
    for (int sign : {1, -1}) {
      std::vector<double> t = theta;
      t[k] += sign * h;
      const std::vector<double> xs = (*obj)->FromTheta(t.data());
      auto vs = (*obj)->Compute(xs, false);
      ASSERT_TRUE(vs.ok()) << vs.status().ToString();
      ASSERT_TRUE((*obj)->Residuals(*vs, xs, offsets, (sign > 0 ? rp : rm).data(), nullptr).ok());
    }
    double col_max = 0;
    std::vector<double> fd(nr);
    for (size_t i = 0; i < nr; ++i) {
      fd[i] = (rp[i] - rm[i]) / (2 * h);
      col_max = std::max(col_max, std::abs(fd[i]));
    }
    for (size_t i = 0; i < nr; ++i)
      EXPECT_NEAR(jac[i * n + k], fd[i], 1e-5 * (std::abs(fd[i]) + 1e-3 * col_max))
          << "residual " << i << ", parameter " << p.parameters[k].id;
  }
}

TEST(Objective, JacobianMatchesDifferencesWithEstimatedNoiseAndPriors) {
  EstimationProblem p;
  p.model = testing::DecayModel();
  const std::vector<double> t = {0.5, 1, 2, 4};
  const std::vector<double> y = {8.1, 7.0, 5.9, 3.2};
  p.parameters = {testing::Param("x", 0.1, 100, 9.0, Scale::kLog10), testing::Param("k", 1e-3, 10, 0.2, Scale::kLog),
                  testing::Param("sa", 1e-3, 10, 0.3, Scale::kLog10), testing::Param("sr", 1e-3, 1, 0.05, Scale::kLin)};
  p.parameters[1].prior = Prior::LogNormal(std::log(0.25), 0.5);
  p.parameters[0].prior = Prior::Normal(10, 2);
  Experiment e = testing::SeriesExperiment(
      "x", t, y, NoiseModel::Combined(ValueRef::Parameter("sa"), ValueRef::Parameter("sr")));
  e.observables[0].noise.scale = Scale::kLog;
  e.observables.push_back({"x_laplace", "x", NoiseModel::Proportional(ValueRef::Parameter("sr"))});
  e.observables[1].noise.distribution = NoiseDistribution::kLaplace;
  e.measurements.push_back({1, 3.0, 4.0});
  p.experiments = {e};
  ExpectJacobianMatchesDifferences(p, {9.0, 0.2, 0.3, 0.05});
}

TEST(Objective, JacobianMatchesDifferencesWithLaplaceFamilyPriors) {
  // Away from the priors' locations (where |u - a| has no derivative).
  EstimationProblem p;
  p.model = testing::DecayModel();
  p.parameters = {testing::Param("x", 0.1, 100, 9.0, Scale::kLog10), testing::Param("k", 1e-3, 10, 0.2, Scale::kLog),
                  testing::Param("sa", 1e-3, 10, 0.3, Scale::kLin)};
  p.parameters[0].prior = Prior::LogLaplace(std::log(7.0), 0.5);
  p.parameters[1].prior = {Prior::Kind::kParameterScaleLaplace, std::log(0.3), 0.4};
  p.parameters[2].prior = Prior::Laplace(0.5, 0.1);
  p.experiments = {testing::SeriesExperiment("x", {0.5, 1, 2, 4}, {8.1, 7.0, 5.9, 3.2},
                                             NoiseModel::Additive(ValueRef::Parameter("sa")))};
  ExpectJacobianMatchesDifferences(p, {9.0, 0.2, 0.3});
}

// x' = kin - kout x, x(0) = 0 (amount, unit volume): x(t) = kin/kout (1 - exp(-kout t)),
// steady state kin/kout. With kout = 0 there is none (x grows without bound).
std::shared_ptr<const sim::CompiledModel> TurnoverModel() {
  model::Model m;
  m.id = "turnover";
  m.compartments.push_back({.id = "V", .size = 1.0});
  m.species.push_back({.id = "x", .compartment = "V", .initial_amount = 0.0, .has_only_substance_units = true});
  m.parameters.push_back({.id = "kin", .value = 2.0});
  m.parameters.push_back({.id = "kout", .value = 0.5});
  model::Reaction in, out;
  in.id = "in";
  in.products.push_back({.species = "x"});
  in.kinetic_law = expr::Expr::Symbol("kin");
  out.id = "out";
  out.reactants.push_back({.species = "x"});
  out.kinetic_law = expr::Expr::Apply(expr::Op::kTimes, {expr::Expr::Symbol("kout"), expr::Expr::Symbol("x")});
  m.reactions = {in, out};
  return *sim::CompiledModel::Compile(m);
}

EstimationProblem SteadyStateProblem() {
  EstimationProblem p;
  p.model = TurnoverModel();
  p.parameters = {testing::Param("kin", 0.1, 10, 2.0, Scale::kLog10), testing::Param("kout", 1e-3, 10, 0.5, Scale::kLog)};
  const double inf = std::numeric_limits<double>::infinity();
  p.experiments = {testing::SeriesExperiment("x", {1.0, inf, inf}, {1.0, 3.9, 4.2}, NoiseModel::Additive(ValueRef::Constant(0.2)))};
  return p;
}

TEST(Objective, SteadyStateMeasurementsArePredictedAtTheSteadyState) {
  // Reference: the analytic solution; |m - ref| <= 1e-7 |ref| (CVODES at rel
  // 1e-10 and the 1e-8 settling rule of Measurement::time).
  EstimationProblem p = SteadyStateProblem();
  EstimationOptions o;
  o.rel_tol = 1e-10;
  o.abs_tol = 1e-12;
  auto ev = Evaluate(p, {2.0, 0.5}, o);
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_NEAR(ev->predictions[0][0], 4.0 * (1 - std::exp(-0.5)), 1e-7 * 4.0);
  EXPECT_NEAR(ev->predictions[0][1], 4.0, 1e-7 * 4.0);
  EXPECT_NEAR(ev->predictions[0][2], 4.0, 1e-7 * 4.0);
  auto other = Evaluate(p, {3.0, 0.25}, o);  // the steady state moves with the parameters
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_NEAR(other->predictions[0][1], 12.0, 1e-7 * 12.0);
}

TEST(Objective, SteadyStateSensitivitiesMatchDifferences) {
  ExpectJacobianMatchesDifferences(SteadyStateProblem(), {2.0, 0.5});
}

TEST(Objective, NoSteadyStateIsAnErrorThatSaysSo) {
  EstimationProblem p = SteadyStateProblem();
  p.parameters[1].lower = 0.0;
  p.parameters[1].scale = Scale::kLin;
  auto ev = Evaluate(p, {2.0, 0.0}, EstimationOptions{});
  ASSERT_FALSE(ev.ok());
  EXPECT_NE(ev.status().message().find("no steady state"), std::string::npos) << ev.status().ToString();
}

TEST(Objective, PreequilibrationCarriesSensitivitiesIntoTheSimulation) {
  // Pre-equilibration with kin = 1 reaches x = 1 / kout; the experiment then
  // runs with the estimated kin: x(t) = kin/kout + (1 - kin) / kout exp(-kout t),
  // so d x / d kout includes the pre-equilibrated start's -1/kout^2.
  EstimationProblem p = SteadyStateProblem();
  Experiment& e = p.experiments[0];
  e.preequilibration = std::vector<std::pair<std::string, ValueRef>>{{"kin", ValueRef::Constant(1.0)}};
  e.measurements = {{0, 1.0, 2.0}, {0, 3.0, 3.0}, {0, std::numeric_limits<double>::infinity(), 4.1}};
  EstimationOptions o;
  o.rel_tol = 1e-10;
  o.abs_tol = 1e-12;
  auto ev = Evaluate(p, {2.0, 0.5}, o);
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  for (int i = 0; i < 2; ++i) {
    const double t = e.measurements[i].time;
    EXPECT_NEAR(ev->predictions[0][i], 4.0 - 2.0 * std::exp(-0.5 * t), 1e-7) << "t = " << t;
  }
  EXPECT_NEAR(ev->predictions[0][2], 4.0, 1e-7);
  ExpectJacobianMatchesDifferences(p, {2.0, 0.5});
}

TEST(Objective, PreequilibrationWithASpeciesResetToAnEstimatedValue) {
  // After pre-equilibration the condition sets x to the estimated x0: the
  // start value's sensitivity (1 for x0, 0 for the rest) replaces the
  // pre-equilibrated one. x(t) = kin/kout + (x0 - kin/kout) exp(-kout t).
  EstimationProblem p = SteadyStateProblem();
  p.parameters.push_back(testing::Param("x0", 0.1, 10, 1.0, Scale::kLog));
  Experiment& e = p.experiments[0];
  e.preequilibration = std::vector<std::pair<std::string, ValueRef>>{{"kin", ValueRef::Constant(1.0)}};
  e.conditions = {{"x", ValueRef::Parameter("x0")}};
  e.measurements = {{0, 1.0, 2.0}, {0, 3.0, 3.0}};
  EstimationOptions o;
  o.rel_tol = 1e-10;
  o.abs_tol = 1e-12;
  auto ev = Evaluate(p, {2.0, 0.5, 1.5}, o);
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_NEAR(ev->predictions[0][0], 4.0 - 2.5 * std::exp(-0.5), 1e-7);
  ExpectJacobianMatchesDifferences(p, {2.0, 0.5, 1.5});
}

TEST(Objective, ExperimentsOnSeveralThreadsGiveTheSameValuesAndTheSameFirstError) {
  // Five experiments (two share a pre-equilibration, one has none, one has
  // steady-state data): values, sigmas and derivatives are bit-identical on
  // 1, 2 and 4 threads.
  EstimationProblem p = SteadyStateProblem();
  const double inf = std::numeric_limits<double>::infinity();
  for (int i = 0; i < 4; ++i) {
    Experiment e = testing::SeriesExperiment("x", {0.5 + i, 2.0 + i}, {1.0 + i, 2.0}, NoiseModel::Additive(ValueRef::Constant(0.2)));
    e.id = "series" + std::to_string(i);
    if (i < 3) e.preequilibration = std::vector<std::pair<std::string, ValueRef>>{{"kin", ValueRef::Constant(i < 2 ? 1.0 : 3.0)}};
    if (i == 3) e.measurements.push_back({0, inf, 4.0});
    p.experiments.push_back(e);
  }
  auto obj = Objective::Prepare(p, EstimationOptions{}, Derivatives::kSensitivities);
  ASSERT_TRUE(obj.ok()) << obj.status().ToString();
  auto one = (*obj)->Compute({2.0, 0.5}, true, 1);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  for (int threads : {2, 4}) {
    auto many = (*obj)->Compute({2.0, 0.5}, true, threads);
    ASSERT_TRUE(many.ok()) << many.status().ToString();
    EXPECT_EQ(many->m, one->m) << threads << " threads";
    EXPECT_EQ(many->sigma, one->sigma);
    EXPECT_TRUE(many->dm == one->dm);
    EXPECT_TRUE(many->dsigma == one->dsigma);
  }
  // kout = 0 leaves the steady-state experiments (the first, and series3) without
  // a steady state: every thread count names the first of them.
  auto obj_lin = [&] {
    EstimationProblem q = p;
    q.parameters[1].lower = 0.0;
    q.parameters[1].scale = Scale::kLin;
    return Objective::Prepare(q, EstimationOptions{}, Derivatives::kNone);
  }();
  ASSERT_TRUE(obj_lin.ok()) << obj_lin.status().ToString();
  std::string first;
  for (int threads : {1, 2, 4}) {
    auto failed = (*obj_lin)->Compute({2.0, 0.0}, false, threads);
    ASSERT_FALSE(failed.ok());
    if (threads == 1) first = failed.status().ToString();
    EXPECT_EQ(failed.status().ToString(), first) << threads << " threads";
  }
  EXPECT_NE(first.find("no steady state"), std::string::npos) << first;
}

}  // namespace
}  // namespace soma::infer
