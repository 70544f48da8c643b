#include "solvers/ode_integrator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include <cvodes/cvodes.h>
#include <nvector/nvector_serial.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunmatrix/sunmatrix_sparse.h>
#include <sunnonlinsol/sunnonlinsol_fixedpoint.h>

#include "solvers/fast_matrix.h"
#include "solvers/fast_nvector.h"
#include "solvers/klu_solver.h"

namespace soma::solvers {

namespace {
void SilentErrorHandler(int, const char*, const char*, char*, void*) {
  // CVODES prints failures to stderr by default; we report them as Status.
}
}  // namespace

Status IntegratorOptions::Validate() const {
  auto bad = [](const char* field, double v, const char* rule) {
    return InvalidArgument(std::string("IntegratorOptions::") + field + " = " + std::to_string(v) +
                           "; must be " + rule);
  };
  if (!(rel_tol > 0) || !std::isfinite(rel_tol)) return bad("rel_tol", rel_tol, "> 0");
  if (!(abs_tol > 0) || !std::isfinite(abs_tol)) return bad("abs_tol", abs_tol, "> 0");
  if (max_steps < 1) return bad("max_steps", static_cast<double>(max_steps), ">= 1");
  if (!(max_step >= 0)) return bad("max_step", max_step, ">= 0");
  if (!(initial_step >= 0)) return bad("initial_step", initial_step, ">= 0");
  if (sparse_threshold < 1) return bad("sparse_threshold", sparse_threshold, ">= 1");
  if (stiffness_check_steps < 1) return bad("stiffness_check_steps", stiffness_check_steps, ">= 1");
  if (std::isnan(end_time)) return bad("end_time", end_time, "a time (+infinity: unknown)");
  return Status::Ok();
}

Result<std::unique_ptr<OdeIntegrator>> OdeIntegrator::Create(const SundialsContext& ctx,
                                                             OdeSystem* system, double t0,
                                                             std::span<const double> y0,
                                                             const IntegratorOptions& options) {
  SOMA_RETURN_IF_ERROR(options.Validate());
  const int n = system->num_states();
  if (n < 1 || static_cast<size_t>(n) != y0.size()) {
    return InvalidArgument("OdeIntegrator: need at least one state and y0 of matching size");
  }
  const SparsePattern* pattern = system->sparse_pattern();
  if (options.linear_solver == LinearSolverKind::kSparse && pattern == nullptr) {
    return InvalidArgument("IntegratorOptions::linear_solver = kSparse; the system has no sparse Jacobian");
  }
  std::unique_ptr<OdeIntegrator> self(new OdeIntegrator());
  self->system_ = system;
  self->options_ = options;
  self->sun_ctx_ = ctx.get();
  self->t_ = t0;
  self->y_.reset(N_VNew_Serial(n, ctx.get()));
  if (!self->y_) return SolverFailure("N_VNew_Serial failed");
  // Before CVodeInit: CVODES clones its work vectors from y_, ops included.
  UseFastSerialOps(self->y_.get());
  std::copy(y0.begin(), y0.end(), N_VGetArrayPointer(self->y_.get()));
  self->ydot_.reset(N_VNew_Serial(n, ctx.get()));
  if (!self->ydot_) return SolverFailure("N_VNew_Serial failed");
  UseFastSerialOps(self->ydot_.get());
  if (options.method == OdeMethod::kRungeKutta) {
    SOMA_RETURN_IF_ERROR(self->InitErk(t0));
  } else if (options.method == OdeMethod::kAuto) {
    self->phase_ = AutoPhase::kAdams;
    SOMA_RETURN_IF_ERROR(self->InitCvode(OdeMethod::kAdams, /*fixed_point=*/true, t0));
    // The first segment chooses its stepper as every segment after a
    // restart does (in Advance, which knows where it ends). Measured
    // in-process against Adams for the first segment (soma_bench_simulate,
    // native code): mass-30 0.36 -> 0.15 ms, mass-300 7.3 -> 4.2 ms, the
    // T1D trial 0.75 -> 0.63 s; mass-100/300 in bytecode 6-11 % slower
    // (their right-hand side costs more there than BDF's linear algebra).
    if (!system->wants_steps()) self->restart_pending_ = true;
  } else {
    SOMA_RETURN_IF_ERROR(self->InitCvode(options.method, /*fixed_point=*/false, t0));
  }
  return self;
}

Status OdeIntegrator::InitErk(double t) {
  DormandPrince::Options o;
  o.rel_tol = options_.rel_tol;
  o.abs_tol = options_.abs_tol;
  o.max_step = options_.max_step;
  o.max_steps = options_.max_steps;
  erk_ = std::make_unique<DormandPrince>(system_, o);
  erk_->SetAttemptHook(options_.attempt_hook);
  erk_active_ = true;
  erk_segment_start_ = t;
  erk_->Reset(t, N_VGetArrayPointer(y_.get()), options_.initial_step);
  if (system_->num_roots() > 0) roots_found_.assign(system_->num_roots(), 0);
  return Status::Ok();
}

int OdeIntegrator::Evolve(double t_out, double* t_ret, bool one_step) {
  if (erk_active_) return erk_->Evolve(t_out, one_step, t_ret, N_VGetArrayPointer(y_.get()));
  return CVode(cvode_mem_, t_out, y_.get(), t_ret, one_step ? CV_ONE_STEP : CV_NORMAL);
}

Status OdeIntegrator::Dky(double t, int k, N_Vector out) const {
  if (erk_active_) {
    if (erk_->Interpolate(t, k, N_VGetArrayPointer(out))) return Status::Ok();
    return SolverFailure("the explicit Runge-Kutta method has no solution at t = " + std::to_string(t) +
                         " (outside its last step)");
  }
  return CheckFlag(CVodeGetDky(cvode_mem_, t, k, out), "CVodeGetDky");
}

Status OdeIntegrator::GetRootInfo() {
  if (erk_active_) {
    roots_found_ = erk_->roots_found();
    return Status::Ok();
  }
  return CheckFlag(CVodeGetRootInfo(cvode_mem_, roots_found_.data()), "CVodeGetRootInfo");
}

Status OdeIntegrator::SetStopTime(double t_stop) {
  if (erk_active_) {
    erk_->SetStopTime(t_stop);
    return Status::Ok();
  }
  return CheckFlag(CVodeSetStopTime(cvode_mem_, t_stop), "CVodeSetStopTime");
}

Status OdeIntegrator::CurrentTime(double* t) const {
  if (erk_active_) {
    *t = erk_->t();
    return Status::Ok();
  }
  return CheckFlag(CVodeGetCurrentTime(cvode_mem_, t), "CVodeGetCurrentTime");
}

Status OdeIntegrator::EvolveFailure(int flag) const {
  if (!erk_active_) {
    // Where CVODES got to (past the last stop t_ within this call), with its
    // step size and the largest state there: a step collapsing while the
    // states grow huge is a solution that blows up.
    double reached = t_, h = 0;
    if (CVodeGetCurrentTime(cvode_mem_, &reached) < 0) reached = t_;
    std::string where = "CVode at t = " + std::to_string(reached);
    if (CVodeGetCurrentStep(cvode_mem_, &h) >= 0 && h != 0) {
      const double* y = N_VGetArrayPointer(y_.get());
      double largest = 0;
      for (sunindextype i = 0; i < N_VGetLength(y_.get()); ++i) largest = std::max(largest, std::abs(y[i]));
      std::ostringstream detail;
      detail << " (step size " << std::abs(h) << ", largest |state| " << largest << " there)";
      where += detail.str();
    }
    Status s = CheckFlag(flag, where).WithContext("integration");
    // A step that has shrunk to rounding level of t: more steps would not
    // help (whatever the flag suggests); the solution or a rate has no
    // bound there.
    if (h != 0 && std::abs(h) < 1e-12 * std::max(1.0, std::abs(reached))) {
      s = Status(s.code(), s.message() + "; the step size collapsed near t = " + std::to_string(reached) +
                               ": a singularity there (a rate or the solution grows without bound)?");
    }
    return s;
  }
  const auto rk_flag = static_cast<DormandPrince::Flag>(flag);
  std::string message = "explicit Runge-Kutta (Dormand-Prince 5(4)): " + erk_->FailureMessage(rk_flag);
  if (rk_flag == DormandPrince::kTooMuchWork) {
    message += "; the explicit Runge-Kutta method's steps are held down by stability on a stiff problem: use "
               "method bdf or auto";
  }
  return SolverFailure(message).WithContext("integration");
}

Status OdeIntegrator::InitCvode(OdeMethod method, bool fixed_point, double t) {
  const IntegratorOptions& options = options_;
  const int n = system_->num_states();
  SUNContext ctx = sun_ctx_;
  void*& slot = fixed_point ? adams_mem_ : newton_mem_;
  if (slot != nullptr) CVodeFree(&slot);
  slot = CVodeCreate(method == OdeMethod::kBdf ? CV_BDF : CV_ADAMS, ctx);
  if (slot == nullptr) return SolverFailure("CVodeCreate failed");
  cvode_mem_ = slot;
  void* mem = cvode_mem_;
  stop_time_set_ = false;
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetErrHandlerFn(mem, SilentErrorHandler, nullptr), "CVodeSetErrHandlerFn"));
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeInit(mem, RhsThunk, t, y_.get()), "CVodeInit"));
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetUserData(mem, this), "CVodeSetUserData"));
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSStolerances(mem, options.rel_tol, options.abs_tol), "CVodeSStolerances"));
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetMaxNumSteps(mem, MaxStepsPerCall()), "CVodeSetMaxNumSteps"));
  if (options.max_step > 0) {
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetMaxStep(mem, options.max_step), "CVodeSetMaxStep"));
  }
  if (options.initial_step > 0) {
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetInitStep(mem, options.initial_step), "CVodeSetInitStep"));
  }
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetMaxHnilWarns(mem, -1), "CVodeSetMaxHnilWarns"));

  if (fixed_point) {
    // Functional iteration: no Jacobian, no linear solver.
    fixed_point_.reset(SUNNonlinSol_FixedPoint(y_.get(), 0, ctx));
    if (!fixed_point_) return SolverFailure("SUNNonlinSol_FixedPoint failed");
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetNonlinearSolver(mem, fixed_point_.get()), "CVodeSetNonlinearSolver"));
  } else {
    const SparsePattern* pattern = system_->sparse_pattern();
    const bool sparse = options.linear_solver == LinearSolverKind::kSparse ||
                        (options.linear_solver == LinearSolverKind::kAuto && pattern != nullptr &&
                         n >= options.sparse_threshold);
    if (sparse) {
      const auto nnz = static_cast<sunindextype>(pattern->row_indices.size());
      matrix_.reset(SUNSparseMatrix(n, n, nnz > 0 ? nnz : 1, CSC_MAT, ctx));
      if (!matrix_) return SolverFailure("SUNSparseMatrix failed");
      linear_solver_.reset(NewKluSolver(y_.get(), matrix_.get(), ctx));
    } else {
      matrix_.reset(SUNDenseMatrix(n, n, ctx));
      if (!matrix_) return SolverFailure("SUNDenseMatrix failed");
      linear_solver_.reset(NewDenseLuSolver(y_.get(), matrix_.get(), ctx));
    }
    if (!linear_solver_) return SolverFailure("creating the linear solver failed");
    UseFastMatrixOps(matrix_.get());
    SOMA_RETURN_IF_ERROR(
        CheckFlag(CVodeSetLinearSolver(mem, linear_solver_.get(), matrix_.get()), "CVodeSetLinearSolver"));
    if (sparse) {
      SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetJacFn(mem, SparseJacThunk), "CVodeSetJacFn"));
    } else if (system_->has_dense_jacobian()) {
      SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetJacFn(mem, DenseJacThunk), "CVodeSetJacFn"));
    }
  }
  if (system_->num_roots() > 0) {
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeRootInit(mem, system_->num_roots(), RootThunk), "CVodeRootInit"));
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetNoInactiveRootWarn(mem), "CVodeSetNoInactiveRootWarn"));
    roots_found_.assign(system_->num_roots(), 0);
  }
  steps_at_check_ = 0;
  conv_fails_at_check_ = 0;
  return Status::Ok();
}

