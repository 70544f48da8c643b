#include "solvers/ode_integrator.h"

#include <cmath>
#include <limits>
#include <string>

#include <cvodes/cvodes.h>
#include <nvector/nvector_serial.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunmatrix/sunmatrix_sparse.h>

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
  std::unique_ptr<OdeIntegrator> self(new OdeIntegrator());
  self->system_ = system;
  self->t_ = t0;
  self->y_.reset(N_VNew_Serial(n, ctx.get()));
  if (!self->y_) return SolverFailure("N_VNew_Serial failed");
  // Before CVodeInit: CVODES clones its work vectors from y_, ops included.
  UseFastSerialOps(self->y_.get());
  std::copy(y0.begin(), y0.end(), N_VGetArrayPointer(self->y_.get()));
  self->ydot_.reset(N_VNew_Serial(n, ctx.get()));
  if (!self->ydot_) return SolverFailure("N_VNew_Serial failed");
  UseFastSerialOps(self->ydot_.get());

  self->cvode_mem_ = CVodeCreate(options.method == OdeMethod::kBdf ? CV_BDF : CV_ADAMS, ctx.get());
  if (self->cvode_mem_ == nullptr) return SolverFailure("CVodeCreate failed");
  void* mem = self->cvode_mem_;
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetErrHandlerFn(mem, SilentErrorHandler, nullptr), "CVodeSetErrHandlerFn"));
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeInit(mem, RhsThunk, t0, self->y_.get()), "CVodeInit"));
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetUserData(mem, self.get()), "CVodeSetUserData"));
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSStolerances(mem, options.rel_tol, options.abs_tol), "CVodeSStolerances"));
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetMaxNumSteps(mem, options.max_steps), "CVodeSetMaxNumSteps"));
  if (options.max_step > 0) {
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetMaxStep(mem, options.max_step), "CVodeSetMaxStep"));
  }
  if (options.initial_step > 0) {
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetInitStep(mem, options.initial_step), "CVodeSetInitStep"));
  }
  SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetMaxHnilWarns(mem, -1), "CVodeSetMaxHnilWarns"));

  const SparsePattern* pattern = system->sparse_pattern();
  bool sparse = options.linear_solver == LinearSolverKind::kSparse ||
                (options.linear_solver == LinearSolverKind::kAuto && pattern != nullptr &&
                 n >= options.sparse_threshold);
  if (sparse && pattern == nullptr) {
    return InvalidArgument("IntegratorOptions::linear_solver = kSparse; the system has no sparse Jacobian");
  }
  if (sparse) {
    const auto nnz = static_cast<sunindextype>(pattern->row_indices.size());
    self->matrix_.reset(SUNSparseMatrix(n, n, nnz > 0 ? nnz : 1, CSC_MAT, ctx.get()));
    if (!self->matrix_) return SolverFailure("SUNSparseMatrix failed");
    self->linear_solver_.reset(NewKluSolver(self->y_.get(), self->matrix_.get(), ctx.get()));
  } else {
    self->matrix_.reset(SUNDenseMatrix(n, n, ctx.get()));
    if (!self->matrix_) return SolverFailure("SUNDenseMatrix failed");
    self->linear_solver_.reset(NewDenseLuSolver(self->y_.get(), self->matrix_.get(), ctx.get()));
  }
  if (!self->linear_solver_) return SolverFailure("creating the linear solver failed");
  UseFastMatrixOps(self->matrix_.get());
  SOMA_RETURN_IF_ERROR(CheckFlag(
      CVodeSetLinearSolver(mem, self->linear_solver_.get(), self->matrix_.get()), "CVodeSetLinearSolver"));
  if (sparse) {
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetJacFn(mem, SparseJacThunk), "CVodeSetJacFn"));
  } else if (system->has_dense_jacobian()) {
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetJacFn(mem, DenseJacThunk), "CVodeSetJacFn"));
  }
  if (system->num_roots() > 0) {
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeRootInit(mem, system->num_roots(), RootThunk), "CVodeRootInit"));
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetNoInactiveRootWarn(mem), "CVodeSetNoInactiveRootWarn"));
    self->roots_found_.assign(system->num_roots(), 0);
  }
  return self;
}

