#include "infer/profile.h"

#include <cmath>

#include <gtest/gtest.h>

#include "infer/infer_test_util.h"

namespace soma::infer {
namespace {

using testing::DecayModel;
using testing::LineProblem;
using testing::Param;
using testing::SeriesExperiment;
using testing::Tight;

constexpr double kZ = 1.959963984540054;  // standard normal 97.5 % quantile

TEST(ProfileLikelihood, LinearModelProfileIsTheExactParabolaAndMatchesTheLaplaceInterval) {
  // y = a + b t with known sigma: minimising over a leaves
  // f(b) - f(b_hat) = (b - b_hat)^2 / (2 var_b), so the profile interval is
  // b_hat +- z sd_b, the Laplace (Wald) interval, exactly.
  const EstimationProblem p = LineProblem(0.4);
  auto fit = Estimate(p, Tight());
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  ProfileOptions po;
  po.parameters = {"b"};
  auto prof = ProfileLikelihood(p, *fit, Tight(), po);
  ASSERT_TRUE(prof.ok()) << prof.status().ToString();
  ASSERT_EQ(prof->size(), 1u);
  const ParameterProfile& b = (*prof)[0];
  const double b_hat = fit->estimates[1].value, var_b = fit->covariance(1, 1);
  const double sd = std::sqrt(var_b);
  EXPECT_EQ(b.lower_end, ProfileEnd::kThreshold);
  EXPECT_EQ(b.upper_end, ProfileEnd::kThreshold);
  EXPECT_NEAR(b.threshold - b.optimum, kZ * kZ / 2, 1e-12);
  // The crossing is refined to 1e-4 of the threshold height: about 1e-4 sd.
  EXPECT_NEAR(b.lower, b_hat - kZ * sd, 1e-3 * sd);
  EXPECT_NEAR(b.upper, b_hat + kZ * sd, 1e-3 * sd);
  EXPECT_NEAR(b.lower, fit->estimates[1].lower_ci, 1e-3 * sd);
  EXPECT_NEAR(b.upper, fit->estimates[1].upper_ci, 1e-3 * sd);
  // Every point is on the parabola (the other parameter re-optimised).
  ASSERT_GE(b.points.size(), 7u);
  for (size_t i = 0; i < b.points.size(); ++i) {
    const ProfilePoint& pt = b.points[i];
    EXPECT_NEAR(pt.objective - b.optimum, std::pow(pt.value - b_hat, 2) / (2 * var_b), 1e-7) << pt.value;
    if (i > 0) {
      EXPECT_LT(b.points[i - 1].value, pt.value);
    }
  }
  EXPECT_FALSE(b.better_optimum_found);
  EXPECT_NE(ProfileReport(*fit, *prof).find("profile lower"), std::string::npos);
}

// The decay profile in closed form: for fixed k the best x0 is linear least
// squares, x0 = sum(y e) / sum(e^2) with e = exp(-k t).
double DecayProfile(double k, const std::vector<double>& t, const std::vector<double>& y, double sigma) {
  double ye = 0, ee = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const double e = std::exp(-k * t[i]);
    ye += y[i] * e;
    ee += e * e;
  }
  const double x0 = ye / ee;
  double rss = 0;
  for (size_t i = 0; i < t.size(); ++i) rss += std::pow(y[i] - x0 * std::exp(-k * t[i]), 2);
  return rss / (2 * sigma * sigma);
}

// The root of DecayProfile(k) - min = target between a (below) and b (above).
double Bisect(double a, double b, double target, const std::vector<double>& t, const std::vector<double>& y,
              double sigma) {
  for (int i = 0; i < 200; ++i) {
    const double m = 0.5 * (a + b);
    ((DecayProfile(m, t, y, sigma) < target) ? a : b) = m;
  }
  return 0.5 * (a + b);
}

TEST(ProfileLikelihood, NonlinearProfileMatchesTheClosedFormAndIsAsymmetric) {
  // x = x0 exp(-k t) with noisy data; k on a log scale (the profile interval
  // does not depend on the scale; the steps do).
  const std::vector<double> t = {0.5, 1, 2, 3, 5, 8};
  const std::vector<double> y = {5.3, 4.6, 2.9, 1.6, 0.8, 0.15};
  const double sigma = 0.3;
  EstimationProblem p;
  p.model = DecayModel();
  p.parameters = {Param("x", 0.1, 100, 5.0, Scale::kLog10), Param("k", 1e-3, 10, 0.3, Scale::kLog)};
  p.experiments = {SeriesExperiment("x", t, y, NoiseModel::Additive(ValueRef::Constant(sigma)))};
  auto fit = Estimate(p, Tight());
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  ProfileOptions po;
  po.parameters = {"k"};
  auto prof = ProfileLikelihood(p, *fit, Tight(), po);
  ASSERT_TRUE(prof.ok()) << prof.status().ToString();
  const ParameterProfile& k = (*prof)[0];
  const double k_hat = fit->estimates[1].value;
  const double f_min = DecayProfile(k_hat, t, y, sigma);
  const double target = f_min + kZ * kZ / 2;
  const double lower = Bisect(k_hat, 1e-3, target, t, y, sigma);
  const double upper = Bisect(k_hat, 10, target, t, y, sigma);
  // Integrator rel 1e-8; crossing refined to 1e-4 of the threshold height.
  EXPECT_EQ(k.lower_end, ProfileEnd::kThreshold);
  EXPECT_EQ(k.upper_end, ProfileEnd::kThreshold);
  EXPECT_NEAR(k.lower, lower, 1e-4 * k_hat);
  EXPECT_NEAR(k.upper, upper, 1e-4 * k_hat);
  for (const ProfilePoint& pt : k.points) {
    EXPECT_NEAR(pt.objective - k.optimum, DecayProfile(pt.value, t, y, sigma) - f_min, 1e-5) << pt.value;
  }
  // The profile interval is not the Laplace one: the model is nonlinear.
  const double wald_lower = fit->estimates[1].lower_ci, wald_upper = fit->estimates[1].upper_ci;
  EXPECT_GT(std::abs(k.lower - wald_lower) + std::abs(k.upper - wald_upper), 1e-3 * k_hat);
}

TEST(ProfileLikelihood, NonIdentifiableParameterIsOpenToItsBounds) {
  // y depends on a + c only: c's profile is flat, open on both sides (a's
  // bounds are wide enough to compensate any c).
  EstimationProblem p = LineProblem(0.4);
  p.parameters[0] = Param("a", -100, 100, 0.0);
  p.parameters.push_back(Param("c", -10, 10, 0.5));
  auto fit = Estimate(p);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  ProfileOptions po;
  po.parameters = {"c"};
  auto prof = ProfileLikelihood(p, *fit, EstimationOptions{}, po);
  ASSERT_TRUE(prof.ok()) << prof.status().ToString();
  const ParameterProfile& c = (*prof)[0];
  EXPECT_EQ(c.lower_end, ProfileEnd::kBound);
  EXPECT_EQ(c.upper_end, ProfileEnd::kBound);
  EXPECT_EQ(c.lower, -10.0);
  EXPECT_EQ(c.upper, 10.0);
  for (const ProfilePoint& pt : c.points) EXPECT_NEAR(pt.objective, c.optimum, 1e-6) << pt.value;
  const std::string report = ProfileReport(*fit, *prof);
  EXPECT_NE(report.find("lower open (below the threshold up to the bound -10)"), std::string::npos) << report;
}

TEST(ProfileLikelihood, MaxPointsLeavesTheSideOpenAndSaysSo) {
  EstimationProblem p = LineProblem(0.4);
  p.parameters.push_back(Param("c", -10, 10, 0.5));
  auto fit = Estimate(p);
  ASSERT_TRUE(fit.ok());
  ProfileOptions po;
  po.parameters = {"c"};
  po.max_points = 2;
  auto prof = ProfileLikelihood(p, *fit, EstimationOptions{}, po);
  ASSERT_TRUE(prof.ok());
  EXPECT_EQ((*prof)[0].upper_end, ProfileEnd::kMaxPoints);
  EXPECT_EQ((*prof)[0].upper_note, "below the threshold after 2 points");
  EXPECT_LT((*prof)[0].upper, 10.0);
}

TEST(ProfileLikelihood, FindsABetterOptimumThanAPoorFit) {
  const EstimationProblem p = LineProblem(0.4);
  auto fit = Estimate(p, Tight());
  ASSERT_TRUE(fit.ok());
  // Pretend the fit stopped early at a worse point.
  EstimationSummary poor = *fit;
  std::vector<double>& x = poor.starts[poor.best_start].estimate;
  x = {x[0] + 0.5, x[1]};
  auto ev = Evaluate(p, x);
  ASSERT_TRUE(ev.ok());
  poor.objective = ev->nllh;
  ProfileOptions po;
  po.parameters = {"b"};
  auto prof = ProfileLikelihood(p, poor, Tight(), po);
  ASSERT_TRUE(prof.ok());
  const ParameterProfile& b = (*prof)[0];
  EXPECT_TRUE(b.better_optimum_found);
  // Below the poor point, and not below the true optimum.
  EXPECT_LT(b.better_objective, poor.objective - 0.5);
  EXPECT_GE(b.better_objective, fit->objective - 1e-9);
  EXPECT_NE(ProfileReport(poor, *prof).find("a better optimum"), std::string::npos);
}

TEST(ProfileLikelihood, ResultsDoNotDependOnTheThreadCount) {
  const EstimationProblem p = LineProblem(0.4);
  auto fit = Estimate(p, Tight());
  ASSERT_TRUE(fit.ok());
  ProfileOptions one, two;
  two.threads = 2;
  auto a = ProfileLikelihood(p, *fit, Tight(), one);
  auto b = ProfileLikelihood(p, *fit, Tight(), two);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), 2u);
  ASSERT_EQ(b->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ((*a)[i].id, (*b)[i].id);
    EXPECT_EQ((*a)[i].lower, (*b)[i].lower);
    EXPECT_EQ((*a)[i].upper, (*b)[i].upper);
    ASSERT_EQ((*a)[i].points.size(), (*b)[i].points.size());
    for (size_t k = 0; k < (*a)[i].points.size(); ++k)
      EXPECT_EQ((*a)[i].points[k].objective, (*b)[i].points[k].objective);
  }
}

TEST(ProfileLikelihood, BadInputNamesTheProblem) {
  const EstimationProblem p = LineProblem(0.4);
  auto fit = Estimate(p);
  ASSERT_TRUE(fit.ok());
  ProfileOptions po;
  po.parameters = {"nope"};
  auto r = ProfileLikelihood(p, *fit, EstimationOptions{}, po);
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.status().message().find("'nope'"), std::string::npos);
  po.parameters = {"a", "a"};
  EXPECT_EQ(ProfileLikelihood(p, *fit, EstimationOptions{}, po).status().code(), ErrorCode::kInvalidArgument);
  po.parameters = {};
  po.confidence = 1.5;
  EXPECT_EQ(ProfileLikelihood(p, *fit, EstimationOptions{}, po).status().code(), ErrorCode::kInvalidArgument);
  po.confidence = 0.95;
  EstimationSummary failed;
  EXPECT_EQ(ProfileLikelihood(p, failed, EstimationOptions{}, po).status().code(), ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace soma::infer
