// Validation of models/whole-patient.xml (SBML comp): with the couplings
// switched off the composed twin equals its parts simulated separately (each
// in its own time unit); switched on, exercise lowers blood glucose and the
// drug lowers arterial pressure.

#include <gtest/gtest.h>

#include <cmath>

#include "composition_protocol.h"
#include "model_util.h"

namespace soma::validation {
namespace {

class WholePatientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto twin = LoadModel(BundledModel("whole-patient.xml"));
    ASSERT_TRUE(twin.ok()) << twin.status().ToString();
    auto heart = LoadModel(BundledModel("cardiovascular-smith2004.xml"));
    auto metabolism = LoadModel(BundledModel("t1d-exercise.xml"));
    auto drug = LoadModel(BundledModel("pk-oral-1cpt.xml"));
    ASSERT_TRUE(heart.ok() && metabolism.ok() && drug.ok());
    const CompositionScenario off{}, on{.coupled = true};
    auto u = SimulateTwin(*twin, off);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    auto c = SimulateTwin(*twin, on);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto p = SimulateParts(*heart, *metabolism, *drug, off);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    uncoupled_ = new TwinRun(*u);
    coupled_ = new TwinRun(*c);
    parts_ = new TwinRun(*p);
  }
  static void TearDownTestSuite() {
    delete uncoupled_;
    delete coupled_;
    delete parts_;
  }
  void SetUp() override { ASSERT_NE(parts_, nullptr); }
  static TwinRun* uncoupled_;
  static TwinRun* coupled_;
  static TwinRun* parts_;
};

TwinRun* WholePatientTest::uncoupled_ = nullptr;
TwinRun* WholePatientTest::coupled_ = nullptr;
TwinRun* WholePatientTest::parts_ = nullptr;

TEST_F(WholePatientTest, UncoupledTwinEqualsItsParts) {
  ASSERT_EQ(uncoupled_->time_s.size(), parts_->time_s.size());
  const RunDifference d = MaxDifference(*uncoupled_, *parts_);
  EXPECT_LE(d.p_ao, kPartsPressureAbs);
  EXPECT_LE(d.bg, kPartsGlucoseAbs);
  EXPECT_LE(d.c_drug, kPartsDrugAbs);
  EXPECT_LE(d.y, 1e-9);
  // Uncoupled: the metabolism sees its resting rate although the heart exercises.
  for (double hr : uncoupled_->hr_glucose) ASSERT_EQ(hr, 80.0);
}

TEST_F(WholePatientTest, HeartRateCouplingLowersGlucose) {
  EXPECT_EQ(coupled_->hr_glucose.front(), 80.0);
  EXPECT_EQ(coupled_->hr_glucose.back(), 120.0);
  EXPECT_GT(coupled_->y.back(), 0.0);
  EXPECT_LT(coupled_->bg.back(), uncoupled_->bg.back() - 0.5);  // mg/dL
}

TEST_F(WholePatientTest, DrugCouplingLowersResistanceAndPressure) {
  // The same drug concentration in both runs (the drug module is upstream).
  EXPECT_NEAR(coupled_->c_drug.back(), uncoupled_->c_drug.back(), kPartsDrugAbs);
  const double c = coupled_->c_drug.back();
  EXPECT_GT(c, 0.0);
  const double base = uncoupled_->r_sys.back();
  EXPECT_NEAR(coupled_->r_sys.back(), base * (1.0 - 0.3 * c / (5.0 + c)), 1e-12);  // Emax = 0.3, EC50 = 5 mg/L
  EXPECT_LT(coupled_->map_end, uncoupled_->map_end - 1.0);                          // mmHg
}

}  // namespace
}  // namespace soma::validation
