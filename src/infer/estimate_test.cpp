#include "infer/estimate.h"

#include <chrono>
#include <cmath>
#include <numbers>
#include <thread>

#include <gtest/gtest.h>

#include "infer/infer_test_util.h"

namespace soma::infer {
namespace {

using testing::DecayModel;
using testing::LineModel;
using testing::Param;
using testing::SeriesExperiment;

using testing::LineProblem;
using testing::Tight;
const std::vector<double>& kTimes = testing::kLineTimes;
const std::vector<double>& kData = testing::kLineData;

// Closed-form ordinary least squares of y = a + b t: the reference.
struct Ols {
  double a, b, var_a, var_b, cov_ab, rss;
};
Ols FitLine(const std::vector<double>& t, const std::vector<double>& y, double sigma) {
  const double n = t.size();
  double st = 0, sy = 0, stt = 0, sty = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    st += t[i]; sy += y[i]; stt += t[i] * t[i]; sty += t[i] * y[i];
  }
  const double det = n * stt - st * st;
  Ols o;
  o.b = (n * sty - st * sy) / det;
  o.a = (sy - o.b * st) / n;
  o.var_a = sigma * sigma * stt / det;
  o.var_b = sigma * sigma * n / det;
  o.cov_ab = -sigma * sigma * st / det;
  o.rss = 0;
  for (size_t i = 0; i < t.size(); ++i) o.rss += std::pow(y[i] - o.a - o.b * t[i], 2);
  return o;
}



TEST(Estimate, LinearLeastSquaresMatchesClosedForm) {
  const double sigma = 0.4;
  auto s = Estimate(LineProblem(sigma), Tight());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const Ols ref = FitLine(kTimes, kData, sigma);
  EXPECT_TRUE(s->converged) << s->termination;
  // |x - ref| <= 1e-7 + 1e-7 |ref|: Ceres' tolerances are 1e-10.
  EXPECT_NEAR(s->estimates[0].value, ref.a, 1e-7 + 1e-7 * std::abs(ref.a));
  EXPECT_NEAR(s->estimates[1].value, ref.b, 1e-7 + 1e-7 * std::abs(ref.b));
  // Laplace covariance = sigma^2 (X^T X)^-1 exactly for a linear-Gaussian model.
  EXPECT_NEAR(s->covariance(0, 0), ref.var_a, 1e-8 * ref.var_a);
  EXPECT_NEAR(s->covariance(1, 1), ref.var_b, 1e-8 * ref.var_b);
  EXPECT_NEAR(s->covariance(0, 1), ref.cov_ab, 1e-8 * std::abs(ref.cov_ab));
  EXPECT_NEAR(s->correlation(0, 1), ref.cov_ab / std::sqrt(ref.var_a * ref.var_b), 1e-8);
  const double z = 1.959963984540054;
  EXPECT_NEAR(s->estimates[1].lower_ci, ref.b - z * std::sqrt(ref.var_b), 1e-7);
  EXPECT_NEAR(s->estimates[1].upper_ci, ref.b + z * std::sqrt(ref.var_b), 1e-7);
  // nllh = n/2 log(2 pi sigma^2) + RSS / (2 sigma^2).
  const double n = kTimes.size();
  EXPECT_NEAR(s->nllh, n / 2 * std::log(2 * std::numbers::pi * sigma * sigma) + ref.rss / (2 * sigma * sigma), 1e-8);
  EXPECT_TRUE(s->weak_directions.empty());
}

TEST(Estimate, EstimatedSigmaIsTheMaximumLikelihoodValue) {
  EstimationProblem p = LineProblem(1.0);
  p.parameters.push_back(Param("sd", 1e-3, 10, 1.0, Scale::kLog10));
  p.experiments[0].observables[0].noise = NoiseModel::Additive(ValueRef::Parameter("sd"));
  auto s = Estimate(p, Tight());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const Ols ref = FitLine(kTimes, kData, 1.0);
  // MLE of a normal sd: sqrt(RSS / n); the line does not depend on sigma.
  EXPECT_NEAR(s->estimates[2].value, std::sqrt(ref.rss / kTimes.size()), 1e-6);
  EXPECT_NEAR(s->estimates[0].value, ref.a, 1e-6);
  EXPECT_NEAR(s->estimates[1].value, ref.b, 1e-6);
  // Fisher information of log10 sigma: 2 n ln(10)^2.
  EXPECT_NEAR(s->fisher(2, 2), 2 * kTimes.size() * std::pow(std::numbers::ln10, 2), 1e-6);
}

TEST(Estimate, TimeLimitKeepsTheFirstStartsPointAndSkipsTheOthers) {
  EstimationProblem p = LineProblem(0.4);
  EstimationOptions o = Tight();
  o.starts = 3;
  o.max_seconds = 1e-9;  // spent before the first simulation ends
  std::vector<IterationInfo> seen;
  o.iteration_progress = [&](const IterationInfo& it) { seen.push_back(it); };
  auto s = Estimate(p, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto nominal = Evaluate(p, p.NominalValues(), o);
  ASSERT_TRUE(nominal.ok());
  EXPECT_TRUE(s->time_limited);
  EXPECT_FALSE(s->converged);
  ASSERT_EQ(s->best_start, 0);
  EXPECT_TRUE(s->starts[0].time_limited);
  EXPECT_EQ(s->starts[0].iterations, 0);
  EXPECT_TRUE(s->starts[1].not_run);
  EXPECT_TRUE(s->starts[2].not_run);
  EXPECT_EQ(s->starts[1].error.code(), ErrorCode::kResourceExhausted);
  EXPECT_NEAR(s->nllh, nominal->nllh, 1e-9 * std::abs(nominal->nllh));
  EXPECT_DOUBLE_EQ(s->estimates[0].value, 0.0);  // the nominal values
  EXPECT_DOUBLE_EQ(s->estimates[1].value, 1.0);
  EXPECT_TRUE(seen.empty());  // the first evaluation stopped: no iteration
  EXPECT_NE(s->BriefReport().find("not converged (time limit)"), std::string::npos) << s->BriefReport();
  EXPECT_NE(s->BriefReport().find("2 not run (time limit)"), std::string::npos) << s->BriefReport();
  // The sensitivities for the intervals get as long again: also spent.
  EXPECT_NE(s->curvature.find("not computed"), std::string::npos) << s->curvature;
  EXPECT_TRUE(std::isnan(s->estimates[0].lower_ci));
  EXPECT_NE(s->FullReport().find("(stopped by the time limit)"), std::string::npos);
  EXPECT_NE(s->FullReport().find("Intervals: not computed"), std::string::npos);

  // A budget that lets the fit finish changes nothing.
  o.max_seconds = 60;
  auto unhurried = Estimate(p, o);
  ASSERT_TRUE(unhurried.ok());
  EXPECT_FALSE(unhurried->time_limited);
  EXPECT_TRUE(unhurried->converged);
  EXPECT_TRUE(std::isfinite(unhurried->estimates[0].lower_ci));

  o.max_seconds = -1;
  EXPECT_EQ(Estimate(p, o).status().code(), ErrorCode::kInvalidArgument);
}

TEST(Estimate, IterationProgressReportsTheObjectiveWithItsConstantTerms) {
  // An estimated sigma puts a constant offset into the residuals (log sigma
  // as sqrt(2 term + c)): the objective reported per iteration must not
  // carry it.
  EstimationProblem p = LineProblem(1.0);
  p.parameters.push_back(Param("sd", 1e-3, 10, 1.0, Scale::kLog10));
  p.experiments[0].observables[0].noise = NoiseModel::Additive(ValueRef::Parameter("sd"));
  EstimationOptions o = Tight();
  std::vector<IterationInfo> seen;
  o.iteration_progress = [&](const IterationInfo& it) { seen.push_back(it); };
  auto s = Estimate(p, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE(s->time_limited);
  auto nominal = Evaluate(p, p.NominalValues(), o);
  ASSERT_TRUE(nominal.ok());
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen.front().iteration, 0);
  EXPECT_NEAR(seen.front().objective, nominal->nllh, 1e-9 * std::abs(nominal->nllh));
  EXPECT_NEAR(seen.back().objective, s->objective, 1e-9 * std::abs(s->objective));
  EXPECT_EQ(seen.back().iteration, s->starts[0].iterations);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_LE(seen[i].objective, seen[i - 1].objective + 1e-12);
}

// The line's normal equations X^T X / s^2 beta = X^T y / s^2, as (matrix, right-hand side).
std::pair<Eigen::Matrix2d, Eigen::Vector2d> NormalEquations(double sigma) {
  Eigen::Matrix2d a = Eigen::Matrix2d::Zero();
  Eigen::Vector2d rhs = Eigen::Vector2d::Zero();
  for (size_t i = 0; i < kTimes.size(); ++i) {
    Eigen::Vector2d x(1.0, kTimes[i]);
    a += x * x.transpose() / (sigma * sigma);
    rhs += x * kData[i] / (sigma * sigma);
  }
  return {a, rhs};
}

TEST(Estimate, NormalPriorGivesTheMapEstimate) {
  const double sigma = 0.4, mu = 0.0, tau = 0.5;  // prior on a: N(0, 0.5^2)
  EstimationProblem p = LineProblem(sigma);
  p.parameters[0].prior = Prior::Normal(mu, tau);
  auto s = Estimate(p, Tight());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // MAP = (X^T X / s^2 + P)^-1 (X^T y / s^2 + P m), P = diag(1/tau^2, 0).
  auto [a, rhs] = NormalEquations(sigma);
  a(0, 0) += 1 / (tau * tau);
  rhs(0) += mu / (tau * tau);
  const Eigen::Vector2d map = a.ldlt().solve(rhs);
  const Eigen::Matrix2d cov = a.inverse();
  EXPECT_NEAR(s->estimates[0].value, map(0), 1e-7);
  EXPECT_NEAR(s->estimates[1].value, map(1), 1e-7);
  EXPECT_NEAR(s->covariance(0, 0), cov(0, 0), 1e-8 * cov(0, 0));
  EXPECT_NEAR(s->neg_log_prior, 0.5 * std::pow((map(0) - mu) / tau, 2) + std::log(tau) + 0.5 * std::log(2 * std::numbers::pi), 1e-7);
}

TEST(Estimate, LaplacePriorGivesTheClosedFormMap) {
  // Laplace prior on a (location 1.5, scale 0.2). Where a < 1.5 the
  // posterior's gradient adds -1/0.2 to the data term's, so the MAP solves
  // (X^T X / s^2) beta = X^T y / s^2 + (1/0.2, 0); the solution (a = 1.35)
  // is below 1.5, so it is the MAP. neg_log_prior = |a - 1.5| / 0.2 + ln(2 * 0.2).
  const double sigma = 0.4, mu = 1.5, scale = 0.2;
  EstimationProblem p = LineProblem(sigma);
  p.parameters[0].prior = Prior::Laplace(mu, scale);
  auto s = Estimate(p, Tight());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto [a, rhs] = NormalEquations(sigma);
  rhs(0) += 1 / scale;
  const Eigen::Vector2d map = a.ldlt().solve(rhs);
  ASSERT_LT(map(0), mu);
  EXPECT_NEAR(s->estimates[0].value, map(0), 1e-6);
  EXPECT_NEAR(s->estimates[1].value, map(1), 1e-6);
  EXPECT_NEAR(s->neg_log_prior, std::abs(map(0) - mu) / scale + std::log(2 * scale), 1e-6);
  // Densities of the Laplace family (PEtab's laplace, logLaplace,
  // parameterScaleLaplace) at a point: the formulas.
  EXPECT_NEAR(Prior::Laplace(1.0, 0.5).NegLogDensity(2.0, Scale::kLin), 2.0 + std::log(1.0), 1e-15);
  EXPECT_NEAR(Prior::LogLaplace(0.0, 0.5).NegLogDensity(std::exp(1.0), Scale::kLin), 2.0 + std::log(std::exp(1.0)),
              1e-14);
  Prior ps{Prior::Kind::kParameterScaleLaplace, 1.0, 0.5};
  EXPECT_NEAR(ps.NegLogDensity(100.0, Scale::kLog10), 2.0, 1e-14);
}

TEST(Estimate, NoHessianDifferencesAcrossTheKinkOfALaplacePrior) {
  // A strong Laplace prior (scale 0.01) holds a at its location 1.5: the
  // data's gradient there is smaller than 1 / 0.01. The objective has a kink
  // at the MAP, so differences across it would give a curvature of about
  // (2 / 0.01) / (2 step); a's curvature comes from the Fisher information
  // (data plus 1 / scale^2) instead, as with Curvature::kExpected. The line
  // is linear, so the two covariances agree exactly.
  EstimationProblem p = LineProblem(0.4);
  p.parameters[0].prior = Prior::Laplace(1.5, 0.01);
  auto s = Estimate(p, Tight());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_NEAR(s->estimates[0].value, 1.5, 1e-9);
  EXPECT_EQ(s->curvature, "observed Hessian");
  EstimationOptions expected = Tight();
  expected.curvature = EstimationOptions::Curvature::kExpected;
  auto f = Estimate(p, expected);
  ASSERT_TRUE(f.ok());
  for (int k = 0; k < 2; ++k) {
    EXPECT_NEAR(s->estimates[k].std_error, f->estimates[k].std_error, 1e-5 * f->estimates[k].std_error) << k;
  }
}

// x0 exp(-k t) observed at six times, x0 = 7 and k = 0.45 times (1 +
// `wobble` sin 3t); x0 (log10) and k (ln) free, without nominal values.
EstimationProblem DecayProblem(double wobble) {
  EstimationProblem p;
  p.model = DecayModel();
  std::vector<double> t = {0.5, 1, 2, 3, 5, 8}, y;
  for (double ti : t) y.push_back(7.0 * std::exp(-0.45 * ti) * (1 + wobble * std::sin(3 * ti)));
  p.parameters = {Param("x", 0.1, 100, NAN, Scale::kLog10), Param("k", 1e-3, 10, NAN, Scale::kLog)};
  p.experiments = {SeriesExperiment("x", t, y, NoiseModel::Additive(ValueRef::Constant(0.1)))};
  return p;
}

TEST(Estimate, DecayRecoversTruthFromLatinHypercubeStarts) {
  EstimationProblem p = DecayProblem(0.0);  // no noise
  EstimationOptions o;
  o.starts = 6;
  o.threads = 2;
  auto s = Estimate(p, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->starts.size(), 6u);
  // Noise-free data: the truth is the optimum; tolerance from the integrator (rel 1e-8).
  EXPECT_NEAR(s->estimates[0].value, 7.0, 1e-5 * 7.0);
  EXPECT_NEAR(s->estimates[1].value, 0.45, 1e-5 * 0.45);
}

TEST(Estimate, TimeLimitInTheMiddleOfAFitKeepsTheBestIterate) {
  // The limit runs out while the fit is under way: after its second
  // iteration the progress callback waits past the limit, so the next
  // evaluation (residuals and sensitivities at the trial point) stops at
  // its simulations' deadline. The fit returns the best iterate it had, not
  // its start point, marked time-limited.
  EstimationProblem p = DecayProblem(0.02);
  EstimationOptions o;
  o.starts = 1;
  o.max_seconds = 2.0;  // far more than two iterations take, even on a loaded machine
  std::vector<IterationInfo> seen;
  o.iteration_progress = [&](const IterationInfo& it) {
    seen.push_back(it);
    if (it.iteration == 2) std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  };
  auto s = Estimate(p, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->time_limited);
  EXPECT_FALSE(s->converged);
  // Iterations 0-2, then the one the limit stopped: its trial point could
  // not be evaluated (a rejected step), and nothing follows it.
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen.back().iteration, 3);
  EXPECT_FALSE(seen.back().step_accepted);
  double best = seen[0].objective;
  for (const IterationInfo& it : seen) {
    if (it.step_accepted) best = std::min(best, it.objective);
  }
  EXPECT_LT(best, seen[0].objective - 10);  // the iterates move by tens (2841, 2791, 2738)
  // The estimate is the best iterate: its objective, evaluated afresh
  // without sensitivities, matches the fit's to the integrator's accuracy
  // (measured 4e-9 relative), far closer than the iterates are to each other.
  EXPECT_NEAR(s->starts[0].objective, best, 1e-6 * std::abs(best));
  auto again = Evaluate(p, s->starts[0].estimate);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_NEAR(again->nllh, s->starts[0].objective, 1e-12 * std::abs(best));
}

TEST(Estimate, ResultsDoNotDependOnTheThreadCount) {
  // `soma petab fit` runs on all cores by default: one thread or several
  // must give the same starts, bit for bit.
  EstimationProblem p = DecayProblem(0.02);
  EstimationOptions o;
  o.starts = 5;
  o.threads = 1;
  auto one = Estimate(p, o);
  o.threads = 3;
  auto three = Estimate(p, o);
  ASSERT_TRUE(one.ok() && three.ok());
  ASSERT_EQ(one->starts.size(), three->starts.size());
  for (size_t i = 0; i < one->starts.size(); ++i) {
    EXPECT_EQ(one->starts[i].objective, three->starts[i].objective) << "start " << i;
    EXPECT_EQ(one->starts[i].estimate, three->starts[i].estimate) << "start " << i;
    EXPECT_EQ(one->starts[i].iterations, three->starts[i].iterations) << "start " << i;
  }
  EXPECT_EQ(one->best_start, three->best_start);
  EXPECT_EQ(one->estimates[0].value, three->estimates[0].value);
  EXPECT_EQ(one->estimates[1].upper_ci, three->estimates[1].upper_ci);
}

TEST(Estimate, LineSearchesAtBoundsNeedNoSensitivities) {
  // Data from k = 0.45 with k bounded above by 0.3: the optimum is on the
  // bound, so trust-region steps leave the box and Ceres runs its projected
  // line search. Its trial points need only objective values; the Jacobian
  // (a simulation with forward sensitivities) is needed once at the start
  // and once per accepted step, so at most iterations + 1 times per start.
  // With Ceres' default cubic interpolation every trial point also asked
  // for it (Bachmann_MSB2011: 26 times slower).
  EstimationProblem p;
  p.model = DecayModel();
  std::vector<double> t = {0.5, 1, 2, 3, 5, 8}, y;
  for (double ti : t) y.push_back(7.0 * std::exp(-0.45 * ti));
  p.parameters = {Param("x", 0.1, 100, 3.0, Scale::kLog10), Param("k", 1e-3, 0.3, 0.01, Scale::kLog)};
  p.experiments = {SeriesExperiment("x", t, y, NoiseModel::Additive(ValueRef::Constant(0.1)))};
  EstimationOptions o;
  o.starts = 3;
  auto s = Estimate(p, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_NEAR(s->estimates[1].value, 0.3, 1e-6);  // on the bound
  long iterations = 0;
  for (const StartResult& r : s->starts) iterations += r.iterations;
  EXPECT_GT(s->simulations, s->gradient_simulations);  // value-only evaluations happened
  EXPECT_LE(s->gradient_simulations, iterations + static_cast<long>(s->starts.size()))
      << s->simulations << " simulations, " << iterations << " iterations";
}

TEST(Estimate, CovarianceComesFromTheObservedHessianOrOnRequestFromTheFisherInformation) {
  // x = x0 exp(-k t) fitted to data it cannot follow closely (residuals of
  // several sigma), so the observed Hessian of the objective differs from
  // the expected Fisher information (Gauss-Newton) by the residual term.
  // Reference: central second differences of the closed-form objective
  // sum (y - x0 e^{-k t})^2 / (2 s^2) on (log10 x0, ln k).
  EstimationProblem p;
  p.model = DecayModel();
  const std::vector<double> t = {0.5, 1, 2, 3, 5, 8}, y = {6.1, 3.9, 3.2, 1.2, 1.4, 0.1};
  const double sd = 0.2;
  p.parameters = {Param("x", 0.1, 100, 5.0, Scale::kLog10), Param("k", 1e-3, 10, 0.3, Scale::kLog)};
  p.experiments = {SeriesExperiment("x", t, y, NoiseModel::Additive(ValueRef::Constant(sd)))};
  EstimationOptions o = Tight();
  auto s = Estimate(p, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->curvature, "observed Hessian");
  auto f = [&](double u, double v) {  // u = log10 x0, v = ln k
    double sum = 0;
    for (size_t i = 0; i < t.size(); ++i) sum += std::pow(y[i] - std::pow(10.0, u) * std::exp(-std::exp(v) * t[i]), 2);
    return sum / (2 * sd * sd);
  };
  const double u = std::log10(s->estimates[0].value), v = std::log(s->estimates[1].value), e = 1e-4;
  Eigen::Matrix2d h;
  h(0, 0) = (f(u + e, v) - 2 * f(u, v) + f(u - e, v)) / (e * e);
  h(1, 1) = (f(u, v + e) - 2 * f(u, v) + f(u, v - e)) / (e * e);
  h(0, 1) = h(1, 0) = (f(u + e, v + e) - f(u + e, v - e) - f(u - e, v + e) + f(u - e, v - e)) / (4 * e * e);
  const Eigen::Matrix2d ref = h.inverse();
  // The gradient comes from sensitivities at rel 1e-8, differenced with a
  // step of 1e-4: 1e-3 relative.
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) EXPECT_NEAR(s->covariance(a, b), ref(a, b), 1e-3 * std::abs(ref(a, a))) << a << b;
  // The expected information, on request, gives F^-1 instead, which
  // differs here by more than 5 %.
  o.curvature = EstimationOptions::Curvature::kExpected;
  auto e2 = Estimate(p, o);
  ASSERT_TRUE(e2.ok());
  EXPECT_EQ(e2->curvature, "expected Fisher information");
  const Eigen::MatrixXd finv = e2->fisher.inverse();
  EXPECT_NEAR(e2->covariance(1, 1), finv(1, 1), 1e-9 * finv(1, 1));
  EXPECT_GT(std::abs(finv(1, 1) - ref(1, 1)), 0.05 * ref(1, 1)) << finv(1, 1) << " vs " << ref(1, 1);
  EXPECT_NE(s->FullReport().find("Intervals from the observed Hessian"), std::string::npos);
}

TEST(Estimate, ProportionalNoiseNllhMatchesFormula) {
  EstimationProblem p;
  p.model = DecayModel();
  std::vector<double> t = {1, 2}, y = {8.0, 5.0};
  p.parameters = {Param("k", 1e-3, 10, 0.3, Scale::kLog)};
  p.experiments = {SeriesExperiment("x", t, y, NoiseModel::Proportional(ValueRef::Constant(0.1)))};
  auto ev = Evaluate(p, {0.3});
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  double ref = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const double m = 10 * std::exp(-0.3 * t[i]), s = 0.1 * m;
    EXPECT_NEAR(ev->predictions[0][i], m, 1e-6 * m);
    ref += 0.5 * std::log(2 * std::numbers::pi * s * s) + 0.5 * std::pow((y[i] - m) / s, 2);
  }
  EXPECT_NEAR(ev->nllh, ref, 1e-5);
}