double OdeIntegrator::SpectralRadius(double t, const double* y, double enough) {
  const int n = system_->num_states();
  const size_t un = static_cast<size_t>(n);
  power_v_.resize(un);
  power_w_.resize(un);
  const SparsePattern* pattern = system_->sparse_pattern();
  bool have_jacobian = false;
  if (pattern != nullptr) {
    power_jac_.resize(pattern->row_indices.size());
    have_jacobian = system_->SparseJacobian(t, y, power_jac_.data()) == 0;
  } else if (system_->has_dense_jacobian()) {
    power_jac_.resize(un * un);
    have_jacobian = system_->DenseJacobian(t, y, power_jac_.data()) == 0;
  }
  if (have_jacobian && enough > 0) {
    // Absolute column and row sums, one pass over the entries.
    std::vector<double>& rows = power_w_;
    std::fill(rows.begin(), rows.end(), 0.0);
    double norm1 = 0;
    for (int j = 0; j < n; ++j) {
      double column = 0;
      if (pattern != nullptr) {
        for (int64_t k = pattern->column_starts[j]; k < pattern->column_starts[j + 1]; ++k) {
          column += std::abs(power_jac_[k]);
          rows[static_cast<size_t>(pattern->row_indices[k])] += std::abs(power_jac_[k]);
        }
      } else {
        const double* col = power_jac_.data() + static_cast<size_t>(j) * un;
        for (size_t i = 0; i < un; ++i) {
          column += std::abs(col[i]);
          rows[i] += std::abs(col[i]);
        }
      }
      norm1 = std::max(norm1, column);
    }
    double norm_inf = 0;
    for (double r : rows) norm_inf = std::max(norm_inf, r);
    // The margin covers the rounding of both this bound and the iteration's
    // norms (a few units in the last place each).
    const double bound = std::sqrt(norm1 * norm_inf) * (1 + 1e-6);
    if (std::isfinite(bound) && bound <= enough) return bound;
  }
  double fd_step = 0;
  if (!have_jacobian) {
    // Without an analytic Jacobian, J v by forward differences of f around
    // f(y), computed once: power_jac_ holds f(y), then the shifted state.
    power_jac_.resize(2 * un);
    if (system_->Rhs(t, y, power_jac_.data()) != 0) return 0.0;
    double ynorm = 0;
    for (size_t i = 0; i < un; ++i) ynorm = std::max(ynorm, std::abs(y[i]));
    fd_step = std::sqrt(std::numeric_limits<double>::epsilon()) * std::max(1.0, ynorm);
  }
  auto multiply = [&](const std::vector<double>& v, std::vector<double>& w) -> bool {
    std::fill(w.begin(), w.end(), 0.0);
    if (have_jacobian && pattern != nullptr) {
      for (int j = 0; j < n; ++j) {
        for (int64_t k = pattern->column_starts[j]; k < pattern->column_starts[j + 1]; ++k) {
          w[static_cast<size_t>(pattern->row_indices[k])] += power_jac_[k] * v[j];
        }
      }
      return true;
    }
    if (have_jacobian) {
      for (size_t j = 0; j < un; ++j) {
        const double* col = power_jac_.data() + j * un;
        for (size_t i = 0; i < un; ++i) w[i] += col[i] * v[j];
      }
      return true;
    }
    const double* f0 = power_jac_.data();
    double* yp = power_jac_.data() + un;
    for (size_t i = 0; i < un; ++i) yp[i] = y[i] + fd_step * v[i];
    if (system_->Rhs(t, yp, w.data()) != 0) return false;
    for (size_t i = 0; i < un; ++i) w[i] = (w[i] - f0[i]) / fd_step;
    return true;
  };
  // A fixed start vector with no special structure, so that runs repeat.
  double norm = 0;
  for (size_t i = 0; i < un; ++i) {
    power_v_[i] = 1.0 + 0.5 * std::sin(1.0 + 2.0 * static_cast<double>(i));
    norm += power_v_[i] * power_v_[i];
  }
  norm = std::sqrt(norm);
  for (double& x : power_v_) x /= norm;
  double rho = 0;
  for (int it = 0; it < 12; ++it) {
    if (!multiply(power_v_, power_w_)) return 0.0;
    double wn = 0;
    for (double x : power_w_) wn += x * x;
    wn = std::sqrt(wn);
    if (!std::isfinite(wn)) return 0.0;
    rho = std::max(rho, wn);
    if (wn == 0) break;
    for (size_t i = 0; i < un; ++i) power_v_[i] = power_w_[i] / wn;
  }
  return rho;
}

