#pragma once
// Internal to soma::infer: one bounded Levenberg-Marquardt minimisation of
// an Objective on the estimation scale (Ceres), shared by Estimate's starts
// and the profile likelihood's points, which hold one coordinate fixed.

#include <atomic>
#include <chrono>
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
  bool time_limited = false;  // stopped at MinimiseLimits::deadline
  std::string termination;    // Ceres' message
};

// What one minimisation may spend, and whom it tells of its iterations.
struct MinimiseLimits {
  using Clock = std::chrono::steady_clock;
  Clock::time_point deadline = Clock::time_point::max();  // stop after the iteration that passes it
  int start = 0;                                           // IterationInfo::start
  // Called after each iteration; may be empty.
  std::function<void(const IterationInfo&)> iteration_progress;
};

// Minimises from `theta` within the parameters' bounds; coordinate `fixed`
// (when >= 0) keeps its value. `threads` run an evaluation's experiments.
Minimum Minimise(const Objective& objective, const EstimationOptions& options, int threads,
                 std::vector<double> theta, int fixed, Counters& counters, const MinimiseLimits& limits = {});

// A thread count with 0 resolved to the number of cores.
int ResolveThreads(int threads);
inline int ThreadsOf(const EstimationOptions& options) { return ResolveThreads(options.threads); }

// Runs `worker` on `threads` threads (in this one when threads <= 1) and
// waits for all of them.
void RunWorkers(int threads, const std::function<void()>& worker);

}  // namespace soma::infer::internal