OdeIntegrator::~OdeIntegrator() {
  if (cvode_mem_ != nullptr) CVodeFree(&cvode_mem_);
}

const double* OdeIntegrator::y() const { return N_VGetArrayPointer(y_.get()); }

Status OdeIntegrator::Reinit(double t, std::span<const double> y) {
  before_reinit_ = stats();
  pending_root_ = false;
  std::copy(y.begin(), y.end(), N_VGetArrayPointer(y_.get()));
  t_ = t;
  stop_time_set_ = false;
  return CheckFlag(CVodeReInit(cvode_mem_, t, y_.get()), "CVodeReInit");
}

Result<OdeIntegrator::Stop> OdeIntegrator::Advance(double t_target, double t_stop) {
  if (t_target <= t_) return Stop::kReachedTime;
  // SUNDIALS 6.4 has no CVodeClearStopTime and keeps a reached stop time
  // (even across CVodeReInit), so "no stop" is a stop time far away.
  const double stop = std::isfinite(t_stop) ? t_stop : std::numeric_limits<double>::max();
  if (!stop_time_set_ || stop_time_ != stop) {
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeSetStopTime(cvode_mem_, stop), "CVodeSetStopTime"));
    stop_time_set_ = true;
    stop_time_ = stop;
  }
  if (pending_root_) {
    // A root found beyond an earlier target (one-step mode): report it now.
    if (pending_root_time_ <= t_target) {
      pending_root_ = false;
      SOMA_RETURN_IF_ERROR(CheckFlag(CVodeGetDky(cvode_mem_, pending_root_time_, 0, y_.get()), "CVodeGetDky"));
      t_ = pending_root_time_;
      return Stop::kRoot;
    }
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeGetDky(cvode_mem_, t_target, 0, y_.get()), "CVodeGetDky"));
    t_ = t_target;
    return Stop::kReachedTime;
  }
  double tret = t_;
  int flag = 0;
  if (!system_->wants_steps()) {
    flag = CVode(cvode_mem_, t_target, y_.get(), &tret, CV_NORMAL);
  } else {
    // One step at a time so that the system sees every step; the stop time
    // keeps the steps from passing a scheduled event.
    double tn = t_;
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeGetCurrentTime(cvode_mem_, &tn), "CVodeGetCurrentTime"));
    flag = CV_SUCCESS;
    tret = tn;
    while (flag == CV_SUCCESS && tret < t_target) {
      flag = CVode(cvode_mem_, t_target, y_.get(), &tret, CV_ONE_STEP);
      if (flag < 0) break;
      SOMA_RETURN_IF_ERROR(CheckFlag(CVodeGetDky(cvode_mem_, tret, 1, ydot_.get()), "CVodeGetDky"));
      system_->OnStep(tret, N_VGetArrayPointer(y_.get()), N_VGetArrayPointer(ydot_.get()));
    }
    if (flag == CV_ROOT_RETURN && tret > t_target) {
      // In one-step mode CVODES reports roots beyond the target: keep the
      // root for the next call and report the target first.
      SOMA_RETURN_IF_ERROR(CheckFlag(CVodeGetRootInfo(cvode_mem_, roots_found_.data()), "CVodeGetRootInfo"));
      pending_root_ = true;
      pending_root_time_ = tret;
      flag = CV_SUCCESS;
    }
    if (flag >= 0 && flag != CV_ROOT_RETURN && tret >= t_target) {
      // At or past the target (possibly from an earlier call, without a new
      // step): the solution there is the interpolant's.
      SOMA_RETURN_IF_ERROR(CheckFlag(CVodeGetDky(cvode_mem_, t_target, 0, y_.get()), "CVodeGetDky"));
      tret = t_target;
    }
  }
  if (flag < 0) {
    return CheckFlag(flag, "CVode at t = " + std::to_string(t_)).WithContext("integration");
  }
  t_ = tret;
  if (flag == CV_ROOT_RETURN) {
    SOMA_RETURN_IF_ERROR(CheckFlag(CVodeGetRootInfo(cvode_mem_, roots_found_.data()), "CVodeGetRootInfo"));
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
  return s;
}

IntegratorStats OdeIntegrator::CurrentStats() const {
  IntegratorStats s;
  long v = 0;
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