Status OdeIntegrator::SwitchMethod(AutoPhase to) {
  if (to == AutoPhase::kBdf) {
    ++method_switches_;
    if (std::isnan(bdf_from_)) bdf_from_ = t_;
  }
  if (to == AutoPhase::kProbe) ++bdf_probes_;
  if (phase_ == AutoPhase::kProbe && to == AutoPhase::kBdf) {
    // The probe is kept: BDF goes on with its history.
    phase_ = to;
    return CheckFlag(CVodeSetMaxNumSteps(cvode_mem_, MaxStepsPerCall()), "CVodeSetMaxNumSteps");
  }
  before_reinit_ = stats();
  const bool to_bdf = to != AutoPhase::kAdams;
  phase_ = to;
  limited_before_ = false;
  h_at_check_ = 0;
  stalled_checks_ = 0;
  steps_at_check_ = 0;
  conv_fails_at_check_ = 0;
  stop_time_set_ = false;
  if (to_bdf && newton_mem_ == nullptr) {
    SOMA_RETURN_IF_ERROR(InitCvode(OdeMethod::kBdf, /*fixed_point=*/false, t_));
  } else {
    cvode_mem_ = to_bdf ? newton_mem_ : adams_mem_;
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeReInit(cvode_mem_, t_, y_.get()), "CVodeReInit"));
  }
  return CheckFlag(CVodeSetMaxNumSteps(cvode_mem_, MaxStepsPerCall()), "CVodeSetMaxNumSteps");
}

