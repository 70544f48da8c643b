#include "scenario/outcomes.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace soma::scenario {
namespace {

constexpr std::array<std::pair<const char*, Metric>, 15> kMetrics = {{
    {"value_at", Metric::kValueAt},
    {"min", Metric::kMin},
    {"max", Metric::kMax},
    {"mean", Metric::kMean},
    {"auc", Metric::kAuc},
    {"time_above", Metric::kTimeAbove},
    {"time_below", Metric::kTimeBelow},
    {"time_in_range", Metric::kTimeInRange},
    {"fraction_above", Metric::kFractionAbove},
    {"fraction_below", Metric::kFractionBelow},
    {"fraction_in_range", Metric::kFractionInRange},
    {"cmax", Metric::kCmax},
    {"tmax", Metric::kTmax},
    {"first_crossing_up", Metric::kFirstCrossingUp},
    {"first_crossing_down", Metric::kFirstCrossingDown},
}};

double Lerp(double t0, double v0, double t1, double v1, double t) {
  if (t1 == t0) return v1;
  return v0 + (v1 - v0) * (t - t0) / (t1 - t0);
}

// Time within [t0, t1] during which the linear segment lies in [lo, hi].
double TimeInInterval(double t0, double v0, double t1, double v1, double lo, double hi) {
  double dt = t1 - t0;
  if (dt <= 0) return 0;
  if (v0 == v1) return (v0 >= lo && v0 <= hi) ? dt : 0;
  // Parameter s in [0, 1] where lo <= v0 + s (v1 - v0) <= hi.
  double a = (lo - v0) / (v1 - v0), b = (hi - v0) / (v1 - v0);
  if (a > b) std::swap(a, b);
  double s0 = std::max(0.0, a), s1 = std::min(1.0, b);
  return s1 > s0 ? (s1 - s0) * dt : 0;
}

}  // namespace

Result<Metric> ParseMetric(const std::string& name) {
  for (const auto& [n, m] : kMetrics) {
    if (name == n) return m;
  }
  std::string known;
  for (const auto& [n, m] : kMetrics) known += (known.empty() ? "" : ", ") + std::string(n);
  return InvalidArgument("metric '" + name + "': must be one of " + known);
}

std::string MetricName(Metric metric) {
  for (const auto& [n, m] : kMetrics) {
    if (m == metric) return n;
  }
  return "?";
}

Result<OutcomeSpec> OutcomeSpecFromJson(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + ": must be an object");
  static const std::vector<std::string> kKeys = {"name", "variable", "metric", "at", "threshold",
                                                 "low", "high", "from", "to"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find(kKeys.begin(), kKeys.end(), it.key()) == kKeys.end()) {
      return InvalidArgument(where + "." + it.key() + ": unknown field");
    }
  }
  OutcomeSpec s;
  auto str = [&](const char* k, std::string* out, bool required) -> Status {
    auto it = j.find(k);
    if (it == j.end()) return required ? InvalidArgument(where + "." + k + ": required") : Status::Ok();
    if (!it->is_string() || it->get<std::string>().empty()) {
      return InvalidArgument(where + "." + k + ": must be a non-empty string");
    }
    *out = it->get<std::string>();
    return Status::Ok();
  };
  auto num = [&](const char* k, double* out, bool required) -> Status {
    auto it = j.find(k);
    if (it == j.end()) return required ? InvalidArgument(where + "." + k + ": required") : Status::Ok();
    if (!it->is_number()) return InvalidArgument(where + "." + k + ": must be a number");
    *out = it->get<double>();
    return Status::Ok();
  };
  std::string metric;
  SOMA_RETURN_IF_ERROR(str("name", &s.name, true));
  SOMA_RETURN_IF_ERROR(str("variable", &s.variable, true));
  SOMA_RETURN_IF_ERROR(str("metric", &metric, true));
  auto m = ParseMetric(metric);
  if (!m.ok()) return m.status().WithContext(where + ".metric");
  s.metric = *m;
  bool needs_threshold = s.metric == Metric::kTimeAbove || s.metric == Metric::kTimeBelow ||
                         s.metric == Metric::kFractionAbove || s.metric == Metric::kFractionBelow ||
                         s.metric == Metric::kFirstCrossingUp || s.metric == Metric::kFirstCrossingDown;
  bool needs_range = s.metric == Metric::kTimeInRange || s.metric == Metric::kFractionInRange;
  SOMA_RETURN_IF_ERROR(num("at", &s.at, s.metric == Metric::kValueAt));
  SOMA_RETURN_IF_ERROR(num("threshold", &s.threshold, needs_threshold));
  SOMA_RETURN_IF_ERROR(num("low", &s.low, needs_range));
  SOMA_RETURN_IF_ERROR(num("high", &s.high, needs_range));
  if (needs_range && !(s.low <= s.high)) return InvalidArgument(where + ": low must be <= high");
  double v;
  if (j.contains("from")) {
    SOMA_RETURN_IF_ERROR(num("from", &v, true));
    s.from = v;
  }
  if (j.contains("to")) {
    SOMA_RETURN_IF_ERROR(num("to", &v, true));
    s.to = v;
  }
  if (s.from && s.to && !(*s.from < *s.to)) return InvalidArgument(where + ": from must be < to");
  return s;
}

