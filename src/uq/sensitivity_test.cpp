#include "uq/sensitivity.h"

#include <gtest/gtest.h>

#include <cmath>

namespace soma::uq {
namespace {

// Ishigami & Homma (1990): f = sin x1 + a sin^2 x2 + b x3^4 sin x1 on
// [-pi, pi]^3, with analytic Sobol indices (a = 7, b = 0.1).
double Ishigami(const std::vector<double>& x) {
  return std::sin(x[0]) + 7 * std::pow(std::sin(x[1]), 2) + 0.1 * std::pow(x[2], 4) * std::sin(x[0]);
}

struct Analytic {
  double s[3], st[3];
};

Analytic IshigamiIndices() {
  const double a = 7, b = 0.1, pi = M_PI;
  double v1 = 0.5 * std::pow(1 + b * std::pow(pi, 4) / 5, 2);
  double v2 = a * a / 8;
  double v13 = b * b * std::pow(pi, 8) * (1.0 / 18 - 1.0 / 50);
  double v = v1 + v2 + v13;
  return {{v1 / v, v2 / v, 0.0}, {(v1 + v13) / v, v2 / v, v13 / v}};
}

TEST(Sobol, IshigamiIndicesMatchTheAnalyticValues) {
  auto dist = JointDistribution::Create({Distribution::Uniform(-M_PI, M_PI),
                                         Distribution::Uniform(-M_PI, M_PI),
                                         Distribution::Uniform(-M_PI, M_PI)});
  ASSERT_TRUE(dist.ok());
  auto design = MakeSobolDesign(*dist, 20000, SamplingMethod::kLatinHypercube, 11);
  ASSERT_TRUE(design.ok());
  ASSERT_EQ(design->points.size(), 20000u * 5);
  std::vector<double> y;
  for (const auto& x : design->points) y.push_back(Ishigami(x));
  auto idx = EstimateSobol(*design, y, {.bootstrap = 300, .confidence = 0.95, .seed = 5});
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  Analytic ref = IshigamiIndices();
  EXPECT_NEAR(ref.s[0], 0.3139, 1e-4);  // the published values
  EXPECT_NEAR(ref.st[2], 0.2437, 1e-4);
  for (int i = 0; i < 3; ++i) {
    // With n = 20000 the estimators' standard errors are ~0.01; 0.03 is ~3 SE.
    EXPECT_NEAR(idx->first[i], ref.s[i], 0.03) << "S" << i + 1;
    EXPECT_NEAR(idx->total[i], ref.st[i], 0.03) << "ST" << i + 1;
    // The 95% bootstrap intervals cover the truth and are not degenerate.
    EXPECT_LE(idx->first_low[i], ref.s[i] + 0.005) << i;
    EXPECT_GE(idx->first_high[i], ref.s[i] - 0.005) << i;
    EXPECT_LE(idx->total_low[i], ref.st[i] + 0.005) << i;
    EXPECT_GE(idx->total_high[i], ref.st[i] - 0.005) << i;
    EXPECT_LT(idx->first_low[i], idx->first_high[i]);
  }
  EXPECT_NEAR(idx->mean, 3.5, 0.05);  // E f = a / 2
}

TEST(Sobol, RejectsCorrelatedInputsAndBadOutputs) {
  Eigen::MatrixXd r(2, 2);
  r << 1, 0.5, 0.5, 1;
  auto corr = JointDistribution::Create({Distribution::Normal(0, 1), Distribution::Normal(0, 1)}, r);
  EXPECT_FALSE(MakeSobolDesign(*corr, 10, SamplingMethod::kMonteCarlo, 1).ok());
  auto ind = JointDistribution::Create({Distribution::Normal(0, 1), Distribution::Normal(0, 1)});
  auto design = MakeSobolDesign(*ind, 10, SamplingMethod::kMonteCarlo, 1);
  std::vector<double> y(design->points.size(), 1.0);
  EXPECT_FALSE(EstimateSobol(*design, y).ok());  // no variance
  y[3] = NAN;
  auto nan = EstimateSobol(*design, y);
  EXPECT_NE(nan.status().message().find("output 3"), std::string::npos);
  y.pop_back();
  EXPECT_FALSE(EstimateSobol(*design, y).ok());
}

TEST(Morris, LinearModelHasExactElementaryEffects) {
  // f = 3 x1 - 0.5 x2 + 0 x3 on uniform [0, 1]^3: every elementary effect of
  // x_i is c_i times the midpoint shrink (1 - 1/p), with sigma = 0.
  auto dist = JointDistribution::Create(
      {Distribution::Uniform(0, 1), Distribution::Uniform(0, 1), Distribution::Uniform(0, 1)});
  const int p = 4;
  auto m = MakeMorrisDesign(*dist, 20, p, 9);
  ASSERT_TRUE(m.ok());
  std::vector<double> y;
  for (const auto& x : m->points) y.push_back(3 * x[0] - 0.5 * x[1]);
  auto r = EstimateMorris(*m, y);
  ASSERT_TRUE(r.ok());
  const double shrink = 1 - 1.0 / p;
  EXPECT_NEAR(r->mu[0], 3 * shrink, 1e-12);
  EXPECT_NEAR(r->mu_star[1], 0.5 * shrink, 1e-12);
  EXPECT_NEAR(r->mu[1], -0.5 * shrink, 1e-12);
  EXPECT_NEAR(r->mu_star[2], 0.0, 1e-12);
  for (double s : r->sigma) EXPECT_NEAR(s, 0.0, 1e-12);
}

TEST(Morris, RanksIshigamiFactorsAndSeesInteraction) {
  auto dist = JointDistribution::Create({Distribution::Uniform(-M_PI, M_PI),
                                         Distribution::Uniform(-M_PI, M_PI),
                                         Distribution::Uniform(-M_PI, M_PI)});
  auto m = MakeMorrisDesign(*dist, 200, 6, 4);
  std::vector<double> y;
  for (const auto& x : m->points) y.push_back(Ishigami(x));
  auto r = EstimateMorris(*m, y);
  ASSERT_TRUE(r.ok());
  // x3 acts only through its interaction with x1: mu near 0 but sigma large.
  EXPECT_GT(r->mu_star[0], 0.0);
  EXPECT_GT(r->mu_star[1], 0.0);
  EXPECT_GT(r->sigma[2], std::abs(r->mu[2]));
}

}  // namespace
}  // namespace soma::uq
