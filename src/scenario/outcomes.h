#pragma once
// Outcome metrics over a simulated trajectory: the numbers a therapy
// comparison or a trial reports (value at a time, min, max, time-averaged
// mean, AUC, time above / below / within a range such as glucose
// time-in-range, Cmax, Tmax, the first time a threshold is crossed).
//
// A trajectory is sampled at increasing times; between samples it is taken
// as linear, so AUC is the trapezoid rule and threshold crossings and times
// in range are exact for the piecewise-linear interpolant. Every metric is
// evaluated over a window [from, to] (default: the whole trajectory);
// samples are interpolated at the window's ends.
//
// Jumps (a bolus) are seen only through the samples: the row at the bolus
// time holds the value after it, so the interval before is taken as a ramp,
// and AUC gains h x jump / 2 for output spacing h. Choose `steps` so that h is
// small against the time scales of interest.

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace soma::scenario {

enum class Metric {
  kValueAt,        // value at `at`
  kMin,
  kMax,
  kMean,           // time average: AUC / (to - from)
  kAuc,            // integral over the window (value unit x time unit)
  kTimeAbove,      // time with value > threshold
  kTimeBelow,      // time with value < threshold
  kTimeInRange,    // time with low <= value <= high
  kFractionAbove,  // the three above divided by the window length
  kFractionBelow,
  kFractionInRange,
  kCmax,           // = kMax, named as pharmacologists do
  kTmax,           // first time the maximum is reached
  kFirstCrossingUp,    // first time the value rises through threshold (NaN if never)
  kFirstCrossingDown,  // first time it falls through threshold (NaN if never)
};

struct OutcomeSpec {
  std::string name;      // e.g. "tir"
  std::string variable;  // model symbol the metric reads, e.g. "BG"
  Metric metric = Metric::kMean;
  double at = 0;         // kValueAt
  double threshold = 0;  // above / below / crossings
  double low = 0, high = 0;  // in range
  std::optional<double> from, to;  // window
};

// {"name": "tir", "variable": "BG", "metric": "fraction_in_range", "low": 70,
//  "high": 180, "from": 0, "to": 1440}. Metric names are the enum's in
// snake case ("value_at", "min", ..., "first_crossing_down"). Errors name
// the field.
Result<OutcomeSpec> OutcomeSpecFromJson(const nlohmann::json& j, const std::string& where);
Result<Metric> ParseMetric(const std::string& name);
std::string MetricName(Metric metric);

// Evaluates one metric. Errors: fewer than 2 samples, decreasing times,
// NaN values, a window outside the trajectory or empty.
Result<double> EvaluateOutcome(const OutcomeSpec& spec, const std::vector<double>& times,
                               const std::vector<double>& values);

}  // namespace soma::scenario
