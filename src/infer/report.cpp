// Brief and full reports of an EstimationSummary.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "infer/estimate.h"

namespace soma::infer {
namespace {

std::string Format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

std::string EstimationSummary::BriefReport() const {
  int failed = 0, not_run = 0;
  for (const StartResult& s : starts) {
    if (s.not_run) ++not_run;
    else failed += !s.error.ok() || !std::isfinite(s.objective);
  }
  std::string out = best_start < 0 ? "failed" : (converged ? "converged" : "not converged");
  if (time_limited) out += converged ? " (time limit: other starts cut short)" : " (time limit)";
  out += ", nllh " + Format("%.10g", nllh);
  if (neg_log_prior != 0.0) out += ", objective " + Format("%.10g", objective);
  out += ", " + std::to_string(estimates.size()) + " parameters, " + std::to_string(num_measurements) +
         " measurements, " + std::to_string(failed) + "/" + std::to_string(starts.size()) + " starts failed, " +
         (not_run > 0 ? std::to_string(not_run) + " not run (time limit), " : "") + Format("%.3g", seconds) + " s";
  return out;
}

std::string EstimationSummary::CorrelationReport() const {
  const Eigen::Index n = correlation.rows();
  if (n == 0 || n != static_cast<Eigen::Index>(estimates.size())) return "";
  std::string out;
  if (n <= kCorrelationMatrixUpTo) {
    out += "Correlation (estimation scale):\n";
    for (Eigen::Index a = 0; a < n; ++a) {
      for (Eigen::Index b = 0; b < n; ++b) out += Format(" %6.3f", correlation(a, b));
      out += "  " + estimates[a].id + "\n";
    }
    return out;
  }
  // A matrix of more than a dozen columns is unreadable in a terminal: the
  // strongly correlated pairs instead, strongest first.
  std::vector<std::pair<Eigen::Index, Eigen::Index>> pairs;
  for (Eigen::Index a = 0; a < n; ++a) {
    for (Eigen::Index b = a + 1; b < n; ++b) {
      if (std::abs(correlation(a, b)) >= kStrongCorrelation) pairs.emplace_back(a, b);
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(), [&](const auto& x, const auto& y) {
    return std::abs(correlation(x.first, x.second)) > std::abs(correlation(y.first, y.second));
  });
  out += "Correlation (estimation scale): " + std::to_string(pairs.size()) + " of the " +
         std::to_string(n * (n - 1) / 2) + " pairs of the " + std::to_string(n) + " parameters have |r| >= " +
         Format("%.2g", kStrongCorrelation) + (pairs.empty() ? "\n" : ":\n");
  const size_t shown = std::min<size_t>(pairs.size(), kStrongPairsShown);
  for (size_t i = 0; i < shown; ++i) {
    const auto [a, b] = pairs[i];
    out += Format("  %+6.3f  ", correlation(a, b)) + estimates[static_cast<size_t>(a)].id + " ~ " +
           estimates[static_cast<size_t>(b)].id + "\n";
  }
  if (shown < pairs.size()) out += "  ... and " + std::to_string(pairs.size() - shown) + " more\n";
  return out;
}

std::string EstimationSummary::FullReport() const {
  std::string out = "Estimation: " + BriefReport() + "\n";
  out += "Termination (best start " + std::to_string(best_start) + "): " + termination + "\n";
  out += "Simulations: " + std::to_string(simulations) + " (" + std::to_string(gradient_simulations) +
         " with sensitivities, " + std::to_string(failed_simulations) + " failed); " +
         std::to_string(curvature_simulations) + " more with sensitivities for the intervals\n";
  if (!estimates.empty()) {
    char line[256];
    std::snprintf(line, sizeof line, "%-28s %6s %14s %14s %14s %10s  %s\n", "parameter", "scale", "estimate",
                  "95% lower", "95% upper", "sd(scale)", "flags");
    out += line;
    for (const ParameterEstimate& e : estimates) {
      std::string flags;
      if (!e.identifiable) flags += "non-identifiable ";
      if (e.at_bound) flags += "at-bound";
      std::snprintf(line, sizeof line, "%-28s %6s %14.6g %14.6g %14.6g %10.3g  %s\n", e.id.c_str(),
                    std::string(ScaleName(e.scale)).c_str(), e.value, e.lower_ci, e.upper_ci, e.std_error,
                    flags.c_str());
      out += line;
    }
    if (fisher.rows() != static_cast<Eigen::Index>(estimates.size())) {
      // No curvature (a time-limited fit): nothing to say about
      // correlations or identifiability either.
      out += "Intervals: " + curvature + "\n";
    } else {
      out += "Intervals from the " + curvature + "\n";
      out += CorrelationReport();
      if (weak_directions.empty()) {
        out += "Identifiability: all parameters locally identifiable (Fisher information eigenvalues within " +
               Format("%.3g", fisher_eigenvalues.size() ? fisher_eigenvalues[0] / fisher_eigenvalues.maxCoeff() : 0) +
               " of the largest)\n";
      }
      for (const WeakDirection& w : weak_directions) {
        out += "Weak direction (eigenvalue " + Format("%.3g", w.eigenvalue) + ", relative " +
               Format("%.3g", w.relative) + "):";
        for (size_t i = 0; i < w.parameters.size(); ++i) out += " " + w.parameters[i] + Format(" (%+.2f)", w.components[i]);
        out += "\n";
      }
    }
  }
  out += "Starts:\n";
  for (const StartResult& s : starts) {
    if (s.not_run) {
      out += "  " + std::to_string(s.index) + ": not run (the time limit was spent)\n";
      continue;
    }
    out += "  " + std::to_string(s.index) + ": " +
           (s.error.ok() ? "objective " + Format("%.10g", s.objective) : "failed: " + s.error.ToString()) + ", " +
           std::to_string(s.iterations) + " iterations, " + Format("%.3g", s.seconds) + " s" +
           (s.converged ? "" : (s.time_limited ? " (stopped by the time limit)" : " (not converged)")) + "\n";
  }
  return out;
}

}  // namespace soma::infer
