#include "fba/flux_balance.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "fba/flux_problem.h"
#include "fba/glpk_lp.h"

namespace soma::fba {

Status FbaOptions::Validate() const {
  auto tolerance_ok = [](double t) { return t > 0 && t <= 1e-3; };
  if (!tolerance_ok(feasibility_tolerance)) {
    return InvalidArgument("FbaOptions::feasibility_tolerance = " + std::to_string(feasibility_tolerance) +
                           "; must be in (0, 1e-3]");
  }
  if (!tolerance_ok(optimality_tolerance)) {
    return InvalidArgument("FbaOptions::optimality_tolerance = " + std::to_string(optimality_tolerance) +
                           "; must be in (0, 1e-3]");
  }
  if (iteration_limit < 0) {
    return InvalidArgument("FbaOptions::iteration_limit = " + std::to_string(iteration_limit) + "; must be >= 0");
  }
  if (!(time_limit_seconds >= 0) || std::isinf(time_limit_seconds)) {
    return InvalidArgument("FbaOptions::time_limit_seconds = " + std::to_string(time_limit_seconds) +
                           "; must be finite and >= 0");
  }
  return Status::Ok();
}

const char* FbaStatusName(FbaStatus s) {
  switch (s) {
    case FbaStatus::kOptimal: return "optimal";
    case FbaStatus::kInfeasible: return "infeasible";
    case FbaStatus::kUnbounded: return "unbounded";
    case FbaStatus::kLimitReached: return "limit reached";
  }
  return "?";
}

std::string FbaSummary::BriefReport() const {
  std::ostringstream out;
  out << FbaStatusName(status) << ", " << reactions << " reactions, " << balanced_species << " balanced species, "
      << iterations << " iterations, " << seconds * 1e3 << " ms";
  if (!message.empty()) out << ": " << message;
  return out.str();
}

double FbaResult::Flux(std::string_view reaction) const {
  for (size_t j = 0; j < reactions.size(); ++j) {
    if (reactions[j] == reaction) return fluxes[j];
  }
  return std::numeric_limits<double>::quiet_NaN();
}

Result<FbaResult> SolveFluxBalance(const model::Model& m, const FbaOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  SOMA_RETURN_IF_ERROR(options.Validate());
  if (!m.flux_balance) return InvalidModel("model '" + m.id + "' has no flux balance data (SBML fbc)");
  const std::string& id = options.objective.empty() ? m.flux_balance->active_objective : options.objective;
  if (id.empty()) return InvalidModel("model '" + m.id + "' has no active objective");
  const model::Objective* objective = m.flux_balance->FindObjective(id);
  if (objective == nullptr) return InvalidModel("model '" + m.id + "' has no objective '" + id + "'");

  SOMA_ASSIGN_OR_RETURN(internal::FluxProblem problem, internal::BuildFluxProblem(m, *objective));
  SOMA_ASSIGN_OR_RETURN(internal::LpSolution lp, internal::SolveWithGlpk(problem, options));

  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  FbaResult out;
  out.objective_id = objective->id;
  out.sense = objective->sense;
  out.reactions = problem.reactions;
  out.summary.status = lp.status;
  out.summary.message = lp.message;
  out.summary.reactions = static_cast<int>(problem.reactions.size());
  out.summary.balanced_species = static_cast<int>(problem.species.size());
  out.summary.iterations = lp.iterations;
  if (lp.status == FbaStatus::kOptimal) {
    out.objective_value = lp.objective_value;
    out.fluxes = std::move(lp.fluxes);
    out.fluxes.resize(out.reactions.size(), 0.0);
  } else {
    out.fluxes.assign(out.reactions.size(), kNaN);
    out.objective_value = kNaN;
    if (lp.status == FbaStatus::kUnbounded) {
      out.objective_value = objective->sense == model::ObjectiveSense::kMaximize ? INFINITY : -INFINITY;
    }
  }
  out.summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace soma::fba