Status OdeIntegrator::CheckStiffness() {
  long steps = 0;
  long conv_fails = 0;
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeGetNumSteps(cvode_mem_, &steps), "CVodeGetNumSteps"));
  SOMA_RETURN_IF_ERROR(
      CheckFlag(CVodeGetNumNonlinSolvConvFails(cvode_mem_, &conv_fails), "CVodeGetNumNonlinSolvConvFails"));
  const long window = steps - steps_at_check_;
  const long window_fails = conv_fails - conv_fails_at_check_;
  if (window < options_.stiffness_check_steps) return Status::Ok();
  steps_at_check_ = steps;
  conv_fails_at_check_ = conv_fails;
  double h = 0;
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeGetLastStep(cvode_mem_, &h), "CVodeGetLastStep"));
  h = std::abs(h);
  if (phase_ == AutoPhase::kProbe) {
    // The probe decides by the steps BDF takes: twice Adams' at least, or
    // back to Adams, and the next probe waits twice as long.
    if (h >= 2 * probe_adams_step_) return SwitchMethod(AutoPhase::kBdf);
    probe_wait_ = std::max(2 * probe_wait_, 2);
    checks_until_probe_ = probe_wait_;
    return SwitchMethod(AutoPhase::kAdams);
  }
  // Fixed-point iteration that often fails to converge: h * rho is at the
  // edge of its convergence region.
  if (4 * window_fails >= window) return SwitchMethod(AutoPhase::kBdf);
  // Accuracy alone keeps h * rho well below 1 while the fastest mode is
  // active (an order-q method resolves exp(lambda t) to a relative 1e-3 only
  // with |h lambda|^(q+1) of that size). A step with h * rho >= 0.4 that
  // passes the error test therefore means the fast modes have decayed and
  // only stability holds the step down: the problem is stiff (twice in a
  // row, so that one step after a smooth stretch does not decide).
  const double h_rho = h * SpectralRadius(t_, N_VGetArrayPointer(y_.get()));
  const bool limited = h_rho >= 0.4;
  const bool stiff = limited && limited_before_;
  limited_before_ = limited;
  // A step that stopped growing while h * rho >= 0.05 may be held by the
  // fast modes too (PEtab's Boehm model stays at h = 1e-6, order 6, for 1e5
  // steps at h * rho = 0.1), or may be what accuracy needs (an oscillation
  // at a tight tolerance looks the same): BDF is tried, and kept if its
  // steps are at least twice as long. The stability region of Adams with
  // fixed-point iteration shrinks with the order, so a step that stays put
  // for kLongStall checks in a row is tried from h * rho >= 0.01: SBML suite
  // 00019 run to t = 1e4 sat at order 7, h = 0.0121, h * rho = 0.043 for
  // 500,000 steps (BDF needs 400). A failed try costs a check window and an
  // Adams restart, and the next waits twice as long.
  constexpr int kLongStall = 5;
  const bool holding = h <= 1.1 * h_at_check_;
  stalled_checks_ = holding && h_rho >= 0.01 ? stalled_checks_ + 1 : 0;
  const bool stalled = holding && (h_rho >= 0.05 || stalled_checks_ >= kLongStall);
  h_at_check_ = h;
  if (checks_until_probe_ > 0) --checks_until_probe_;
  if (stiff) return SwitchMethod(AutoPhase::kBdf);
  if (stalled && checks_until_probe_ == 0) {
    probe_adams_step_ = h;
    return SwitchMethod(AutoPhase::kProbe);
  }
  return Status::Ok();
}