TEST(Estimate, FlagsNonIdentifiableSum) {
  EstimationProblem p = LineProblem(0.4);
  p.parameters.push_back(Param("c", -10, 10, 0.5));  // y depends on a + c only
  auto s = Estimate(p);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->weak_directions.size(), 1u);
  std::vector<std::string> names = s->weak_directions[0].parameters;
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "c"}));
  EXPECT_FALSE(s->estimates[0].identifiable);
  EXPECT_TRUE(s->estimates[1].identifiable);
  EXPECT_FALSE(s->estimates[2].identifiable);
  EXPECT_NE(s->FullReport().find("Weak direction"), std::string::npos);
}

TEST(Estimate, LaplaceNoiseFitsTheMedian) {
  EstimationProblem p = LineProblem(1.0);
  // Constant model y = a (b fixed at 0 by bounds): the Laplace MLE of a is the median.
  p.parameters = {Param("a", -10, 10, 0.0)};
  p.experiments[0].conditions = {{"b", ValueRef::Constant(0.0)}};
  p.experiments[0].observables[0].noise.distribution = NoiseDistribution::kLaplace;
  p.experiments[0].measurements.resize(7);  // data 0.9 3.2 4.8 7.1 9.3 10.8 13.2: median 7.1
  auto s = Estimate(p);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // The objective is not smooth at the median; 1e-3 is what LM reaches there.
  EXPECT_NEAR(s->estimates[0].value, 7.1, 1e-3);
  // Its curvature is the Fisher information of a Laplace location,
  // n / b^2 = 7: no differences of a piecewise linear objective.
  EXPECT_EQ(s->curvature, "expected Fisher information (Laplace noise)");
  EXPECT_NEAR(s->estimates[0].std_error, 1 / std::sqrt(7.0), 1e-9);
}

