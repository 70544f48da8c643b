#pragma once
// Global sensitivity of a trial's outcome metrics to its population inputs
// (the drawn parameters and covariates): Sobol indices (Saltelli design,
// first-order and total indices with bootstrap confidence intervals) or
// Morris elementary-effects screening (uq/sensitivity.h). The design points
// are virtual patients: each is run through every scenario of the trial
// exactly as a population member (scaling formulas applied, one compiled
// model per scenario shared by all points), on all cores.
//
// Given in the trial file as
//   "sensitivity": {"method": "sobol", "samples": 256, "bootstrap": 200,
//                   "confidence": 0.95, "seed": 7, "sampling": "monte_carlo"}
//   "sensitivity": {"method": "morris", "trajectories": 20, "levels": 4, "seed": 7}
// The inputs are the population's distributions, which must be independent
// (a correlation is refused: the indices assume independent inputs); a
// population from a table is refused (there is no distribution to sample).
//
// Thread safety: plain functions; runs use TrialOptions::threads.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "model/model.h"
#include "uq/distributions.h"

namespace soma::scenario {

struct Trial;
struct TrialOptions;

struct SensitivitySpec {
  enum class Method { kSobol, kMorris };
  Method method = Method::kSobol;
  int samples = 256;          // Sobol: base sample size n (n (d + 2) runs), >= 2
  int bootstrap = 200;        // Sobol: resamples for the intervals (0: none)
  double confidence = 0.95;   // Sobol: two-sided level, in (0, 1)
  uq::SamplingMethod sampling = uq::SamplingMethod::kMonteCarlo;  // Sobol base matrices
  int trajectories = 20;      // Morris: r trajectories (r (d + 1) runs), >= 2
  int levels = 4;             // Morris: p grid levels, even, >= 2
  std::uint64_t seed = 1;
};

// Parses the "sensitivity" object; errors name the field.
Result<SensitivitySpec> ParseSensitivitySpec(const nlohmann::json& j);

// Runs the design and returns
//   {"method", "inputs": [names], "runs", "failed_runs", "outcomes": [
//      {"scenario", "outcome", "mean", "variance", "first", "first_low",
//       "first_high", "total", "total_low", "total_high"}       (Sobol)
//      {"scenario", "outcome", "mu", "mu_star", "sigma"}         (Morris)
//    ]}
// with one entry per input in each array. An outcome whose value is not
// finite at some design point (or has no variance) gets "error" instead of
// indices. Errors: a table population or correlated inputs
// (kInvalidArgument), and those of RunTrialMembers.
Result<nlohmann::json> RunTrialSensitivity(const Trial& trial, const model::Model& model,
                                           const TrialOptions& options);

}  // namespace soma::scenario
