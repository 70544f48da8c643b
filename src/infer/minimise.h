#pragma once
// Internal to soma::infer: one bounded Levenberg-Marquardt minimisation of
// an Objective on the estimation scale (Ceres), shared by Estimate's starts
// and the profile likelihood's points, which hold one coordinate fixed.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "infer/estimate.h"
#include "infer/objective.h"

namespace soma::infer::internal {

// Simulations run, those with sensitivities, and those that failed; shared
// by concurrent minimisations.
struct Counters {
  std::atomic<long> simulations{0}, gradients{0}, failures{0};
};

struct Minimum {
  std::vector<double> theta;  // estimation scale; the start when not usable
  int iterations = 0;
  int failed_steps = 0;       // trial points whose simulation failed
  bool converged = false;     // Ceres reported convergence
  bool usable = false;        // Ceres' solution is usable
  std::string termination;    // Ceres' message
};

// Minimises from `theta` within the parameters' bounds; coordinate `fixed`
// (when >= 0) keeps its value. `threads` run an evaluation's experiments.
Minimum Minimise(const Objective& objective, const EstimationOptions& options, int threads,
                 std::vector<double> theta, int fixed, Counters& counters);

// A thread count with 0 resolved to the number of cores.
int ResolveThreads(int threads);
inline int ThreadsOf(const EstimationOptions& options) { return ResolveThreads(options.threads); }

// Runs `worker` on `threads` threads (in this one when threads <= 1) and
// waits for all of them.
void RunWorkers(int threads, const std::function<void()>& worker);

}  // namespace soma::infer::internal
