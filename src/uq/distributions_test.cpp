#include "uq/distributions.h"

#include <gtest/gtest.h>

#include <cmath>

namespace soma::uq {
namespace {

TEST(NormalQuantile, MatchesTabulatedValuesAndInvertsTheCdf) {
  // Reference quantiles (e.g. Abramowitz & Stegun 26.2, or R's qnorm).
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-14);
  EXPECT_NEAR(NormalQuantile(0.5), 0.0, 1e-15);
  EXPECT_NEAR(NormalQuantile(0.001), -3.090232306167814, 1e-13);
  EXPECT_NEAR(NormalQuantile(1e-10), -6.361340902404056, 1e-11);
  for (double u : {1e-300, 1e-12, 0.01, 0.3, 0.7, 0.99, 1 - 1e-12}) {
    EXPECT_NEAR(NormalCdf(NormalQuantile(u)), u, 1e-14 + 1e-12 * u) << u;
  }
}

TEST(Distribution, QuantilesAndMeans) {
  EXPECT_DOUBLE_EQ(Distribution::Uniform(2, 4).Quantile(0.25), 2.5);
  EXPECT_NEAR(Distribution::LogNormal(std::log(3.0), 0.4).Quantile(0.5), 3.0, 1e-12);
  EXPECT_NEAR(Distribution::LogNormal(0.0, 0.5).Mean(), std::exp(0.125), 1e-15);
  Distribution t = Distribution::TruncatedNormal(0, 1, 0, 1e300);  // half-normal
  EXPECT_NEAR(t.Mean(), std::sqrt(2 / M_PI), 1e-12);
  EXPECT_NEAR(t.Quantile(0.5), NormalQuantile(0.75), 1e-12);
  EXPECT_GE(t.Quantile(1e-9), 0.0);
  EXPECT_FALSE(Distribution::Normal(0, -1).Validate("k").ok());
  EXPECT_FALSE(Distribution::Uniform(1, 1).Validate("k").ok());
  EXPECT_FALSE(Distribution::TruncatedNormal(0, 1, 50, 60).Validate("k").ok());
  EXPECT_NE(Distribution::Normal(0, 0).Validate("ka").message().find("ka"), std::string::npos);
}

TEST(UnitCubeSample, LatinHypercubeHasOnePointPerStratum) {
  const int n = 50, d = 3;
  auto u = UnitCubeSample(n, d, SamplingMethod::kLatinHypercube, 7);
  for (int j = 0; j < d; ++j) {
    std::vector<int> count(n, 0);
    for (int i = 0; i < n; ++i) ++count[static_cast<int>(u[i][j] * n)];
    for (int c : count) EXPECT_EQ(c, 1);
  }
  EXPECT_EQ(u, UnitCubeSample(n, d, SamplingMethod::kLatinHypercube, 7));  // reproducible
  EXPECT_NE(u, UnitCubeSample(n, d, SamplingMethod::kLatinHypercube, 8));
}

TEST(JointDistribution, CovarianceIsReproduced) {
  // Two log-normal parameters with correlated logs: the sample covariance of
  // the logs matches the requested one to Monte Carlo accuracy.
  Eigen::MatrixXd cov(2, 2);
  cov << 0.04, 0.018, 0.018, 0.09;
  auto j = JointDistribution::FromCovariance(
      {Distribution::LogNormal(std::log(2.0), 1), Distribution::LogNormal(0.0, 1)}, cov);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  const int n = 40000;
  auto x = SampleJoint(*j, n, SamplingMethod::kMonteCarlo, 3);
  double m0 = 0, m1 = 0;
  for (auto& r : x) {
    r[0] = std::log(r[0]);
    r[1] = std::log(r[1]);
    m0 += r[0] / n;
    m1 += r[1] / n;
  }
  double c00 = 0, c01 = 0, c11 = 0;
  for (auto& r : x) {
    c00 += (r[0] - m0) * (r[0] - m0) / (n - 1);
    c01 += (r[0] - m0) * (r[1] - m1) / (n - 1);
    c11 += (r[1] - m1) * (r[1] - m1) / (n - 1);
  }
  // Standard errors are about sigma^2 sqrt(2/n) ~ 3e-4 to 7e-4; allow 5 SE.
  EXPECT_NEAR(m0, std::log(2.0), 0.01);
  EXPECT_NEAR(c00, 0.04, 0.0015);
  EXPECT_NEAR(c01, 0.018, 0.0015);
  EXPECT_NEAR(c11, 0.09, 0.0035);
  Eigen::MatrixXd bad(2, 2);
  bad << 1, 2, 2, 1;
  EXPECT_FALSE(JointDistribution::Create({Distribution::Normal(0, 1), Distribution::Normal(0, 1)}, bad).ok());
}

}  // namespace
}  // namespace soma::uq
