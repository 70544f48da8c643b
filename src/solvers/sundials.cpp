#include "solvers/sundials.h"

#include <cstdlib>
#include <string>

#include <cvodes/cvodes.h>
#include <kinsol/kinsol.h>
#include <sunlinsol/sunlinsol_dense.h>

namespace soma::solvers {

SundialsContext::SundialsContext() {
  if (SUNContext_Create(nullptr, &ctx_) != 0) {
    // Allocation failure of a few bytes: nothing sensible can continue.
    std::abort();
  }
}

SundialsContext::~SundialsContext() { SUNContext_Free(&ctx_); }

void NVectorDeleter::operator()(_generic_N_Vector* v) const { N_VDestroy(v); }
void SunMatrixDeleter::operator()(_generic_SUNMatrix* m) const { SUNMatDestroy(m); }
void SunLinearSolverDeleter::operator()(_generic_SUNLinearSolver* s) const { SUNLinSolFree(s); }
void SunNonlinearSolverDeleter::operator()(_generic_SUNNonlinearSolver* s) const { SUNNonlinSolFree(s); }

std::string_view CvodeFlagName(int flag) {
  // CVodeGetReturnFlagName allocates; we keep our own table for the common ones.
  switch (flag) {
    case CV_SUCCESS: return "CV_SUCCESS";
    case CV_TSTOP_RETURN: return "CV_TSTOP_RETURN";
    case CV_ROOT_RETURN: return "CV_ROOT_RETURN";
    case CV_WARNING: return "CV_WARNING";
    case CV_TOO_MUCH_WORK: return "CV_TOO_MUCH_WORK (too many steps; raise max_steps)";
    case CV_TOO_MUCH_ACC: return "CV_TOO_MUCH_ACC (tolerances too tight)";
    case CV_ERR_FAILURE: return "CV_ERR_FAILURE (repeated error test failures)";
    case CV_CONV_FAILURE: return "CV_CONV_FAILURE (Newton iteration did not converge)";
    case CV_LINIT_FAIL: return "CV_LINIT_FAIL";
    case CV_LSETUP_FAIL: return "CV_LSETUP_FAIL (linear solver setup failed; singular Jacobian?)";
    case CV_LSOLVE_FAIL: return "CV_LSOLVE_FAIL";
    case CV_RHSFUNC_FAIL: return "CV_RHSFUNC_FAIL (right-hand side not finite)";
    case CV_FIRST_RHSFUNC_ERR: return "CV_FIRST_RHSFUNC_ERR (the right-hand side failed at the first evaluation of this segment)";
    case CV_REPTD_RHSFUNC_ERR: return "CV_REPTD_RHSFUNC_ERR (right-hand side repeatedly not finite)";
    case CV_UNREC_RHSFUNC_ERR: return "CV_UNREC_RHSFUNC_ERR";
    case CV_RTFUNC_FAIL: return "CV_RTFUNC_FAIL";
    case CV_MEM_FAIL: return "CV_MEM_FAIL";
    case CV_MEM_NULL: return "CV_MEM_NULL";
    case CV_ILL_INPUT: return "CV_ILL_INPUT";
    case CV_NO_MALLOC: return "CV_NO_MALLOC";
    case CV_BAD_K: return "CV_BAD_K";
    case CV_BAD_T: return "CV_BAD_T";
    case CV_BAD_DKY: return "CV_BAD_DKY";
    case CV_TOO_CLOSE: return "CV_TOO_CLOSE (end time too close to start time)";
    default: return "unknown SUNDIALS flag";
  }
}

Status CheckFlag(int flag, std::string_view function) {
  if (flag >= 0) return Status::Ok();
  std::string msg(function);
  msg += " failed with ";
  msg += std::to_string(flag);
  msg += " ";
  msg += CvodeFlagName(flag);
  return SolverFailure(std::move(msg));
}

std::string_view KinsolFlagName(int flag) {
  switch (flag) {
    case KIN_SUCCESS: return "KIN_SUCCESS";
    case KIN_INITIAL_GUESS_OK: return "KIN_INITIAL_GUESS_OK (the initial guess already solves the system)";
    case KIN_STEP_LT_STPTOL: return "KIN_STEP_LT_STPTOL (steps became smaller than the step tolerance)";
    case KIN_WARNING: return "KIN_WARNING";
    case KIN_MEM_NULL: return "KIN_MEM_NULL";
    case KIN_ILL_INPUT: return "KIN_ILL_INPUT";
    case KIN_NO_MALLOC: return "KIN_NO_MALLOC";
    case KIN_MEM_FAIL: return "KIN_MEM_FAIL";
    case KIN_LINESEARCH_NONCONV: return "KIN_LINESEARCH_NONCONV (the line search found no acceptable step)";
    case KIN_MAXITER_REACHED: return "KIN_MAXITER_REACHED (too many iterations)";
    case KIN_MXNEWT_5X_EXCEEDED: return "KIN_MXNEWT_5X_EXCEEDED (five maximum-length Newton steps in a row)";
    case KIN_LINESEARCH_BCFAIL: return "KIN_LINESEARCH_BCFAIL (the line search could not meet the beta condition)";
    case KIN_LINSOLV_NO_RECOVERY: return "KIN_LINSOLV_NO_RECOVERY (linear solve failed; singular Jacobian?)";
    case KIN_LINIT_FAIL: return "KIN_LINIT_FAIL";
    case KIN_LSETUP_FAIL: return "KIN_LSETUP_FAIL (Jacobian factorisation failed; singular Jacobian?)";
    case KIN_LSOLVE_FAIL: return "KIN_LSOLVE_FAIL (linear solve failed)";
    case KIN_SYSFUNC_FAIL: return "KIN_SYSFUNC_FAIL (the system function failed)";
    case KIN_FIRST_SYSFUNC_ERR: return "KIN_FIRST_SYSFUNC_ERR (the system function failed at the initial guess)";
    case KIN_REPTD_SYSFUNC_ERR: return "KIN_REPTD_SYSFUNC_ERR (the system function repeatedly not finite)";
    case KIN_VECTOROP_ERR: return "KIN_VECTOROP_ERR";
    case KIN_CONTEXT_ERR: return "KIN_CONTEXT_ERR";
    default: return "unknown KINSOL flag";
  }
}

Status CheckFlag(int flag, std::string_view function, SundialsPackage package) {
  if (package == SundialsPackage::kCvodes) return CheckFlag(flag, function);
  if (flag >= 0) return Status::Ok();
  std::string msg(function);
  msg += " failed with ";
  msg += std::to_string(flag);
  msg += " ";
  msg += KinsolFlagName(flag);
  return SolverFailure(std::move(msg));
}

}  // namespace soma::solvers
