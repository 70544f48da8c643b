#pragma once
// Validation protocol of models/cardiovascular-smith2004.xml: run the closed
// loop to its periodic state, measure the last beats from a fine output grid
// (independently of the model's own event-based beat observables), and
// compare with published normal adult ranges and with a stated
// intervention. Shared by the CTest validation and the report tool.

#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "sim/options.h"

namespace soma::validation {

struct CardioScenario {
  double heart_rate = 80.0;      // 1/min (the model's input HR)
  double r_sys_factor = 1.0;     // multiplies the model's systemic resistance R_sys
  double settle = 90.0;          // s run before the measured beats (120 beats at 80/min)
  int points_per_beat = 600;     // output grid density; even
};

// One beat's haemodynamics.
struct BeatMetrics {
  double sbp = 0.0;  // mmHg, systolic (maximum aortic) pressure
  double dbp = 0.0;  // mmHg, diastolic (minimum aortic) pressure
  double map = 0.0;  // mmHg, mean aortic pressure over the beat
  double edv = 0.0;  // ml, end-diastolic (maximum) left ventricular volume
  double esv = 0.0;  // ml, end-systolic (minimum) left ventricular volume
  double sv = 0.0;   // ml, EDV - ESV
  double ef = 0.0;   // SV / EDV
  double co = 0.0;   // L/min, SV * HR
  double mean_driving_pressure = 0.0;  // mmHg, beat mean of P_ao - P_vc
};

struct CardioRun {
  double heart_rate = 0.0;   // 1/min
  double r_sys = 0.0;        // mmHg s/ml used
  BeatMetrics last;          // last complete beat, from the output grid
  BeatMetrics previous;      // the beat before it (periodicity)
  BeatMetrics model;         // the model's event-based observables at the end
  double max_volume_drift = 0.0;  // ml, max |V_total(t) - V_total(0)| (conservation)
  double simulated_seconds = 0.0;
  double wall_seconds = 0.0;      // integration time
  std::string summary;            // the simulator's brief report
};

// Runs `model` (the cardiovascular model) for `scenario`. Errors: those of
// compiling or simulating, or a model without the expected ids.
Result<CardioRun> SimulateCardio(const model::Model& model, const CardioScenario& scenario);

// A published normal adult range of one quantity.
struct NormalRange {
  std::string quantity;  // "SBP"
  std::string unit;      // "mmHg"
  double low = 0.0;
  double high = 0.0;
  std::string source;    // citation of the range
};
const std::vector<NormalRange>& NormalAdultRanges();

// The value of `quantity` ("SBP", "DBP", "MAP", "SV", "EF", "CO", "EDV", "ESV").
double MetricValue(const BeatMetrics& m, const std::string& quantity);

// Tolerances of the protocol.
inline constexpr double kPeriodicPressure = 0.01;  // mmHg, beat-to-beat change
inline constexpr double kPeriodicVolume = 0.01;    // ml
inline constexpr double kEventVsGridPressure = 0.05;  // mmHg, model observables vs the grid
inline constexpr double kEventVsGridVolume = 0.05;    // ml
inline constexpr double kVolumeConservation = 1e-6;   // ml

// The intervention: systemic resistance doubled, no reflexes. Physiology
// (afterload up, same contractility and volume): mean arterial pressure
// rises by much less than 100 % because cardiac output falls, stroke volume
// falls and end-systolic volume rises. Stated bounds on the relative
// changes (new / old - 1):
struct InterventionBounds {
  double map_low = 0.30, map_high = 0.90;   // MAP +30 % .. +90 %
  double sv_low = -0.35, sv_high = -0.05;   // SV -35 % .. -5 %
  double co_low = -0.35, co_high = -0.05;   // CO falls with SV (HR fixed)
};

}  // namespace soma::validation
