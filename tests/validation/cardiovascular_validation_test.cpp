// Validation of models/cardiovascular-smith2004.xml: periodic state, the
// independent SciPy reference (verification), published normal adult
// ranges and the doubled systemic resistance intervention (validation),
// conservation and speed.

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "cardio_protocol.h"
#include "model_util.h"

namespace soma::validation {
namespace {

const std::filesystem::path kReference =
    std::filesystem::path(SOMA_SOURCE_DIR) / "tests" / "validation" / "data" / "cardiovascular_reference.json";

class CardiovascularTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = LoadModel(BundledModel("cardiovascular-smith2004.xml"));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = new model::Model(std::move(*m));
    auto base = SimulateCardio(*model_, CardioScenario{});
    ASSERT_TRUE(base.ok()) << base.status().ToString();
    baseline_ = new CardioRun(*base);
    auto doubled = SimulateCardio(*model_, CardioScenario{.r_sys_factor = 2.0});
    ASSERT_TRUE(doubled.ok()) << doubled.status().ToString();
    doubled_ = new CardioRun(*doubled);
  }
  static void TearDownTestSuite() {
    delete model_;
    delete baseline_;
    delete doubled_;
  }
  void SetUp() override { ASSERT_NE(doubled_, nullptr); }

  static model::Model* model_;
  static CardioRun* baseline_;
  static CardioRun* doubled_;
};

model::Model* CardiovascularTest::model_ = nullptr;
CardioRun* CardiovascularTest::baseline_ = nullptr;
CardioRun* CardiovascularTest::doubled_ = nullptr;

void ExpectPeriodic(const CardioRun& r) {
  EXPECT_NEAR(r.last.sbp, r.previous.sbp, kPeriodicPressure);
  EXPECT_NEAR(r.last.dbp, r.previous.dbp, kPeriodicPressure);
  EXPECT_NEAR(r.last.map, r.previous.map, kPeriodicPressure);
  EXPECT_NEAR(r.last.edv, r.previous.edv, kPeriodicVolume);
  EXPECT_NEAR(r.last.esv, r.previous.esv, kPeriodicVolume);
}

TEST_F(CardiovascularTest, ReachesAPeriodicStateAndConservesVolume) {
  ExpectPeriodic(*baseline_);
  ExpectPeriodic(*doubled_);
  EXPECT_LE(baseline_->max_volume_drift, kVolumeConservation);
  EXPECT_LE(doubled_->max_volume_drift, kVolumeConservation);
}

TEST_F(CardiovascularTest, BeatObservablesMatchTheGrid) {
  // The model's event-based observables (valve times found by root finding)
  // against maxima, minima and means taken from the output grid.
  for (const CardioRun* r : {baseline_, doubled_}) {
    EXPECT_NEAR(r->model.sbp, r->last.sbp, kEventVsGridPressure);
    EXPECT_NEAR(r->model.dbp, r->last.dbp, kEventVsGridPressure);
    EXPECT_NEAR(r->model.map, r->last.map, kEventVsGridPressure);
    EXPECT_NEAR(r->model.edv, r->last.edv, kEventVsGridVolume);
    EXPECT_NEAR(r->model.esv, r->last.esv, kEventVsGridVolume);
    EXPECT_NEAR(r->model.sv, r->last.sv, 2 * kEventVsGridVolume);
    EXPECT_NEAR(r->model.ef, r->last.ef, 1e-3);
    EXPECT_NEAR(r->model.co, r->last.co, 1e-2);
  }
}

TEST_F(CardiovascularTest, FlowBalanceOverABeat) {
  // Periodic state: the beat-mean systemic flow equals cardiac output, so
  // mean(P_ao - P_vc) = R_sys SV HR / 60 (an identity of the model, not a fit).
  for (const CardioRun* r : {baseline_, doubled_}) {
    const double expected = r->r_sys * r->last.sv * r->heart_rate / 60.0;
    EXPECT_TRUE(Within(r->last.mean_driving_pressure, expected, 0.0, 1e-3))
        << r->last.mean_driving_pressure << " vs " << expected;
  }
}

TEST_F(CardiovascularTest, MatchesTheIndependentScipyReference) {
  std::ifstream f(kReference);
  ASSERT_TRUE(f) << kReference;
  const nlohmann::json ref = nlohmann::json::parse(f);
  for (const auto& [key, run] : {std::pair{"baseline", baseline_}, std::pair{"doubled_R_sys", doubled_}}) {
    SCOPED_TRACE(key);
    const auto& r = ref.at(key);
    for (const char* q : {"SBP", "DBP", "MAP"}) EXPECT_NEAR(MetricValue(run->last, q), r.at(q).get<double>(), 0.02) << q;
    for (const char* q : {"EDV", "ESV", "SV"}) EXPECT_NEAR(MetricValue(run->last, q), r.at(q).get<double>(), 0.02) << q;
    EXPECT_NEAR(run->last.ef, r.at("EF").get<double>(), 2e-4);
    EXPECT_NEAR(run->last.co, r.at("CO").get<double>(), 2e-3);
  }
}

TEST_F(CardiovascularTest, BaselineWithinNormalAdultRanges) {
  for (const NormalRange& range : NormalAdultRanges()) {
    const double v = MetricValue(baseline_->last, range.quantity);
    EXPECT_GE(v, range.low) << range.quantity;
    EXPECT_LE(v, range.high) << range.quantity;
  }
}

TEST_F(CardiovascularTest, DoublingSystemicResistanceRaisesPressureAndLowersStrokeVolume) {
  const InterventionBounds b;
  const double map = doubled_->last.map / baseline_->last.map - 1.0;
  const double sv = doubled_->last.sv / baseline_->last.sv - 1.0;
  const double co = doubled_->last.co / baseline_->last.co - 1.0;
  EXPECT_GE(map, b.map_low);
  EXPECT_LE(map, b.map_high);
  EXPECT_GE(sv, b.sv_low);
  EXPECT_LE(sv, b.sv_high);
  EXPECT_GE(co, b.co_low);
  EXPECT_LE(co, b.co_high);
  EXPECT_GT(doubled_->last.esv, baseline_->last.esv);  // afterload: less emptying
}

TEST_F(CardiovascularTest, SixtySecondsSimulateQuickly) {
  auto r = SimulateCardio(*model_, CardioScenario{.settle = 58.5, .points_per_beat = 100});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->simulated_seconds, 60.0);
  // Generous bound for a loaded CI machine; the report states the measured time.
  EXPECT_LT(r->wall_seconds, 10.0) << r->summary;
}

}  // namespace
}  // namespace soma::validation