OdeIntegrator::~OdeIntegrator() {
  if (adams_mem_ != nullptr) CVodeFree(&adams_mem_);
  if (newton_mem_ != nullptr) CVodeFree(&newton_mem_);
}

const double* OdeIntegrator::y() const { return N_VGetArrayPointer(y_.get()); }

Status OdeIntegrator::Reinit(double t, std::span<const double> y) {
  before_reinit_ = stats();
  pending_root_ = false;
  std::copy(y.begin(), y.end(), N_VGetArrayPointer(y_.get()));
  t_ = t;
  stop_time_set_ = false;
  steps_at_check_ = 0;
  conv_fails_at_check_ = 0;
  limited_before_ = false;
  h_at_check_ = 0;
  stalled_checks_ = 0;
  // erk_ ran the segment that just ended: the step its controller chose
  // next is where the new segment starts (RestartErk), at most that
  // segment's length. Without the cap a model whose error estimate is 0 (no
  // states, or none that move) grows its step without bound from restart
  // to restart, and the root tolerance, proportional to the step, with
  // it: SBML suite 00952 (an event every 0.01 from time - reset >= 0.01)
  // found its roots later and later until they fell on output times.
  const double length = std::abs(t - erk_segment_start_);
  if (!erk_active_) {
    erk_carried_step_ = 0;
  } else if (length > 0) {  // a restart at the segment's start keeps the last one
    erk_carried_step_ = std::min(erk_->next_step(), length);
  }
  if (options_.method == OdeMethod::kRungeKutta) return RestartErk();
  if (phase_ != AutoPhase::kOff && !system_->wants_steps()) {
    // kAuto: which stepper runs the next segment is decided in Advance,
    // which knows where the segment ends.
    restart_pending_ = true;
    return Status::Ok();
  }
  // Here CVODES ran the last segment: kBdf, kAdams, and kAuto with delays
  // or sensitivities (which never hand a segment to the explicit stepper).
  if (phase_ == AutoPhase::kBdf || phase_ == AutoPhase::kProbe) {
    // A restart loses the history anyway: try Adams again.
    return SwitchMethod(AutoPhase::kAdams);
  }
  return CheckFlag(CVodeReInit(cvode_mem_, t, y_.get()), "CVodeReInit");
}

Status OdeIntegrator::ChooseSegmentStepper(double t_stop) {
  restart_pending_ = false;
  const double length = std::min(t_stop, options_.end_time) - t_;
  if (std::isfinite(length) &&
      // (Asking for a little less than the threshold allows for the
      // rounding of the product.)
      length * SpectralRadius(t_, N_VGetArrayPointer(y_.get()), kRkSegmentStiffness / length * (1 - 1e-9)) <=
          kRkSegmentStiffness) {
    ++rk_segments_;
    if (erk_ == nullptr) {
      SOMA_RETURN_IF_ERROR(InitErk(t_));
      // A budget per call: beyond it (stiffness appeared after all) the
      // segment goes back to Adams/BDF (FallBackToAdams).
      erk_->SetMaxSteps(std::min(options_.max_steps, kRkSegmentMaxSteps));
      return Status::Ok();
    }
    erk_active_ = true;
    return RestartErk();
  }
  return StartAdams();
}

Status OdeIntegrator::RestartErk() {
  erk_segment_start_ = t_;
  double first_step = options_.initial_step;  // 0: the stepper's estimate
  // A one-step method keeps nothing from before the restart but the step
  // size, and the discontinuity that caused the restart is at the segment's
  // start, not inside its steps: the first step tried is the one the
  // controller chose before it, where an estimate starts orders of
  // magnitude smaller and climbs back over several steps. A step too large
  // for the new segment fails the error test and is cut as any other. T1D
  // day (rk45, ARKODE's ERKStep at the time): 1,099 steps against 1,326.
  if (first_step <= 0 && erk_carried_step_ > 0) first_step = erk_carried_step_;
  erk_->Reset(t_, N_VGetArrayPointer(y_.get()), first_step);
  return Status::Ok();
}

Status OdeIntegrator::StartAdams() {
  // Adams with fixed-point iteration, as after every restart (the counters
  // of the stepper that ran before are in before_reinit_ already).
  erk_active_ = false;
  stop_time_set_ = false;
  phase_ = AutoPhase::kAdams;
  cvode_mem_ = adams_mem_;
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeReInit(cvode_mem_, t_, y_.get()), "CVodeReInit"));
  return CheckFlag(CVodeSetMaxNumSteps(cvode_mem_, MaxStepsPerCall()), "CVodeSetMaxNumSteps");
}

Status OdeIntegrator::FallBackToAdams() {
  before_reinit_ = stats();
  ++rk_fallbacks_;
  // From the explicit stepper's last step (every root before it was found).
  std::copy(erk_->y(), erk_->y() + system_->num_states(), N_VGetArrayPointer(y_.get()));
  t_ = erk_->t();
  return StartAdams();
}

