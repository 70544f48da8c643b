// Population covariates and scaling formulas (scenario/trial.h).

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "scenario/decay_sbml_test_util.h"
#include "formats/sbml/sbml_import.h"
#include "scenario/trial.h"

namespace soma::scenario {
namespace {

// dX/dt = -k X, X(0) = 0; a unit bolus at t = 0 gives X(5) = exp(-5 k).
const std::string kDecay = testing::DecaySbml();

nlohmann::json Dose() {
  return {{"name", "dose"}, {"end", 10}, {"steps", 100}, {"outputs", {"X"}},
          {"interventions", {{{"type", "bolus"}, {"target", "X"}, {"amount", 1.0}, {"time", 0}}}},
          {"outcomes", {{{"name", "x5"}, {"variable", "X"}, {"metric", "value_at"}, {"at", 5}}}}};
}

class Covariates : public ::testing::Test {
 protected:
  void SetUp() override {
    auto imported = formats::ParseSbml(kDecay);
    ASSERT_TRUE(imported.ok());
    model_ = imported->model;
    options_.simulation.integrator.rel_tol = 1e-10;
    options_.simulation.integrator.abs_tol = 1e-12;
  }
  model::Model model_;
  TrialOptions options_;
};

// k = k_ref * (weight / 70)^0.75 with k_ref and weight drawn (allometric
// scaling of a clearance rate).
TEST_F(Covariates, DrawnCovariatesScaleParametersThroughTheFormula) {
  nlohmann::json j = {
      {"name", "allometry"},
      {"scenarios", {Dose()}},
      {"population", {{"size", 30}, {"seed", 4},
                      {"parameters", {{"k", {{"distribution", "lognormal"}, {"median", 0.5}, {"cv", 0.2}}}}},
                      {"covariates", {{"weight", {{"distribution", "normal"}, {"mean", 70}, {"sd", 12},
                                                  {"lower", 40}, {"upper", 120}}},
                                      {"age", {{"distribution", "uniform"}, {"lower", 18}, {"upper", 80}}}}},
                      {"correlation", {{"parameters", {"weight", "k"}}, {"matrix", {{1, 0.5}, {0.5, 1}}}}},
                      {"scaling", {{"k", "k * (weight / 70)^0.75"}}}}}};
  auto trial = ParseTrial(j, ".");
  ASSERT_TRUE(trial.ok()) << trial.status().ToString();
  ASSERT_EQ(trial->population.covariates, (std::vector<std::string>{"age", "weight"}));
  auto results = RunTrialMembers(*trial, model_, options_);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  for (int i = 0; i < 30; ++i) {
    const double drawn = trial->population.table_rows[i][0];
    const auto cov = MemberCovariates(*trial, i);
    ASSERT_EQ(cov.size(), 2u);
    EXPECT_GE(cov[1], 40);
    EXPECT_LE(cov[1], 120);
    const double k = drawn * std::pow(cov[1] / 70, 0.75);
    const auto values = MemberParameters(*trial, i);
    ASSERT_EQ(values.size(), 1u);
    EXPECT_NEAR(values[0].second, k, 1e-15 * k);
    // |x - exp(-5 k)| <= 1e-8 (integration at rel 1e-10)
    EXPECT_NEAR((*results)[i].outcomes[0][0], std::exp(-5 * k), 1e-8) << "member " << i;
  }
  std::string csv = MembersCsv(*trial, *results);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "member,name,age,weight,k,dose.x5,error");
}

TEST_F(Covariates, TableCovariatesAndErrors) {
  auto dir = std::filesystem::temp_directory_path() / "soma_covariates_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "patients.csv") << "Name,kel,BW\np1,0.4,35\np2,0.4,140\n";
  nlohmann::json j = {{"name", "table"}, {"scenarios", {Dose()}},
                      {"population", {{"table", "patients.csv"}, {"columns", {{"kel", "k"}}},
                                      {"covariates", {{"weight", "BW"}}},
                                      {"scaling", {{"k", "k * (weight / 70)^0.75"}}}}}};
  auto trial = ParseTrial(j, dir.string());
  ASSERT_TRUE(trial.ok()) << trial.status().ToString();
  auto results = RunTrialMembers(*trial, model_, options_);
  ASSERT_TRUE(results.ok());
  EXPECT_NEAR((*results)[0].outcomes[0][0], std::exp(-5 * 0.4 * std::pow(0.5, 0.75)), 1e-8);
  EXPECT_NEAR((*results)[1].outcomes[0][0], std::exp(-5 * 0.4 * std::pow(2.0, 0.75)), 1e-8);

  j["population"]["scaling"] = {{"k", "k * height"}};
  auto bad = ParseTrial(j, dir.string());
  EXPECT_EQ(bad.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(bad.status().message().find("population.scaling.k"), std::string::npos) << bad.status().ToString();
  j["population"]["scaling"] = {{"k", "k *"}};
  EXPECT_NE(ParseTrial(j, dir.string()).status().message().find("population.scaling.k"), std::string::npos);
  j["population"]["scaling"] = {{"k", "k"}};
  j["population"]["covariates"] = {{"weight", "Height"}};
  EXPECT_EQ(ParseTrial(j, dir.string()).status().code(), ErrorCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace soma::scenario
