#include "scenario/outcomes.h"

#include <gtest/gtest.h>

#include <cmath>

namespace soma::scenario {
namespace {

OutcomeSpec Spec(Metric m) {
  OutcomeSpec s;
  s.name = "x";
  s.variable = "G";
  s.metric = m;
  return s;
}

// A triangle: 0 at t=0, 10 at t=10, 0 at t=20, sampled at t = 0, 10, 20.
const std::vector<double> kT = {0, 10, 20};
const std::vector<double> kV = {0, 10, 0};

double Eval(OutcomeSpec s, const std::vector<double>& t = kT, const std::vector<double>& v = kV) {
  auto r = EvaluateOutcome(s, t, v);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : NAN;
}

TEST(Outcomes, TriangleHasExactAnswers) {
  EXPECT_DOUBLE_EQ(Eval(Spec(Metric::kAuc)), 100.0);
  EXPECT_DOUBLE_EQ(Eval(Spec(Metric::kMean)), 5.0);
  EXPECT_DOUBLE_EQ(Eval(Spec(Metric::kCmax)), 10.0);
  EXPECT_DOUBLE_EQ(Eval(Spec(Metric::kTmax)), 10.0);
  EXPECT_DOUBLE_EQ(Eval(Spec(Metric::kMin)), 0.0);
  OutcomeSpec at = Spec(Metric::kValueAt);
  at.at = 15;
  EXPECT_DOUBLE_EQ(Eval(at), 5.0);
  OutcomeSpec above = Spec(Metric::kTimeAbove);
  above.threshold = 4;  // above 4 from t = 4 to t = 16
  EXPECT_NEAR(Eval(above), 12.0, 1e-12);
  above.metric = Metric::kFractionAbove;
  EXPECT_NEAR(Eval(above), 0.6, 1e-12);
  above.metric = Metric::kTimeBelow;
  EXPECT_NEAR(Eval(above), 8.0, 1e-12);
  OutcomeSpec range = Spec(Metric::kTimeInRange);
  range.low = 2;
  range.high = 6;  // [2,6] on the way up and the way down: 4 + 4
  EXPECT_NEAR(Eval(range), 8.0, 1e-12);
  OutcomeSpec up = Spec(Metric::kFirstCrossingUp);
  up.threshold = 7.5;
  EXPECT_NEAR(Eval(up), 7.5, 1e-12);
  up.metric = Metric::kFirstCrossingDown;
  EXPECT_NEAR(Eval(up), 12.5, 1e-12);
  up.threshold = 11;
  EXPECT_TRUE(std::isnan(Eval(up)));
}

TEST(Outcomes, WindowsInterpolateTheirEnds) {
  OutcomeSpec s = Spec(Metric::kAuc);
  s.from = 5;
  s.to = 15;  // trapezoids 5..10 and 10..15: 37.5 + 37.5
  EXPECT_NEAR(Eval(s), 75.0, 1e-12);
  s.metric = Metric::kMin;
  EXPECT_NEAR(Eval(s), 5.0, 1e-12);
  s.to = 25;
  EXPECT_FALSE(EvaluateOutcome(s, kT, kV).ok());
}

TEST(Outcomes, SineAucConvergesToTheIntegral) {
  // AUC of sin over [0, pi] is 2; the trapezoid error is O(h^2).
  std::vector<double> t, v;
  for (int i = 0; i <= 1000; ++i) {
    t.push_back(M_PI * i / 1000);
    v.push_back(std::sin(t.back()));
  }
  EXPECT_NEAR(Eval(Spec(Metric::kAuc), t, v), 2.0, 2e-6);
}

TEST(Outcomes, JsonSpecsAreCheckedByField) {
  auto ok = OutcomeSpecFromJson(
      {{"name", "tir"}, {"variable", "BG"}, {"metric", "fraction_in_range"}, {"low", 70}, {"high", 180}},
      "outcomes[0]");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->metric, Metric::kFractionInRange);
  auto missing = OutcomeSpecFromJson({{"name", "tir"}, {"variable", "BG"}, {"metric", "fraction_in_range"}},
                                     "outcomes[0]");
  EXPECT_NE(missing.status().message().find("outcomes[0].low"), std::string::npos);
  auto bad = OutcomeSpecFromJson({{"name", "x"}, {"variable", "BG"}, {"metric", "median"}}, "o");
  EXPECT_NE(bad.status().message().find("median"), std::string::npos);
  auto extra = OutcomeSpecFromJson({{"name", "x"}, {"variable", "BG"}, {"metric", "max"}, {"colour", 1}}, "o");
  EXPECT_NE(extra.status().message().find("o.colour"), std::string::npos);
}

}  // namespace
}  // namespace soma::scenario