Result<OdeIntegrator::Stop> OdeIntegrator::Advance(double t_target, double t_stop) {
  if (t_target <= t_) return Stop::kReachedTime;
  if (restart_pending_) SOMA_RETURN_IF_ERROR(ChooseSegmentStepper(t_stop));
  if (checking() && !pending_root_) SOMA_RETURN_IF_ERROR(CheckStiffness());
  // SUNDIALS 6.4 has no CVodeClearStopTime and keeps a reached stop time
  // (even across CVodeReInit), so "no stop" is a stop time far away.
  const double stop = std::isfinite(t_stop) ? t_stop : std::numeric_limits<double>::max();
  if (!stop_time_set_ || stop_time_ != stop) {
    SOMA_RETURN_IF_ERROR(SetStopTime(stop));
    stop_time_set_ = true;
    stop_time_ = stop;
  }
  if (pending_root_) {
    // A root found beyond an earlier target (one-step mode): report it now.
    if (pending_root_time_ <= t_target) {
      pending_root_ = false;
      SOMA_RETURN_IF_ERROR(Dky(pending_root_time_, 0, y_.get()));
      t_ = pending_root_time_;
      return Stop::kRoot;
    }
    SOMA_RETURN_IF_ERROR(Dky(t_target, 0, y_.get()));
    t_ = t_target;
    return Stop::kReachedTime;
  }
  double tret = t_;
  int flag = 0;
  bool one_step = false;     // stepped one step at a time (ends past the target are interpolated)
  if (!system_->wants_steps()) {
    long taken = 0;  // steps in this call, against max_steps (kAuto on Adams returns in chunks)
    while (true) {
      const bool chunked = checking();
      long before = 0;
      if (chunked) SOMA_RETURN_IF_ERROR(CheckFlag(CVodeGetNumSteps(cvode_mem_, &before), "CVodeGetNumSteps"));
      flag = Evolve(t_target, &tret, /*one_step=*/false);
      if (flag < 0 && erk_active_ && options_.method == OdeMethod::kAuto) {
        // kAuto's explicit segment failed (stiffness after all, repeated
        // failures): Adams/BDF from its last step.
        SOMA_RETURN_IF_ERROR(FallBackToAdams());
        SOMA_RETURN_IF_ERROR(SetStopTime(stop));
        stop_time_set_ = true;
        stop_time_ = stop;
        continue;
      }
      if (!chunked || (flag < 0 && flag != CV_TOO_MUCH_WORK)) break;
      long after = 0;
      SOMA_RETURN_IF_ERROR(CheckFlag(CVodeGetNumSteps(cvode_mem_, &after), "CVodeGetNumSteps"));
      taken += after - before;
      if (flag == CV_TOO_MUCH_WORK && taken >= options_.max_steps) break;
      if (flag != CV_TOO_MUCH_WORK) {
        // Reached the target, the stop time or a root: check at the next
        // call (a switch here would lose the root or the stop).
        break;
      }
      t_ = tret;
      void* before_check = cvode_mem_;
      SOMA_RETURN_IF_ERROR(CheckStiffness());
      if (cvode_mem_ != before_check || !stop_time_set_) {
        SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetStopTime(cvode_mem_, stop), "CVodeSetStopTime"));
        stop_time_set_ = true;
        stop_time_ = stop;
      }
    }
  } else {
    // One step at a time so that the system sees every step; the stop time
    // keeps the steps from passing a scheduled event.
    double tn = t_;
    SOMA_RETURN_IF_ERROR(CurrentTime(&tn));
    flag = CV_SUCCESS;
    tret = tn;
    while (flag == CV_SUCCESS && tret < t_target) {
      flag = Evolve(t_target, &tret, /*one_step=*/true);
      if (flag < 0) break;
      SOMA_RETURN_IF_ERROR(Dky(tret, 1, ydot_.get()));
      system_->OnStep(tret, N_VGetArrayPointer(y_.get()), N_VGetArrayPointer(ydot_.get()));
      if (checking() && flag == CV_SUCCESS && tret < t_target) {
        t_ = tret;
        void* before_check = cvode_mem_;
        SOMA_RETURN_IF_ERROR(CheckStiffness());
        if (cvode_mem_ != before_check) {
          SOMA_RETURN_IF_ERROR(SetStopTime(stop));
          stop_time_set_ = true;
          stop_time_ = stop;
        }
      }
    }
    one_step = true;
  }
  if (one_step && flag == CV_ROOT_RETURN && tret > t_target) {
    // In one-step mode the integrator reports roots beyond the target: keep
    // the root for the next call and report the target first.
    SOMA_RETURN_IF_ERROR(GetRootInfo());
    pending_root_ = true;
    pending_root_time_ = tret;
    flag = CV_SUCCESS;
  }
  if (one_step && flag >= 0 && flag != CV_ROOT_RETURN && tret >= t_target) {
    // At or past the target (a step may end past it, or an earlier call got
    // there without a new step): the solution there is the interpolant's.
    SOMA_RETURN_IF_ERROR(Dky(t_target, 0, y_.get()));
    tret = t_target;
  }
  if (flag < 0) return EvolveFailure(flag);
  t_ = tret;
  if (flag == CV_ROOT_RETURN) {
    SOMA_RETURN_IF_ERROR(GetRootInfo());
    return Stop::kRoot;
  }
  // CV_SUCCESS or CV_TSTOP_RETURN: we are at t_target.
  t_ = t_target;
  return Stop::kReachedTime;
}

