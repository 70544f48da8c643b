#pragma once
// Nonlinear systems F(x) = 0 solved with SUNDIALS KINSOL: Newton's method
// with the system's analytic Jacobian (dense LU, or sparse KLU when the
// system gives a sparse pattern) or KINSOL's difference quotients when it has
// none, globalised by a line search.
//
// "Did not converge" is an outcome, reported in the Summary (converged =
// false and the KINSOL flag that ended the iteration), not an error: Solve
// returns an error only for bad options or input and failures to set KINSOL
// up.
//
// Thread safety: one solver per thread; distinct solvers (each with its own
// SundialsContext) may run concurrently.

#include <memory>
#include <span>
#include <string>

#include "core/status.h"
#include "solvers/ode_integrator.h"
#include "solvers/sundials.h"

namespace soma::solvers {

// The system F(x) = 0, x and F of size() >= 1. Callback return values follow
// SUNDIALS: 0 success, > 0 recoverable failure (e.g. a value that is not
// finite: the line search shortens the step), < 0 fatal.
class NonlinearSystem {
 public:
  virtual ~NonlinearSystem() = default;
  virtual int size() const = 0;
  virtual int Residual(const double* x, double* f) = 0;

  // Dense Jacobian, column-major: jac[i + j * n] = d F_i / d x_j.
  virtual bool has_dense_jacobian() const { return false; }
  virtual int DenseJacobian(const double* x, double* jac) { return -1; }

  // Sparse Jacobian: values in the order of sparse_pattern().
  virtual const SparsePattern* sparse_pattern() const { return nullptr; }
  virtual int SparseJacobian(const double* x, double* values) { return -1; }
};

enum class Globalization {
  kLineSearch,  // backtracking line search on ||F||^2 (KIN_LINESEARCH)
  kNone,        // full Newton steps (KIN_NONE)
};

struct NonlinearSolverOptions {
  Globalization globalization = Globalization::kLineSearch;
  // kAuto: KLU when the system has a sparse pattern and at least
  // sparse_threshold unknowns, else dense. kSparse needs a sparse pattern.
  LinearSolverKind linear_solver = LinearSolverKind::kAuto;
  int sparse_threshold = 20;       // >= 1
  // Converged when max_i |f_scale_i F_i(x)| <= function_tol (KINSOL's
  // stopping test; f_scale is given to Solve, 1 by default).
  double function_tol = 1e-10;     // > 0
  // Stop (converged only if the residual test holds too) when a step's
  // relative length max_i |dx_i| / (|x_i| + 1 / x_scale_i) falls below this.
  double step_tol = 1e-14;         // > 0
  long max_iterations = 200;       // >= 1
  // Jacobian evaluations: every `jacobian_update_interval` iterations
  // (1 = exact Newton; larger = modified Newton, cheaper per iteration).
  long jacobian_update_interval = 1;  // >= 1
  // Largest Newton step, ||x_scale dx||_2; 0 = 1000 max(||x_scale x0||_2,
  // sqrt(n)) for each Solve. (KINSOL's own default, 1000 ||x_scale x0||_2
  // floored at 1, stalls starts at x0 = 0.)
  double max_newton_step = 0.0;    // >= 0

  // Names the field and the rule it broke, e.g.
  // "NonlinearSolverOptions::function_tol = -1; must be > 0".
  Status Validate() const;
};

// What happened in one Solve (Ceres-style).
struct NonlinearSolverSummary {
  bool converged = false;          // max |f_scale F(x)| <= function_tol at the returned x
  long iterations = 0;             // Newton iterations
  long function_evaluations = 0;   // Residual calls, including those of line searches
  long jacobian_evaluations = 0;   // Jacobian calls (difference quotients count once)
  long backtracks = 0;             // line search step reductions
  double residual_max_norm = 0.0;  // max_i |F_i(x)| at the returned x, unscaled
  double scaled_residual_norm = 0.0;  // ||f_scale F(x)||_2 as KINSOL reports it
  int flag = 0;                    // KINSol's return flag
  std::string termination = "not run";  // the flag's name and meaning

  // One line: "converged in 5 iterations (8 F, 5 J), max |F| 1e-13 (KIN_SUCCESS)".
  std::string BriefReport() const;
};

class NonlinearSolver {
 public:
  // `system` must outlive the solver; system->size() >= 1. Errors: invalid
  // options, kSparse without a sparse pattern, KINSOL setup failures.
  static Result<std::unique_ptr<NonlinearSolver>> Create(const SundialsContext& ctx, NonlinearSystem* system,
                                                         const NonlinearSolverOptions& options);
  ~NonlinearSolver();
  NonlinearSolver(const NonlinearSolver&) = delete;
  NonlinearSolver& operator=(const NonlinearSolver&) = delete;

  // Solves F(x) = 0 starting from `x` (size() values), which is overwritten
  // by the last iterate (the solution when converged). `x_scale` and
  // `f_scale` (positive; empty = all 1) are KINSOL's diagonal scalings D_u and
  // D_F: choose x_scale_i ~ 1 / typical |x_i| and f_scale_i ~ 1 / tolerated
  // |F_i|. May be called again with another start. Errors: sizes that do not
  // match, non-positive or non-finite scales, KINSOL input errors; failure
  // to converge is not an error (see Summary).
  Result<NonlinearSolverSummary> Solve(std::span<double> x, std::span<const double> x_scale = {},
                                       std::span<const double> f_scale = {});

 private:
  NonlinearSolver() = default;
  static int ResidualThunk(N_Vector x, N_Vector f, void* user);
  static int DenseJacThunk(N_Vector x, N_Vector f, SUNMatrix J, void* user, N_Vector, N_Vector);
  static int SparseJacThunk(N_Vector x, N_Vector f, SUNMatrix J, void* user, N_Vector, N_Vector);

  NonlinearSystem* system_ = nullptr;
  NonlinearSolverOptions options_;
  void* kinsol_mem_ = nullptr;
  NVectorPtr x_, x_scale_, f_scale_, f_;
  SunMatrixPtr matrix_;
  SunLinearSolverPtr linear_solver_;
};

}  // namespace soma::solvers
