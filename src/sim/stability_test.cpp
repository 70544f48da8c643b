#include "sim/stability.h"

#include <cmath>

#include <gtest/gtest.h>

namespace soma::sim {
namespace {

TEST(StabilityTest, NegativeEigenvaluesAreStable) {
  Eigen::MatrixXd j(2, 2);
  j << -1.0, 0.5, 0.0, -0.3;  // eigenvalues -1, -0.3
  StabilityInfo s = ClassifyStability(j);
  EXPECT_EQ(s.verdict, Stability::kStable);
  EXPECT_NEAR(s.max_real_part, -0.3, 1e-12);
  EXPECT_EQ(s.zero_eigenvalues, 0);
  EXPECT_NE(s.Describe().find("stable (max real part of eigenvalues -0.3"), std::string::npos) << s.Describe();
}

TEST(StabilityTest, ConservationLawZeroEigenvalueIsSetAside) {
  // A <-> B: J = [[-kf, kr], [kf, -kr]], eigenvalues 0 and -(kf + kr).
  Eigen::MatrixXd j(2, 2);
  j << -1.0, 0.5, 1.0, -0.5;
  StabilityInfo s = ClassifyStability(j);
  EXPECT_EQ(s.verdict, Stability::kStable);
  EXPECT_NEAR(s.max_real_part, -1.5, 1e-12);
  EXPECT_EQ(s.zero_eigenvalues, 1);
  EXPECT_NE(s.Describe().find("1 zero eigenvalue"), std::string::npos) << s.Describe();
}

TEST(StabilityTest, PositiveRealPartIsUnstableAndCentresAreMarginal) {
  Eigen::MatrixXd saddle(2, 2);
  saddle << 1.0, 0.0, 0.0, -2.0;
  StabilityInfo s = ClassifyStability(saddle);
  EXPECT_EQ(s.verdict, Stability::kUnstable);
  EXPECT_NEAR(s.max_real_part, 1.0, 1e-12);

  Eigen::MatrixXd centre(2, 2);  // eigenvalues +-i
  centre << 0.0, 1.0, -1.0, 0.0;
  EXPECT_EQ(ClassifyStability(centre).verdict, Stability::kMarginal);

  Eigen::MatrixXd zero = Eigen::MatrixXd::Zero(2, 2);
  StabilityInfo z = ClassifyStability(zero);
  EXPECT_EQ(z.verdict, Stability::kMarginal);
  EXPECT_EQ(z.zero_eigenvalues, 2);
  EXPECT_TRUE(std::isnan(z.max_real_part));
}

TEST(StabilityTest, NotComputedSaysWhy) {
  Eigen::MatrixXd bad(1, 1);
  bad << std::nan("");
  StabilityInfo s = ClassifyStability(bad);
  EXPECT_EQ(s.verdict, Stability::kNotComputed);
  EXPECT_NE(s.Describe().find("not finite"), std::string::npos) << s.Describe();
}

}  // namespace
}  // namespace soma::sim