IntegratorStats OdeIntegrator::stats() const {
  IntegratorStats s = CurrentStats();
  s.steps += before_reinit_.steps;
  s.rhs_evaluations += before_reinit_.rhs_evaluations;
  s.jacobian_evaluations += before_reinit_.jacobian_evaluations;
  s.root_evaluations += before_reinit_.root_evaluations;
  s.error_test_failures += before_reinit_.error_test_failures;
  s.nonlinear_convergence_failures += before_reinit_.nonlinear_convergence_failures;
  s.linear_solver_setups += before_reinit_.linear_solver_setups;
  s.method = options_.method;
  s.rk_segments = rk_segments_;
  s.rk_fallbacks = rk_fallbacks_;
  s.bdf_from = bdf_from_;
  s.method_switches = method_switches_;
  s.bdf_probes = bdf_probes_;
  return s;
}

IntegratorStats OdeIntegrator::CurrentStats() const {
  IntegratorStats s;
  long v = 0;
  if (restart_pending_) return s;  // counted in before_reinit_ already
  if (erk_active_) {
    // The stepper's counters start afresh at each restart (Reset).
    s.steps = erk_->steps();
    s.rhs_evaluations = erk_->rhs_evaluations();
    s.root_evaluations = erk_->root_evaluations();
    s.error_test_failures = erk_->error_test_failures();
    return s;
  }
  if (CVodeGetNumSteps(cvode_mem_, &v) >= 0) s.steps = v;
  if (CVodeGetNumRhsEvals(cvode_mem_, &v) >= 0) s.rhs_evaluations = v;
  if (CVodeGetNumJacEvals(cvode_mem_, &v) >= 0) s.jacobian_evaluations = v;
  if (CVodeGetNumGEvals(cvode_mem_, &v) >= 0) s.root_evaluations = v;
  if (CVodeGetNumErrTestFails(cvode_mem_, &v) >= 0) s.error_test_failures = v;
  if (CVodeGetNumNonlinSolvConvFails(cvode_mem_, &v) >= 0) s.nonlinear_convergence_failures = v;
  if (CVodeGetNumLinSolvSetups(cvode_mem_, &v) >= 0) s.linear_solver_setups = v;
  return s;
}

int OdeIntegrator::RhsThunk(double t, N_Vector y, N_Vector ydot, void* user) {
  auto* self = static_cast<OdeIntegrator*>(user);
  return self->system_->Rhs(t, N_VGetArrayPointer(y), N_VGetArrayPointer(ydot));
}

int OdeIntegrator::RootThunk(double t, N_Vector y, double* g, void* user) {
  auto* self = static_cast<OdeIntegrator*>(user);
  return self->system_->Roots(t, N_VGetArrayPointer(y), g);
}

int OdeIntegrator::DenseJacThunk(double t, N_Vector y, N_Vector, SUNMatrix J, void* user, N_Vector,
                                 N_Vector, N_Vector) {
  auto* self = static_cast<OdeIntegrator*>(user);
  // SUNDenseMatrix data is column-major with leading dimension n.
  return self->system_->DenseJacobian(t, N_VGetArrayPointer(y), SUNDenseMatrix_Data(J));
}

int OdeIntegrator::SparseJacThunk(double t, N_Vector y, N_Vector, SUNMatrix J, void* user, N_Vector,
                                  N_Vector, N_Vector) {
  auto* self = static_cast<OdeIntegrator*>(user);
  const SparsePattern* p = self->system_->sparse_pattern();
  sunindextype* colptrs = SUNSparseMatrix_IndexPointers(J);
  sunindextype* rowvals = SUNSparseMatrix_IndexValues(J);
  for (size_t i = 0; i < p->column_starts.size(); ++i) colptrs[i] = p->column_starts[i];
  for (size_t i = 0; i < p->row_indices.size(); ++i) rowvals[i] = p->row_indices[i];
  return self->system_->SparseJacobian(t, N_VGetArrayPointer(y), SUNSparseMatrix_Data(J));
}

Status SensitivityOptions::Validate(int ns) const {
  if (!scales.empty() && scales.size() != static_cast<size_t>(ns)) {
    return InvalidArgument("SensitivityOptions::scales has " + std::to_string(scales.size()) +
                           " entries; must be empty or one per parameter (" + std::to_string(ns) + ")");
  }
  for (size_t k = 0; k < scales.size(); ++k) {
    if (!(scales[k] > 0) || !std::isfinite(scales[k])) {
      return InvalidArgument("SensitivityOptions::scales[" + std::to_string(k) + "] = " +
                             std::to_string(scales[k]) + "; must be finite and > 0");
    }
  }
  return Status::Ok();
}

Status OdeIntegrator::SetSensitivityVectors(std::span<const double> s) {
  const size_t n = static_cast<size_t>(system_->num_states());
  if (s.size() != n * static_cast<size_t>(ns_)) {
    return InvalidArgument("OdeIntegrator: sensitivities need " + std::to_string(n * ns_) + " values, got " +
                           std::to_string(s.size()));
  }
  for (int k = 0; k < ns_; ++k) {
    std::copy(s.begin() + static_cast<long>(k * n), s.begin() + static_cast<long>((k + 1) * n),
              N_VGetArrayPointer(sens_[k].get()));
  }
  return Status::Ok();
}

