#pragma once
// Internal to soma::infer: the Laplace approximation at an estimate
// (covariance, intervals, correlations) and the identifiability analysis
// from the eigen-decomposition of the Fisher information. See estimate.h.

#include <vector>

#include "infer/estimate.h"

namespace soma::infer::internal {

// Fills summary.estimates, covariance, correlation, fisher_eigenvalues and
// weak_directions from summary.fisher (n x n, estimation scale; empty when
// there are no parameters) at the estimate x (linear scale).
void FillUncertainty(const EstimationProblem& problem, const std::vector<double>& x,
                     const EstimationOptions& options, EstimationSummary& summary);

}  // namespace soma::infer::internal
