#pragma once
// Validation protocol of models/t1d-exercise.xml: the exercise bout of the
// independent SciPy reference (scripts/validation/t1d_exercise_reference.py,
// tests/validation/data/t1d_exercise_reference.csv) and a hand-derived
// estimate of the first minute's extra glucose fall.

#include <filesystem>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "sim/input_schedule.h"
#include "sim/options.h"
#include "t1d_protocol.h"

namespace soma::validation {

// Per minute: heart rate from that minute on, exercise signal Y, blood
// glucose at rest and with the exercise bout (mg/dL).
struct ExerciseReference {
  std::vector<double> time_min, hr, y, bg_rest, bg_exercise;
};
Result<ExerciseReference> ReadExerciseReference(const std::filesystem::path& csv);

// The reference's heart-rate profile as changes of the model input HR
// (one change wherever the reference's HR column changes).
std::vector<sim::InputChange> HeartRateInputs(const ExerciseReference& ref);

// Minute grid over the reference's span, tight tolerances.
sim::SimulationOptions ExerciseOptions(const ExerciseReference& ref);

// Simulates `model` (t1d-exercise.xml as shipped: adult#001, basal insulin,
// no meal) with `inputs`; columns BG, Y.
Result<sim::SimulationResult> SimulateExercise(const model::Model& model, const std::vector<sim::InputChange>& inputs,
                                               const ExerciseReference& ref);

// Hand-derived extra fall of BG (mg/dL) over the first `tau` minutes of a
// step of the heart rate by `delta_hr` above basal from a steady state with
// plasma glucose Gp (mg/kg): to first order only U_ex = beta Y Gp acts, with
// Y(t) = delta_hr (1 - exp(-t / T_HR)), so
//   dBG = beta Gp delta_hr (tau - T_HR (1 - exp(-tau / T_HR))) / Vg.
double FirstOrderExerciseDrop(double beta, double gp, double delta_hr, double t_hr, double vg, double tau);

// The T1D validation's reference day (t1d_protocol.h) for `patient` on the
// exercise model at its resting heart rate: the exercise parameters (HRb,
// T_HR, beta_ex, alpha_ex), which the virtual patients' table does not hold,
// keep the model's values; everything else is personalised as for the base
// model. Columns as SimulateDay.
Result<sim::SimulationResult> SimulateRestingDay(const model::Model& exercise_model, const VirtualPatient& patient);

inline constexpr double kExerciseBgAbs = 0.01;    // mg/dL, SBML vs SciPy at every minute
inline constexpr double kExerciseYAbs = 1e-4;     // 1/min
// Exercise model at HR = HRb vs the base model: |x - x_base| <= abs + rel |x_base|
// for BG, CGM (mg/dL) and plasma insulin I (pmol/L).
inline constexpr double kBasalEqualsBaseAbs = 1e-4;
inline constexpr double kBasalEqualsBaseRel = 1e-6;
inline constexpr double kHandDerivedRel = 0.05;   // first-minute drop vs the first-order estimate

}  // namespace soma::validation