Status OdeIntegrator::EnableSensitivities(int ns, std::span<const double> s0, const SensitivityOptions& options) {
  if (ns < 1) return InvalidArgument("OdeIntegrator::EnableSensitivities: need at least one parameter");
  if (ns_ != 0) return InvalidArgument("OdeIntegrator::EnableSensitivities: already enabled");
  SOMA_RETURN_IF_ERROR(options.Validate(ns));
  if (erk_active_) {
    return Unsupported("forward sensitivities with the explicit Runge-Kutta method (OdeMethod::kRungeKutta); "
                       "they need CVODES: use method bdf, adams or auto");
  }
  // Sensitivities are corrected with Newton iteration: kAuto runs BDF.
  restart_pending_ = false;
  if (phase_ != AutoPhase::kOff) {
    SOMA_RETURN_IF_ERROR(SwitchMethod(AutoPhase::kBdf));
    phase_ = AutoPhase::kOff;  // BDF for good: Reinit keeps it
  }
  for (int k = 0; k < ns; ++k) {
    sens_.emplace_back(N_VClone(y_.get()));
    if (!sens_.back()) return SolverFailure("N_VClone failed");
    sens_raw_.push_back(sens_.back().get());
  }
  ns_ = ns;
  sens_in_.resize(ns);
  sens_out_.resize(ns);
  SOMA_RETURN_IF_ERROR(SetSensitivityVectors(s0));
  sens_simultaneous_ = options.method == SensitivityMethod::kSimultaneous;
  const int ism = sens_simultaneous_ ? CV_SIMULTANEOUS : CV_STAGGERED;
  void* mem = cvode_mem_;
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSensInit(mem, ns, ism, SensRhsThunk, sens_raw_.data()), "CVodeSensInit"));
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSensEEtolerances(mem), "CVodeSensEEtolerances"));
  if (!options.scales.empty()) {
    std::vector<double> pbar = options.scales;  // CVODES copies pbar
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetSensParams(mem, nullptr, pbar.data(), nullptr), "CVodeSetSensParams"));
  }
  return CheckFlag(CVodeSetSensErrCon(mem, options.error_control ? SUNTRUE : SUNFALSE), "CVodeSetSensErrCon");
}

Status OdeIntegrator::ReinitSensitivities(std::span<const double> s) {
  if (ns_ == 0) return InvalidArgument("OdeIntegrator::ReinitSensitivities: sensitivities are not enabled");
  long v = 0;
  if (CVodeGetSensNumRhsEvals(cvode_mem_, &v) >= 0) sens_rhs_before_reinit_ += v;
  SOMA_RETURN_IF_ERROR(SetSensitivityVectors(s));
  // CVodeSensReInit takes the method again: the one chosen at setup.
  const int ism = sens_simultaneous_ ? CV_SIMULTANEOUS : CV_STAGGERED;
  return CheckFlag(CVodeSensReInit(cvode_mem_, ism, sens_raw_.data()), "CVodeSensReInit");
}

// ydot_ serves as scratch here (it holds OnStep's derivative only within Advance).
Status OdeIntegrator::StateAt(double t, std::span<double> y) const {
  if (y.size() != static_cast<size_t>(system_->num_states())) return InvalidArgument("OdeIntegrator::StateAt: wrong size");
  SOMA_RETURN_IF_ERROR(Dky(t, 0, ydot_.get()));
  std::copy_n(N_VGetArrayPointer(ydot_.get()), y.size(), y.begin());
  return Status::Ok();
}

Status OdeIntegrator::GetSensitivities(std::span<double> s) const {
  const size_t n = static_cast<size_t>(system_->num_states());
  if (ns_ == 0 || s.size() != n * static_cast<size_t>(ns_)) {
    return InvalidArgument("OdeIntegrator::GetSensitivities: not enabled or wrong size");
  }
  long steps = 0;
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeGetNumSteps(cvode_mem_, &steps), "CVodeGetNumSteps"));
  for (int k = 0; k < ns_; ++k) {
    // Before the first step after (re)initialisation the interpolant is not
    // set up: the sensitivities are the initial ones.
    if (steps > 0) {
      SOMA_RETURN_IF_ERROR(CheckFlag(CVodeGetSensDky1(cvode_mem_, t_, 0, k, sens_[k].get()), "CVodeGetSensDky1"));
    }
    const double* v = N_VGetArrayPointer(sens_[k].get());
    std::copy(v, v + n, s.begin() + static_cast<long>(k * n));
  }
  return Status::Ok();
}

long OdeIntegrator::sensitivity_rhs_evaluations() const {
  long v = 0;
  if (ns_ == 0 || CVodeGetSensNumRhsEvals(cvode_mem_, &v) < 0) v = 0;
  return v + sens_rhs_before_reinit_;
}

int OdeIntegrator::SensRhsThunk(int ns, double t, N_Vector y, N_Vector ydot, N_Vector* ys, N_Vector* ysdot,
                                void* user, N_Vector, N_Vector) {
  auto* self = static_cast<OdeIntegrator*>(user);
  for (int k = 0; k < ns; ++k) {
    self->sens_in_[k] = N_VGetArrayPointer(ys[k]);
    self->sens_out_[k] = N_VGetArrayPointer(ysdot[k]);
  }
  return self->system_->SensitivityRhs(t, N_VGetArrayPointer(y), N_VGetArrayPointer(ydot), ns,
                                       self->sens_in_.data(), self->sens_out_.data());
}

}  // namespace soma::solvers
