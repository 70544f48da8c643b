#pragma once
// Validation protocol of models/whole-patient.xml (SBML comp): the composed
// twin against its parts simulated separately with the couplings switched
// off, and the direction of each coupling's effect when switched on.

#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "sim/options.h"

namespace soma::validation {

struct CompositionScenario {
  double end = 240.0;           // s
  int steps = 240;              // output every second
  double exercise_start = 20.0;  // s: HR steps from the resting rate to exercise_hr
  double exercise_hr = 120.0;   // 1/min
  double meal_rate = 5000.0;    // mg/min of carbohydrate eaten from t = 0 ..
  double meal_end = 120.0;      // .. this time (s): a 10 g snack
  bool coupled = false;         // coupling_hr and coupling_drug = 1 (else 0)
};

// The twin's trajectories on the scenario's grid (s).
struct TwinRun {
  std::vector<double> time_s, p_ao, bg, c_drug, r_sys, hr_glucose, y;
  double map_end = 0.0;  // the heart's beat MAP at the end, mmHg
  double wall_seconds = 0.0;
};
Result<TwinRun> SimulateTwin(const model::Model& whole_patient, const CompositionScenario& scenario);

// The stand-alone models on the same instants (each in its own time unit):
// heart with the scenario's HR profile, metabolism at its resting HR with the
// snack, drug with its default dose. Fields as TwinRun (hr_glucose = the metabolism's HR).
Result<TwinRun> SimulateParts(const model::Model& heart, const model::Model& metabolism, const model::Model& drug,
                              const CompositionScenario& scenario);

// Largest differences between two runs, per quantity.
struct RunDifference {
  double p_ao = 0.0;    // mmHg
  double bg = 0.0;      // mg/dL
  double c_drug = 0.0;  // mg/L
  double y = 0.0;       // 1/min
};
RunDifference MaxDifference(const TwinRun& a, const TwinRun& b);

// Tolerances: composed (uncoupled) vs parts.
inline constexpr double kPartsPressureAbs = 1e-3;  // mmHg
inline constexpr double kPartsGlucoseAbs = 1e-6;   // mg/dL
inline constexpr double kPartsDrugAbs = 1e-6;      // mg/L

}  // namespace soma::validation
