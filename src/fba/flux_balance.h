#pragma once
// Flux balance analysis (FBA): the steady-state linear program of a
// constraint-based model (model::FluxBalance, from SBML fbc), solved with
// GLPK's primal simplex.
//
// The problem, for fluxes v (one per reaction, in model order):
//   optimise   sum over the objective's terms of coefficient * v[reaction]
//              (maximise or minimise, as the objective says)
//   subject to S v = 0 for every species that is not a boundary species
//              (boundaryCondition = false) and takes part in a reaction;
//              S[species][reaction] = sum of product stoichiometries minus
//              sum of reactant stoichiometries (modifiers do not count),
//              lower[r] <= v[r] <= upper[r], with -inf / +inf where the
//              model sets no bound.
// Values that may change over time are taken at the start (t = 0): bound
// parameters and species-reference stoichiometries after initial
// assignments and assignment rules (fbc non-strict models use these).
// Kinetic laws, rules of other symbols, events and conversion factors play no
// part. A reaction's `reversible` attribute is not a bound: fbc states
// irreversibility through the bounds.
//
// Degeneracy: an LP optimum is often attained by many flux vectors. The
// objective value is unique; the fluxes reported are one optimal vertex
// (GLPK's), which is deterministic for a given model and options but not
// canonical.
//
// Thread safety: SolveFluxBalance may be called from several threads at
// once; each call owns its GLPK problem, and GLPK keeps its environment per
// thread.

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace soma::fba {

struct FbaOptions {
  // Id of the objective to optimise; empty: the model's active objective.
  std::string objective;
  // GLPK primal feasibility tolerance (glp_smcp::tol_bnd): how far a bound
  // or S v = 0 may be violated, relative to the scaled problem. In (0, 1e-3].
  double feasibility_tolerance = 1e-9;
  // GLPK dual feasibility tolerance (glp_smcp::tol_dj), in (0, 1e-3].
  double optimality_tolerance = 1e-9;
  // Simplex iteration limit; 0 = none. >= 0.
  int iteration_limit = 0;
  // Wall-clock limit in seconds; 0 = none. >= 0.
  double time_limit_seconds = 0.0;

  // Errors (kInvalidArgument) name the field: "FbaOptions::iteration_limit =
  // -1; must be >= 0".
  Status Validate() const;
};

// How the linear program ended. Infeasible and unbounded problems are
// outcomes, not errors.
enum class FbaStatus {
  kOptimal,     // fluxes and objective value are an optimum
  kInfeasible,  // no flux vector satisfies S v = 0 and the bounds
  kUnbounded,   // the objective can grow without limit
  kLimitReached // iteration or time limit hit before a conclusion
};
const char* FbaStatusName(FbaStatus s);  // "optimal", "infeasible", ...

struct FbaSummary {
  FbaStatus status = FbaStatus::kLimitReached;
  std::string message;          // why, when not optimal (names a reaction where known)
  int reactions = 0;            // LP columns
  int balanced_species = 0;     // LP rows
  int iterations = 0;           // simplex iterations
  double seconds = 0.0;         // building and solving

  // One line: "optimal, 26 reactions, 21 species, 14 iterations, 0.1 ms".
  std::string BriefReport() const;
};

struct FbaResult {
  std::string objective_id;
  model::ObjectiveSense sense = model::ObjectiveSense::kMaximize;
  // The optimum when status is kOptimal; +inf (maximise) or -inf (minimise)
  // when kUnbounded; NaN otherwise.
  double objective_value = 0.0;
  std::vector<std::string> reactions;  // every reaction, model order
  std::vector<double> fluxes;          // per reaction; NaN unless kOptimal
  FbaSummary summary;

  FbaStatus status() const { return summary.status; }
  // Flux of `reaction`; NaN when not optimal or not a reaction.
  double Flux(std::string_view reaction) const;
};

// Solves the FBA problem of `m`.
// Errors: kInvalidArgument from options.Validate(); kInvalidModel when `m`
// has no flux balance data or no objective (none active and none named in
// options: "no active objective"), when options.objective names no
// objective, a bound or objective names an unknown reaction, a bound
// parameter or stoichiometry has no value or is NaN at the start;
// errors of evaluating initial values (sim::CompiledModel::Compile) when
// initial assignments or rules define bounds or stoichiometries;
// kSolverFailure when GLPK fails (its return code named).
Result<FbaResult> SolveFluxBalance(const model::Model& m, const FbaOptions& options = {});

}  // namespace soma::fba
