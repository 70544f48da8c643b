#include "fba/glpk_lp.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <memory>

#include <glpk.h>

namespace soma::fba::internal {
namespace {

struct ProblemDeleter {
  void operator()(glp_prob* p) const { glp_delete_prob(p); }
};
using Problem = std::unique_ptr<glp_prob, ProblemDeleter>;

// GLPK's terminal output is per thread; off for the scope, then restored.
class QuietTerminal {
 public:
  QuietTerminal() : previous_(glp_term_out(GLP_OFF)) {}
  ~QuietTerminal() { glp_term_out(previous_); }
  QuietTerminal(const QuietTerminal&) = delete;
  QuietTerminal& operator=(const QuietTerminal&) = delete;

 private:
  int previous_;
};

const char* SimplexCodeName(int code) {
  switch (code) {
    case GLP_EBADB: return "GLP_EBADB (invalid initial basis)";
    case GLP_ESING: return "GLP_ESING (singular basis matrix)";
    case GLP_ECOND: return "GLP_ECOND (ill-conditioned basis matrix)";
    case GLP_EBOUND: return "GLP_EBOUND (incorrect double bounds)";
    case GLP_EFAIL: return "GLP_EFAIL (solver failure)";
    case GLP_EOBJLL: return "GLP_EOBJLL (objective lower limit reached)";
    case GLP_EOBJUL: return "GLP_EOBJUL (objective upper limit reached)";
    case GLP_EITLIM: return "GLP_EITLIM (iteration limit reached)";
    case GLP_ETMLIM: return "GLP_ETMLIM (time limit reached)";
    case GLP_ENOPFS: return "GLP_ENOPFS (no primal feasible solution)";
    case GLP_ENODFS: return "GLP_ENODFS (no dual feasible solution)";
    default: return "unknown GLPK return code";
  }
}

// A column's bounds in GLPK's terms; [lower, upper] must contain a finite
// value (GLPK aborts on inverted double bounds).
void SetColumnBounds(glp_prob* lp, int j, double lower, double upper) {
  const bool has_lower = lower > -INFINITY, has_upper = upper < INFINITY;
  int type = GLP_FR;
  if (has_lower && has_upper) type = lower == upper ? GLP_FX : GLP_DB;
  else if (has_lower) type = GLP_LO;
  else if (has_upper) type = GLP_UP;
  glp_set_col_bnds(lp, j, type, has_lower ? lower : 0.0, has_upper ? upper : 0.0);
}

double Clean(double x) { return x == 0.0 ? 0.0 : x; }  // no "-0" in output

}  // namespace

Result<LpSolution> SolveWithGlpk(const FluxProblem& p, const FbaOptions& options) {
  LpSolution out;
  const int n = static_cast<int>(p.reactions.size());
  const int m = static_cast<int>(p.species.size());
  for (int j = 0; j < n; ++j) {
    if (p.lower[j] > p.upper[j] || p.lower[j] == INFINITY || p.upper[j] == -INFINITY) {
      out.status = FbaStatus::kInfeasible;
      out.message = "reaction '" + p.reactions[j] + "': lower flux bound " + std::to_string(p.lower[j]) +
                    " exceeds upper flux bound " + std::to_string(p.upper[j]);
      return out;
    }
  }
  if (n == 0) {  // GLPK refuses empty problems; the optimum of nothing is 0
    out.status = FbaStatus::kOptimal;
    return out;
  }

  QuietTerminal quiet;
  Problem lp(glp_create_prob());
  glp_set_obj_dir(lp.get(), p.sense == model::ObjectiveSense::kMaximize ? GLP_MAX : GLP_MIN);
  if (m > 0) {
    glp_add_rows(lp.get(), m);
    for (int i = 1; i <= m; ++i) glp_set_row_bnds(lp.get(), i, GLP_FX, 0.0, 0.0);
  }
  glp_add_cols(lp.get(), n);
  for (int j = 1; j <= n; ++j) {
    SetColumnBounds(lp.get(), j, p.lower[j - 1], p.upper[j - 1]);
    glp_set_obj_coef(lp.get(), j, p.objective[j - 1]);
  }
  // GLPK arrays are 1-based: element 0 is unused.
  std::vector<int> ia(1, 0), ja(1, 0);
  std::vector<double> ar(1, 0.0);
  for (const MatrixEntry& e : p.stoichiometry) {
    ia.push_back(e.row + 1);
    ja.push_back(e.column + 1);
    ar.push_back(e.value);
  }
  glp_load_matrix(lp.get(), static_cast<int>(ar.size()) - 1, ia.data(), ja.data(), ar.data());
  glp_scale_prob(lp.get(), GLP_SF_AUTO);

  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.meth = GLP_PRIMAL;
  parm.presolve = GLP_OFF;  // with the presolver, infeasible/unbounded come back as codes without status
  parm.tol_bnd = options.feasibility_tolerance;
  parm.tol_dj = options.optimality_tolerance;
  if (options.iteration_limit > 0) parm.it_lim = options.iteration_limit;
  if (options.time_limit_seconds > 0) {
    parm.tm_lim = static_cast<int>(std::min(options.time_limit_seconds * 1000.0, static_cast<double>(INT_MAX)));
  }
  const int code = glp_simplex(lp.get(), &parm);
  out.iterations = glp_get_it_cnt(lp.get());
  if (code == GLP_EITLIM || code == GLP_ETMLIM) {
    out.status = FbaStatus::kLimitReached;
    out.message = SimplexCodeName(code);
    return out;
  }
  if (code != 0) return SolverFailure(std::string("GLPK simplex failed: ") + SimplexCodeName(code));

  switch (const int status = glp_get_status(lp.get())) {
    case GLP_OPT:
      out.status = FbaStatus::kOptimal;
      out.objective_value = Clean(glp_get_obj_val(lp.get()));
      out.fluxes.resize(n);
      for (int j = 1; j <= n; ++j) out.fluxes[j - 1] = Clean(glp_get_col_prim(lp.get(), j));
      return out;
    case GLP_NOFEAS:
      out.status = FbaStatus::kInfeasible;
      out.message = "no flux vector satisfies the steady state and the flux bounds";
      return out;
    case GLP_UNBND:
      out.status = FbaStatus::kUnbounded;
      out.message = "the objective is unbounded";
      return out;
    default:
      return SolverFailure("GLPK simplex ended without a conclusion (status " + std::to_string(status) + ")");
  }
}

}  // namespace soma::fba::internal
