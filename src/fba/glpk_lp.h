#pragma once
// Internal: solving a FluxProblem with GLPK's primal simplex. The GLPK
// problem object is owned by an RAII wrapper; every GLPK return code is
// checked; GLPK prints nothing.

#include <string>
#include <vector>

#include "core/status.h"
#include "fba/flux_balance.h"
#include "fba/flux_problem.h"

namespace soma::fba::internal {

struct LpSolution {
  FbaStatus status = FbaStatus::kLimitReached;
  std::string message;           // why, when not optimal
  double objective_value = 0.0;  // valid when kOptimal
  std::vector<double> fluxes;    // per column; valid when kOptimal
  int iterations = 0;
};

// Errors: kSolverFailure naming GLPK's return code when the simplex fails
// (singular or ill-conditioned basis, numerical instability).
Result<LpSolution> SolveWithGlpk(const FluxProblem& p, const FbaOptions& options);

}  // namespace soma::fba::internal
