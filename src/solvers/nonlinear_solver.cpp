#include "solvers/nonlinear_solver.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include <kinsol/kinsol.h>
#include <kinsol/kinsol_ls.h>
#include <nvector/nvector_serial.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunlinsol/sunlinsol_klu.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunmatrix/sunmatrix_sparse.h>

namespace soma::solvers {

namespace {

void SilentErrorHandler(int, const char*, const char*, char*, void*) {
  // KINSOL prints failures to stderr by default; we report them in the Summary.
}

// Flags that mean the call itself was wrong, not that Newton failed.
bool IsInputError(int flag) {
  return flag == KIN_MEM_NULL || flag == KIN_ILL_INPUT || flag == KIN_NO_MALLOC || flag == KIN_MEM_FAIL ||
         flag == KIN_VECTOROP_ERR || flag == KIN_CONTEXT_ERR || flag == KIN_LINIT_FAIL;
}

Status CopyScale(std::span<const double> from, N_Vector to, const char* name) {
  double* dst = N_VGetArrayPointer(to);
  const auto n = static_cast<size_t>(N_VGetLength(to));
  if (from.empty()) {
    std::fill(dst, dst + n, 1.0);
    return Status::Ok();
  }
  if (from.size() != n) {
    return InvalidArgument(std::string("NonlinearSolver::Solve: ") + name + " has " + std::to_string(from.size()) +
                           " values; the system has " + std::to_string(n) + " unknowns");
  }
  for (size_t i = 0; i < n; ++i) {
    if (!(from[i] > 0) || !std::isfinite(from[i])) {
      return InvalidArgument(std::string("NonlinearSolver::Solve: ") + name + "[" + std::to_string(i) +
                             "] = " + std::to_string(from[i]) + "; must be finite and > 0");
    }
    dst[i] = from[i];
  }
  return Status::Ok();
}

}  // namespace

Status NonlinearSolverOptions::Validate() const {
  auto bad = [](const char* field, double v, const char* rule) {
    std::ostringstream m;
    m << "NonlinearSolverOptions::" << field << " = " << v << "; must be " << rule;
    return InvalidArgument(m.str());
  };
  if (sparse_threshold < 1) return bad("sparse_threshold", sparse_threshold, ">= 1");
  if (!(function_tol > 0) || !std::isfinite(function_tol)) return bad("function_tol", function_tol, "> 0");
  if (!(step_tol > 0) || !std::isfinite(step_tol)) return bad("step_tol", step_tol, "> 0");
  if (max_iterations < 1) return bad("max_iterations", static_cast<double>(max_iterations), ">= 1");
  if (jacobian_update_interval < 1) {
    return bad("jacobian_update_interval", static_cast<double>(jacobian_update_interval), ">= 1");
  }
  if (!(max_newton_step >= 0) || !std::isfinite(max_newton_step)) {
    return bad("max_newton_step", max_newton_step, ">= 0");
  }
  return Status::Ok();
}

std::string NonlinearSolverSummary::BriefReport() const {
  std::ostringstream s;
  s << (converged ? "converged" : "did not converge") << " in " << iterations << " iterations ("
    << function_evaluations << " F, " << jacobian_evaluations << " J), max |F| " << residual_max_norm << " ("
    << termination << ")";
  return s.str();
}

Result<std::unique_ptr<NonlinearSolver>> NonlinearSolver::Create(const SundialsContext& ctx,
                                                                 NonlinearSystem* system,
                                                                 const NonlinearSolverOptions& options) {
  SOMA_RETURN_IF_ERROR(options.Validate());
  const int n = system->size();
  if (n < 1) return InvalidArgument("NonlinearSolver: the system needs at least one unknown");
  std::unique_ptr<NonlinearSolver> self(new NonlinearSolver());
  self->system_ = system;
  self->options_ = options;
  for (NVectorPtr* v : {&self->x_, &self->x_scale_, &self->f_scale_, &self->f_}) {
    v->reset(N_VNew_Serial(n, ctx.get()));
    if (!*v) return SolverFailure("N_VNew_Serial failed");
  }

  constexpr auto kKinsol = SundialsPackage::kKinsol;
  self->kinsol_mem_ = KINCreate(ctx.get());
  if (self->kinsol_mem_ == nullptr) return SolverFailure("KINCreate failed");
  void* mem = self->kinsol_mem_;
  SOMA_RETURN_IF_ERROR(CheckFlag(KINSetErrHandlerFn(mem, SilentErrorHandler, nullptr), "KINSetErrHandlerFn", kKinsol));
  SOMA_RETURN_IF_ERROR(CheckFlag(KINInit(mem, ResidualThunk, self->x_.get()), "KINInit", kKinsol));
  SOMA_RETURN_IF_ERROR(CheckFlag(KINSetUserData(mem, self.get()), "KINSetUserData", kKinsol));
  SOMA_RETURN_IF_ERROR(CheckFlag(KINSetFuncNormTol(mem, options.function_tol), "KINSetFuncNormTol", kKinsol));
  SOMA_RETURN_IF_ERROR(CheckFlag(KINSetScaledStepTol(mem, options.step_tol), "KINSetScaledStepTol", kKinsol));
  SOMA_RETURN_IF_ERROR(CheckFlag(KINSetNumMaxIters(mem, options.max_iterations), "KINSetNumMaxIters", kKinsol));
  SOMA_RETURN_IF_ERROR(CheckFlag(KINSetMaxSetupCalls(mem, options.jacobian_update_interval),
                                 "KINSetMaxSetupCalls", kKinsol));

  const SparsePattern* pattern = system->sparse_pattern();
  const bool sparse = options.linear_solver == LinearSolverKind::kSparse ||
                      (options.linear_solver == LinearSolverKind::kAuto && pattern != nullptr &&
                       n >= options.sparse_threshold);
  if (sparse && pattern == nullptr) {
    return InvalidArgument("NonlinearSolverOptions::linear_solver = kSparse; the system has no sparse Jacobian");
  }
  if (sparse) {
    const auto nnz = static_cast<sunindextype>(pattern->row_indices.size());
    self->matrix_.reset(SUNSparseMatrix(n, n, nnz > 0 ? nnz : 1, CSC_MAT, ctx.get()));
    if (!self->matrix_) return SolverFailure("SUNSparseMatrix failed");
    self->linear_solver_.reset(SUNLinSol_KLU(self->x_.get(), self->matrix_.get(), ctx.get()));
  } else {
    self->matrix_.reset(SUNDenseMatrix(n, n, ctx.get()));
    if (!self->matrix_) return SolverFailure("SUNDenseMatrix failed");
    self->linear_solver_.reset(SUNLinSol_Dense(self->x_.get(), self->matrix_.get(), ctx.get()));
  }
  if (!self->linear_solver_) return SolverFailure("creating the linear solver failed");
  SOMA_RETURN_IF_ERROR(CheckFlag(KINSetLinearSolver(mem, self->linear_solver_.get(), self->matrix_.get()),
                                 "KINSetLinearSolver", kKinsol));
  // Without a Jacobian function KINSOL uses dense difference quotients.
  if (sparse) {
    SOMA_RETURN_IF_ERROR(CheckFlag(KINSetJacFn(mem, SparseJacThunk), "KINSetJacFn", kKinsol));
  } else if (system->has_dense_jacobian()) {
    SOMA_RETURN_IF_ERROR(CheckFlag(KINSetJacFn(mem, DenseJacThunk), "KINSetJacFn", kKinsol));
  }
  return self;
}

NonlinearSolver::~NonlinearSolver() {
  if (kinsol_mem_ != nullptr) KINFree(&kinsol_mem_);
}

Result<NonlinearSolverSummary> NonlinearSolver::Solve(std::span<double> x, std::span<const double> x_scale,
                                                      std::span<const double> f_scale) {
  const auto n = static_cast<size_t>(system_->size());
  if (x.size() != n) {
    return InvalidArgument("NonlinearSolver::Solve: x has " + std::to_string(x.size()) + " values; the system has " +
                           std::to_string(n) + " unknowns");
  }
  SOMA_RETURN_IF_ERROR(CopyScale(x_scale, x_scale_.get(), "x_scale"));
  SOMA_RETURN_IF_ERROR(CopyScale(f_scale, f_scale_.get(), "f_scale"));
  double* u = N_VGetArrayPointer(x_.get());
  std::copy(x.begin(), x.end(), u);

  constexpr auto kKinsol = SundialsPackage::kKinsol;
  void* mem = kinsol_mem_;
  double max_step = options_.max_newton_step;
  if (max_step == 0) {
    double norm = 0.0;
    const double* xs = N_VGetArrayPointer(x_scale_.get());
    for (size_t i = 0; i < n; ++i) norm += (xs[i] * u[i]) * (xs[i] * u[i]);
    max_step = 1000.0 * std::max(std::sqrt(norm), std::sqrt(static_cast<double>(n)));
  }
  SOMA_RETURN_IF_ERROR(CheckFlag(KINSetMaxNewtonStep(mem, max_step), "KINSetMaxNewtonStep", kKinsol));
  // KINSOL's counters accumulate over calls: report this call's share.
  long iters0 = 0, fevals0 = 0, jevals0 = 0, backtracks0 = 0;
  SOMA_RETURN_IF_ERROR(CheckFlag(KINGetNumNonlinSolvIters(mem, &iters0), "KINGetNumNonlinSolvIters", kKinsol));
  SOMA_RETURN_IF_ERROR(CheckFlag(KINGetNumFuncEvals(mem, &fevals0), "KINGetNumFuncEvals", kKinsol));
  SOMA_RETURN_IF_ERROR(CheckFlag(KINGetNumJacEvals(mem, &jevals0), "KINGetNumJacEvals", kKinsol));
  SOMA_RETURN_IF_ERROR(CheckFlag(KINGetNumBacktrackOps(mem, &backtracks0), "KINGetNumBacktrackOps", kKinsol));

  const int strategy = options_.globalization == Globalization::kLineSearch ? KIN_LINESEARCH : KIN_NONE;
  const int flag = KINSol(mem, x_.get(), strategy, x_scale_.get(), f_scale_.get());
  if (IsInputError(flag)) return CheckFlag(flag, "KINSol", kKinsol);

  NonlinearSolverSummary summary;
  summary.flag = flag;
  summary.termination = std::string(KinsolFlagName(flag));
  long iters = 0, fevals = 0, jevals = 0, backtracks = 0;
  SOMA_RETURN_IF_ERROR(CheckFlag(KINGetNumNonlinSolvIters(mem, &iters), "KINGetNumNonlinSolvIters", kKinsol));
  SOMA_RETURN_IF_ERROR(CheckFlag(KINGetNumFuncEvals(mem, &fevals), "KINGetNumFuncEvals", kKinsol));
  SOMA_RETURN_IF_ERROR(CheckFlag(KINGetNumJacEvals(mem, &jevals), "KINGetNumJacEvals", kKinsol));
  SOMA_RETURN_IF_ERROR(CheckFlag(KINGetNumBacktrackOps(mem, &backtracks), "KINGetNumBacktrackOps", kKinsol));
  SOMA_RETURN_IF_ERROR(CheckFlag(KINGetFuncNorm(mem, &summary.scaled_residual_norm), "KINGetFuncNorm", kKinsol));
  summary.iterations = iters - iters0;
  summary.function_evaluations = fevals - fevals0;
  summary.jacobian_evaluations = jevals - jevals0;
  summary.backtracks = backtracks - backtracks0;

  // The verdict is ours, from F at the returned iterate: KIN_STEP_LT_STPTOL
  // may mean a solution or a stall, and a failed solve still returns a point.
  std::copy(u, u + n, x.begin());
  double* f = N_VGetArrayPointer(f_.get());
  const double* fs = N_VGetArrayPointer(f_scale_.get());
  const int residual_flag = system_->Residual(u, f);
  ++summary.function_evaluations;
  double scaled_max = 0.0;
  summary.residual_max_norm = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (residual_flag != 0 || !std::isfinite(f[i])) {
      summary.residual_max_norm = scaled_max = std::numeric_limits<double>::infinity();
      break;
    }
    summary.residual_max_norm = std::max(summary.residual_max_norm, std::abs(f[i]));
    scaled_max = std::max(scaled_max, std::abs(f[i]) * fs[i]);
  }
  summary.converged = flag >= 0 && scaled_max <= options_.function_tol;
  return summary;
}

