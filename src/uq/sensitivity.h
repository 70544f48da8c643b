#pragma once
// Global sensitivity analysis of a scalar outcome y = f(x) over a joint
// parameter distribution: variance-based Sobol indices (Saltelli's sampling
// scheme with the Saltelli 2010 first-order and Jansen total-order
// estimators, bootstrap confidence intervals) and Morris elementary-effects
// screening. The model is evaluated by the caller (in an ensemble, on all
// cores): these functions make the design and turn the outputs into indices.
//
// References: A. Saltelli et al., "Variance based sensitivity analysis of
// model output. Design and estimator for the total sensitivity index",
// Comput. Phys. Commun. 181 (2010) 259-270; M. D. Morris, "Factorial sampling
// plans for preliminary computational experiments", Technometrics 33 (1991)
// 161-174; F. Campolongo et al. (2007) for mu*.

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "uq/distributions.h"

namespace soma::uq {

// Saltelli's design: matrices A and B (n rows each) and, for every parameter
// i, AB_i = A with column i taken from B. points() holds, in order, the n
// rows of A, the n rows of B, then n rows of each AB_i: n (d + 2) points,
// already mapped through the distribution.
struct SobolDesign {
  int n = 0;
  int d = 0;
  std::vector<std::vector<double>> points;
};

// Sobol indices need independent parameters; a JointDistribution with
// correlations is refused (kInvalidArgument). n >= 2.
Result<SobolDesign> MakeSobolDesign(const JointDistribution& dist, int n, SamplingMethod method,
                                    std::uint64_t seed);

struct SobolOptions {
  int bootstrap = 200;        // resamples for the intervals (0: none)
  double confidence = 0.95;   // two-sided level of the percentile intervals
  std::uint64_t seed = 1;     // of the bootstrap resampling
};

struct SobolIndices {
  double mean = 0;       // of y over A and B
  double variance = 0;   // of y over A and B
  std::vector<double> first, total;             // S_i, ST_i
  std::vector<double> first_low, first_high;    // bootstrap percentile intervals
  std::vector<double> total_low, total_high;
};

// `y` holds the outcome at each design point, in design order. A non-finite
// y or zero variance is an error naming the point.
Result<SobolIndices> EstimateSobol(const SobolDesign& design, const std::vector<double>& y,
                                   const SobolOptions& options = {});

// Morris trajectories on a p-level grid of the unit cube (step
// Delta = p / (2 (p - 1))), each a base point and d one-at-a-time moves. Unit
// coordinates are mapped to parameters through the distribution's quantiles
// after shrinking [0, 1] to [1/(2p), 1 - 1/(2p)] (level midpoints), so
// unbounded marginals stay finite.
struct MorrisDesign {
  int trajectories = 0;
  int d = 0;
  int levels = 0;
  // trajectories x (d + 1) points, trajectory by trajectory.
  std::vector<std::vector<double>> points;
  // For each trajectory and step k (1..d): the parameter moved and the signed
  // step in unit coordinates (+-Delta, before the midpoint shrink).
  std::vector<int> moved;
  std::vector<double> step;
};

Result<MorrisDesign> MakeMorrisDesign(const JointDistribution& dist, int trajectories,
                                      int levels, std::uint64_t seed);

struct MorrisResult {
  // Elementary effects are (y' - y) / step in unit coordinates.
  std::vector<double> mu, mu_star, sigma;
};

Result<MorrisResult> EstimateMorris(const MorrisDesign& design, const std::vector<double>& y);

}  // namespace soma::uq
