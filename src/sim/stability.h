#pragma once
// Linear stability of a steady state from the eigenvalues of the Jacobian
// d f / d y there.
//
// Eigenvalues with |lambda| <= 1e-10 * ||J||_inf count as zero: they come
// from conservation laws (conserved moieties make J singular) or from a
// continuum of steady states, and say nothing about stability within the
// invariant set. The verdict is taken over the others:
//   stable    every other eigenvalue has a negative real part;
//   unstable  some eigenvalue has a positive real part;
//   marginal  the largest real part is zero (to the same tolerance), or every
//             eigenvalue is zero: linearisation cannot tell.
//
// Thread safety: pure functions.

#include <limits>
#include <string>

#include <Eigen/Dense>

namespace soma::sim {

enum class Stability { kNotComputed, kStable, kUnstable, kMarginal };

struct StabilityInfo {
  Stability verdict = Stability::kNotComputed;
  // Largest real part over the eigenvalues not counted as zero (NaN when none
  // or not computed), in 1 / model time.
  double max_real_part = std::numeric_limits<double>::quiet_NaN();
  int zero_eigenvalues = 0;
  std::string reason;  // why not computed, if so

  // "stable (max real part of eigenvalues -0.3; 1 zero eigenvalue, e.g. a
  // conservation law)".
  std::string Describe() const;
};

// Classifies the square Jacobian `jacobian` (entries must be finite).
StabilityInfo ClassifyStability(const Eigen::MatrixXd& jacobian);

}  // namespace soma::sim