int NonlinearSolver::ResidualThunk(N_Vector x, N_Vector f, void* user) {
  auto* self = static_cast<NonlinearSolver*>(user);
  return self->system_->Residual(N_VGetArrayPointer(x), N_VGetArrayPointer(f));
}

int NonlinearSolver::DenseJacThunk(N_Vector x, N_Vector, SUNMatrix J, void* user, N_Vector, N_Vector) {
  auto* self = static_cast<NonlinearSolver*>(user);
  // SUNDenseMatrix data is column-major with leading dimension n.
  return self->system_->DenseJacobian(N_VGetArrayPointer(x), SUNDenseMatrix_Data(J));
}

int NonlinearSolver::SparseJacThunk(N_Vector x, N_Vector, SUNMatrix J, void* user, N_Vector, N_Vector) {
  auto* self = static_cast<NonlinearSolver*>(user);
  const SparsePattern* p = self->system_->sparse_pattern();
  sunindextype* colptrs = SUNSparseMatrix_IndexPointers(J);
  sunindextype* rowvals = SUNSparseMatrix_IndexValues(J);
  for (size_t i = 0; i < p->column_starts.size(); ++i) colptrs[i] = p->column_starts[i];
  for (size_t i = 0; i < p->row_indices.size(); ++i) rowvals[i] = p->row_indices[i];
  return self->system_->SparseJacobian(N_VGetArrayPointer(x), SUNSparseMatrix_Data(J));
}

}  // namespace soma::solvers