Result<double> EvaluateOutcome(const OutcomeSpec& spec, const std::vector<double>& times,
                               const std::vector<double>& values) {
  const std::string what = "outcome '" + spec.name + "'";
  if (times.size() != values.size() || times.size() < 2) {
    return InvalidArgument(what + ": needs a trajectory of at least 2 samples");
  }
  for (size_t i = 0; i < times.size(); ++i) {
    if (std::isnan(values[i])) return InvalidArgument(what + ": value at t = " + std::to_string(times[i]) + " is NaN");
    if (i > 0 && times[i] < times[i - 1]) return InvalidArgument(what + ": times must not decrease");
  }
  double from = spec.from.value_or(times.front()), to = spec.to.value_or(times.back());
  if (spec.metric == Metric::kValueAt) from = to = spec.at;
  if (from < times.front() - 1e-9 * std::abs(times.front()) || to > times.back() + 1e-9 * std::abs(times.back())) {
    return InvalidArgument(what + ": window [" + std::to_string(from) + ", " + std::to_string(to) +
                           "] lies outside the simulated times [" + std::to_string(times.front()) + ", " +
                           std::to_string(times.back()) + "]");
  }
  from = std::max(from, times.front());
  to = std::min(to, times.back());
  // The window's samples, with interpolated end points.
  std::vector<double> t, v;
  auto at = [&](double x) {
    size_t k = std::upper_bound(times.begin(), times.end(), x) - times.begin();
    if (k == 0) return values.front();
    if (k >= times.size()) return values.back();
    return Lerp(times[k - 1], values[k - 1], times[k], values[k], x);
  };
  t.push_back(from);
  v.push_back(at(from));
  for (size_t i = 0; i < times.size(); ++i) {
    if (times[i] > from && times[i] < to) {
      t.push_back(times[i]);
      v.push_back(values[i]);
    }
  }
  if (to > from) {
    t.push_back(to);
    v.push_back(at(to));
  }
  if (spec.metric == Metric::kValueAt) return v.front();
  double span = to - from;
  if (!(span > 0)) return InvalidArgument(what + ": the window is empty");
  auto auc = [&] {
    double s = 0;
    for (size_t i = 1; i < t.size(); ++i) s += 0.5 * (v[i] + v[i - 1]) * (t[i] - t[i - 1]);
    return s;
  };
  auto time_in = [&](double lo, double hi) {
    double s = 0;
    for (size_t i = 1; i < t.size(); ++i) s += TimeInInterval(t[i - 1], v[i - 1], t[i], v[i], lo, hi);
    return s;
  };
  constexpr double kInf = std::numeric_limits<double>::infinity();
  switch (spec.metric) {
    case Metric::kValueAt: return v.front();
    case Metric::kMin: return *std::min_element(v.begin(), v.end());
    case Metric::kMax:
    case Metric::kCmax: return *std::max_element(v.begin(), v.end());
    case Metric::kTmax: return t[std::max_element(v.begin(), v.end()) - v.begin()];
    case Metric::kMean: return auc() / span;
    case Metric::kAuc: return auc();
    // Strict and non-strict bounds differ only on sets of zero length
    // unless the trajectory is flat exactly at the threshold.
    case Metric::kTimeAbove: return span - time_in(-kInf, spec.threshold);
    case Metric::kTimeBelow: return span - time_in(spec.threshold, kInf);
    case Metric::kTimeInRange: return time_in(spec.low, spec.high);
    case Metric::kFractionAbove: return (span - time_in(-kInf, spec.threshold)) / span;
    case Metric::kFractionBelow: return (span - time_in(spec.threshold, kInf)) / span;
    case Metric::kFractionInRange: return time_in(spec.low, spec.high) / span;
    case Metric::kFirstCrossingUp:
    case Metric::kFirstCrossingDown: {
      bool up = spec.metric == Metric::kFirstCrossingUp;
      for (size_t i = 1; i < t.size(); ++i) {
        double a = v[i - 1] - spec.threshold, b = v[i] - spec.threshold;
        bool crosses = up ? (a < 0 && b >= 0) : (a > 0 && b <= 0);
        if (crosses) return t[i - 1] + (t[i] - t[i - 1]) * (-a) / (b - a);
      }
      return std::numeric_limits<double>::quiet_NaN();
    }
  }
  return Internal(what + ": unknown metric");
}

}  // namespace soma::scenario