TEST(MeasurementNllh, PetabConventions) {
  const double y = 2.0, m = 3.0, s = 0.5;
  const double pi = std::numbers::pi, ln10 = std::numbers::ln10;
  EXPECT_NEAR(MeasurementNllh(NoiseDistribution::kNormal, Scale::kLin, y, m, s),
              0.5 * std::log(2 * pi * s * s) + 0.5 * std::pow((y - m) / s, 2), 1e-14);
  EXPECT_NEAR(MeasurementNllh(NoiseDistribution::kNormal, Scale::kLog, y, m, s),
              0.5 * std::log(2 * pi * s * s * y * y) + 0.5 * std::pow((std::log(y) - std::log(m)) / s, 2), 1e-14);
  EXPECT_NEAR(MeasurementNllh(NoiseDistribution::kNormal, Scale::kLog10, y, m, s),
              0.5 * std::log(2 * pi * s * s * y * y * ln10 * ln10) +
                  0.5 * std::pow((std::log10(y) - std::log10(m)) / s, 2), 1e-14);
  EXPECT_NEAR(MeasurementNllh(NoiseDistribution::kLaplace, Scale::kLin, y, m, s), std::log(2 * s) + 2.0, 1e-14);
  EXPECT_NEAR(MeasurementNllh(NoiseDistribution::kLaplace, Scale::kLog, y, m, s),
              std::log(2 * s * y) + std::abs(std::log(y) - std::log(m)) / s, 1e-14);
}

