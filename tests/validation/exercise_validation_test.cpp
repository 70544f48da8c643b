// Validation of models/t1d-exercise.xml: at basal heart rate it is the base
// UVA/Padova model (same trajectories over the reference day with meals and
// insulin); with an exercise bout glucose falls faster, as computed by the
// independent SciPy reference and as estimated by hand for the first minute.

#include <gtest/gtest.h>

#include <cmath>

#include "exercise_protocol.h"
#include "model_util.h"
#include "t1d_protocol.h"

namespace soma::validation {
namespace {

namespace fs = std::filesystem;

const fs::path kReference =
    fs::path(SOMA_SOURCE_DIR) / "tests" / "validation" / "data" / "t1d_exercise_reference.csv";
const fs::path kPatients = fs::path(SOMA_SHARED_DIR) / "clinical" / "simglucose";

class ExerciseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = LoadModel(BundledModel("t1d-exercise.xml"));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(*m);
    auto r = ReadExerciseReference(kReference);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ref_ = std::move(*r);
  }
  model::Model model_;
  ExerciseReference ref_;
};

TEST_F(ExerciseTest, AtBasalHeartRateEqualsTheBaseModelOverTheReferenceDay) {
  if (!fs::exists(kPatients / "vpatient_params.csv")) GTEST_SKIP() << "no clinical data";
  auto patients = ReadVirtualPatients(kPatients);
  ASSERT_TRUE(patients.ok()) << patients.status().ToString();
  auto base = LoadModel(BundledModel("t1d-uva-padova.xml"));
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  for (const VirtualPatient& p : *patients) {
    if (p.name != "adult#001" && p.name != "adolescent#003" && p.name != "child#008") continue;
    SCOPED_TRACE(p.name);
    auto a = SimulateDay(*base, p, DayProtocol{});
    auto b = SimulateRestingDay(model_, p);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    ASSERT_EQ(a->rows, b->rows);
    for (size_t i = 0; i < a->rows; ++i) {
      for (size_t k = 1; k <= 3; ++k) {  // BG, CGM, I
        ASSERT_TRUE(Within(b->at(i, k), a->at(i, k), kBasalEqualsBaseAbs, kBasalEqualsBaseRel))
            << a->columns[k] << " at t = " << a->at(i, 0) << ": " << b->at(i, k) << " vs " << a->at(i, k);
      }
    }
  }
}

TEST_F(ExerciseTest, ExerciseBoutMatchesTheScipyReference) {
  auto inputs = HeartRateInputs(ref_);
  ASSERT_EQ(inputs.size(), 2u);  // exercise starts, exercise ends
  auto r = SimulateExercise(model_, inputs, ref_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows, ref_.time_min.size());
  for (size_t i = 0; i < r->rows; ++i) {
    ASSERT_NEAR(r->at(i, 1), ref_.bg_exercise[i], kExerciseBgAbs) << "t = " << ref_.time_min[i];
    ASSERT_NEAR(r->at(i, 2), ref_.y[i], kExerciseYAbs) << "t = " << ref_.time_min[i];
  }
}

TEST_F(ExerciseTest, GlucoseFallsFasterDuringExercise) {
  auto rest = SimulateExercise(model_, {}, ref_);
  auto ex = SimulateExercise(model_, HeartRateInputs(ref_), ref_);
  ASSERT_TRUE(rest.ok() && ex.ok());
  const size_t start = static_cast<size_t>(HeartRateInputs(ref_)[0].time);
  const size_t stop = static_cast<size_t>(HeartRateInputs(ref_)[1].time);
  // At rest the patient stays at basal; during the bout BG falls every minute.
  for (size_t i = 0; i < rest->rows; ++i) ASSERT_NEAR(rest->at(i, 1), ref_.bg_rest[i], kExerciseBgAbs);
  for (size_t i = start + 1; i <= stop; ++i) ASSERT_LT(ex->at(i, 1), ex->at(i - 1, 1)) << "t = " << i;
  const double drop = rest->at(stop, 1) - ex->at(stop, 1);
  const double ref_drop = ref_.bg_rest[stop] - ref_.bg_exercise[stop];
  EXPECT_NEAR(drop, ref_drop, 2 * kExerciseBgAbs);
  EXPECT_GT(drop, 10.0);  // a clear effect, mg/dL
}

TEST_F(ExerciseTest, FirstMinuteDropMatchesTheHandDerivedEstimate) {
  auto ex = SimulateExercise(model_, HeartRateInputs(ref_), ref_);
  ASSERT_TRUE(ex.ok());
  const auto inputs = HeartRateInputs(ref_);
  const size_t start = static_cast<size_t>(inputs[0].time);
  const double vg = *ParameterValue(model_, "Vg");
  const double bg0 = ex->at(start, 1);
  const double estimate =
      FirstOrderExerciseDrop(*ParameterValue(model_, "beta_ex"), bg0 * vg, inputs[0].value - *ParameterValue(model_, "HRb"),
                             *ParameterValue(model_, "T_HR"), vg, 1.0);
  const double drop = bg0 - ex->at(start + 1, 1);
  EXPECT_TRUE(Within(drop, estimate, 0.0, kHandDerivedRel)) << drop << " vs " << estimate;
}

}  // namespace
}  // namespace soma::validation