TEST(Estimate, BadInputNamesTheProblem) {
  EstimationProblem p = LineProblem(0.4);
  p.parameters[0].lower = 20;
  auto s = Estimate(p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("parameter 'a'"), std::string::npos) << s.status().message();

  p = LineProblem(0.4);
  p.experiments[0].observables[0].symbol = "nope";
  s = Estimate(p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("nope"), std::string::npos);

  EstimationOptions o;
  o.starts = 0;
  s = Estimate(LineProblem(0.4), o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("EstimationOptions::starts"), std::string::npos);
}

TEST(Estimate, FailedSimulationsAreInfeasibleStepsNotErrors) {
  // A wide log range for k: trial steps with k near 1e8 make CVODES give up
  // (few steps allowed); the fit must still finish and report them.
  EstimationProblem p;
  p.model = DecayModel();
  std::vector<double> t = {1, 2, 4}, y;
  for (double ti : t) y.push_back(10.0 * std::exp(-0.5 * ti));
  p.parameters = {Param("k", 1e-3, 1e8, 1e7, Scale::kLog10)};
  p.experiments = {SeriesExperiment("x", t, y, NoiseModel::Combined(ValueRef::Constant(0.01), ValueRef::Constant(0.05)))};
  EstimationOptions o;
  o.max_steps = 20;
  o.starts = 3;
  auto s = Estimate(p, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_GT(s->failed_simulations, 0);
  EXPECT_FALSE(s->starts[0].error.ok());  // the nominal start cannot be simulated
}

// Up to a dozen parameters the report prints the correlation matrix; for
// more, only the strongly correlated pairs, strongest first.
TEST(EstimationReport, CorrelationMatrixForFewParametersStrongPairsForMany) {
  EstimationSummary few;
  few.estimates.resize(2);
  few.estimates[0].id = "a";
  few.estimates[1].id = "b";
  few.correlation = Eigen::MatrixXd::Identity(2, 2);
  few.correlation(0, 1) = few.correlation(1, 0) = -0.5;
  EXPECT_EQ(few.CorrelationReport(), "Correlation (estimation scale):\n  1.000 -0.500  a\n -0.500  1.000  b\n");

  EstimationSummary many;
  const int n = 20;
  many.estimates.resize(n);
  for (int i = 0; i < n; ++i) many.estimates[static_cast<size_t>(i)].id = "p" + std::to_string(i);
  many.correlation = Eigen::MatrixXd::Identity(n, n);
  many.correlation(3, 7) = many.correlation(7, 3) = 0.95;
  many.correlation(1, 2) = many.correlation(2, 1) = -0.99;
  many.correlation(4, 5) = many.correlation(5, 4) = 0.89;  // below the threshold
  EXPECT_EQ(many.CorrelationReport(),
            "Correlation (estimation scale): 2 of the 190 pairs of the 20 parameters have |r| >= 0.9:\n"
            "  -0.990  p1 ~ p2\n"
            "  +0.950  p3 ~ p7\n");
}

}  // namespace
}  // namespace soma::infer
