#pragma once
// An ODE initial value problem solved with SUNDIALS CVODES: BDF (stiff),
// Adams (non-stiff) or automatic stiffness detection (Adams with fixed-point
// iteration until the problem proves stiff, then BDF; the strategy of
// LSODA), a dense or sparse (KLU) direct linear solver with the system's
// analytic Jacobian, and root finding for events; or with Soma's explicit
// Runge-Kutta stepper (Dormand-Prince 5(4), runge_kutta.h) for non-stiff
// problems.
//
// The integrator advances in pieces: Advance() stops at an output time, at a
// stop time (a scheduled event) or at a root, and the caller may change the
// state and Reinit() before going on.
//
// Thread safety: one integrator per thread; distinct integrators (each with
// its own SundialsContext) may run concurrently.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "core/status.h"
#include "solvers/runge_kutta.h"
#include "solvers/sundials.h"

namespace soma::solvers {

// Compressed sparse column pattern of a Jacobian (n x n).
struct SparsePattern {
  std::vector<int64_t> column_starts;  // size n + 1
  std::vector<int64_t> row_indices;    // size nnz, rows ascending within a column
};

// The system y' = f(t, y) with optional Jacobian and root functions. Callback
// return values follow SUNDIALS: 0 success, > 0 recoverable failure (e.g. a
// non-finite value; CVODES retries with a smaller step), < 0 fatal.
class OdeSystem {
 public:
  virtual ~OdeSystem() = default;
  virtual int num_states() const = 0;
  virtual int Rhs(double t, const double* y, double* ydot) = 0;
  // Where Rhs would copy y to, if the system keeps its own copy (a model's
  // workspace): an integrator may compute a state it only passes to Rhs
  // right there and skip the copy. Anything the system does may overwrite
  // it. nullptr (the default): no such place.
  virtual double* state_buffer() { return nullptr; }

  // Dense Jacobian, column-major: jac[i + j * n] = d f_i / d y_j.
  virtual bool has_dense_jacobian() const { return false; }
  virtual int DenseJacobian(double t, const double* y, double* jac) { return -1; }

  // Sparse Jacobian: values in the order of sparse_pattern().
  virtual const SparsePattern* sparse_pattern() const { return nullptr; }
  virtual int SparseJacobian(double t, const double* y, double* values) { return -1; }

  virtual int num_roots() const { return 0; }
  virtual int Roots(double t, const double* y, double* g) { return 0; }

  // Systems that need every internal step (e.g. to keep a history for delay
  // differential equations) return true; OnStep then receives the solution
  // and its derivative after each successful step.
  virtual bool wants_steps() const { return false; }
  virtual void OnStep(double t, const double* y, const double* ydot) {}

  // Forward sensitivities (used only after OdeIntegrator::EnableSensitivities):
  // sdot[k] = J(t, y) s[k] + d f / d p_k for k < ns, each vector of
  // num_states() entries; ydot = f(t, y) is given. Return values as for Rhs.
  virtual int SensitivityRhs(double t, const double* y, const double* ydot, int ns,
                             const double* const* s, double* const* sdot) { return -1; }
};

// How CVODES corrects the sensitivities (Hindmarsh & Serban, CVODES guide,
// "Forward sensitivity analysis"): kStaggered solves the state corrector
// first, then all sensitivities (usually cheaper); kSimultaneous corrects
// states and sensitivities together.
enum class SensitivityMethod { kStaggered, kSimultaneous };

struct SensitivityOptions {
  SensitivityMethod method = SensitivityMethod::kStaggered;
  // Sensitivities take part in the local error test (more accurate, more
  // steps). When false only the states control the step size.
  bool error_control = true;
  // Typical magnitude of each parameter (CVODES' pbar); empty means 1 for
  // all. Sensitivities use the integrator's rel_tol and abs_tol / scale
  // (CVodeSensEEtolerances). Each must be finite and > 0; size 0 or ns.
  std::vector<double> scales;

  // Names the field and the rule it broke.
  Status Validate(int ns) const;
};

enum class OdeMethod {
  kBdf,    // BDF orders 1-5 with Newton iteration (stiff problems)
  kAdams,  // Adams-Moulton orders 1-12 with Newton iteration
  // Adams-Moulton with fixed-point (functional) iteration, so no Jacobian
  // and no linear algebra, while the problem is non-stiff; every
  // IntegratorOptions::stiffness_check_steps steps the integrator estimates
  // the spectral radius rho of the Jacobian (power iteration) and switches
  // to BDF with Newton iteration when the Adams step h is held down by
  // stability (h * rho >= 0.4 at two checks in a row, which accuracy alone
  // would not allow while the fast modes are active), or when fixed-point
  // iteration failed to converge in a quarter of the steps since the last
  // check. When h stopped growing at h * rho >= 0.05 (or >= 0.01 for five
  // checks in a row: high-order Adams is held by stability there) it tries
  // BDF for one check and keeps it if BDF's steps are at least twice as long. With forward
  // sensitivities it is BDF from the start. After a switch it stays on BDF
  // until the next restart (Reinit), where it tries Adams again.
  // At the start and after every restart, a segment that is short for the
  // model's time scales (rho * length <= 1000, length to the next stop time
  // or to IntegratorOptions::end_time) runs with the explicit Runge-Kutta
  // method below instead (not for systems that want every step, nor with
  // sensitivities); should it turn stiff after all, the segment goes back
  // to Adams/BDF from its last step.
  kAuto,
  // Explicit Runge-Kutta, the Dormand-Prince 5(4) pair (DormandPrince,
  // runge_kutta.h), for non-stiff problems. A one-step method restarts after an event at
  // full order with no history to rebuild, where a multistep method starts
  // again at order 1 with small steps: on models with frequent input changes
  // (doses, meals) it takes fewer steps than Adams. No Jacobian, no linear
  // algebra; on a stiff problem its steps are held down by stability and it
  // runs into max_steps. No forward sensitivities (CVODES only).
  kRungeKutta,
};
enum class LinearSolverKind {
  kAuto,      // sparse (KLU) when the system has a sparse pattern and at
              // least IntegratorOptions::sparse_threshold states, else dense
  kDense,
  kSparse,
};

struct IntegratorOptions {
  OdeMethod method = OdeMethod::kAuto;
  LinearSolverKind linear_solver = LinearSolverKind::kAuto;
  double rel_tol = 1e-6;       // > 0
  double abs_tol = 1e-12;      // > 0, applied to every state
  long max_steps = 500000;     // >= 1; internal steps between two stops
  double max_step = 0.0;       // >= 0; 0 = unlimited
  double initial_step = 0.0;   // >= 0; 0 = CVODES' estimate
  // >= 1; states from which kAuto picks KLU. Measured on bench/ models: KLU
  // beats SUNDIALS' dense LU from about 20 states on (mass-30: 1.9 vs 2.8 ms).
  int sparse_threshold = 20;
  // >= 1; kAuto only: Adams steps between two stiffness checks.
  int stiffness_check_steps = 40;
  // kAuto only: where the run ends (+infinity: unknown). After a restart
  // with no stop before it, the segment to here decides the stepper as a
  // segment to the next stop does; the integrator is not stopped here.
  double end_time = std::numeric_limits<double>::infinity();
  // The explicit stepper hands its step attempts to this (not owned; null:
  // it makes them itself). Trials set it to batch members' attempts in SIMD
  // lanes (sim::LaneBatch); the results are the same bit for bit.
  AttemptHook* attempt_hook = nullptr;

  // Names the field and the rule it broke, e.g.
  // "IntegratorOptions::rel_tol = -1; must be > 0".
  Status Validate() const;
};

struct IntegratorStats {
  OdeMethod method = OdeMethod::kAuto;  // as asked for in IntegratorOptions
  long steps = 0;
  long rhs_evaluations = 0;
  long jacobian_evaluations = 0;
  long root_evaluations = 0;
  long error_test_failures = 0;
  long nonlinear_convergence_failures = 0;
  long linear_solver_setups = 0;
  // OdeMethod::kAuto: the first time from which BDF was kept (NaN while
  // Adams was used throughout, and for kBdf/kAdams), how often BDF was
  // chosen (it goes back to Adams at every restart), and how often BDF was
  // tried for one check and given up because its steps were not longer.
  double bdf_from = std::numeric_limits<double>::quiet_NaN();
  long method_switches = 0;
  long bdf_probes = 0;
  // kAuto: segments between restarts run with the explicit Runge-Kutta
  // method, and how many of them went back to Adams/BDF.
  long rk_segments = 0;
  long rk_fallbacks = 0;
};

class OdeIntegrator {
 public:
  // `system` must outlive the integrator. `y0.size()` == system->num_states() >= 1.
  static Result<std::unique_ptr<OdeIntegrator>> Create(const SundialsContext& ctx, OdeSystem* system,
                                                       double t0, std::span<const double> y0,
                                                       const IntegratorOptions& options);
  ~OdeIntegrator();
  OdeIntegrator(const OdeIntegrator&) = delete;
  OdeIntegrator& operator=(const OdeIntegrator&) = delete;

  // Restarts at (t, y) after a discontinuity. Statistics accumulate.
  Status Reinit(double t, std::span<const double> y);

  enum class Stop { kReachedTime, kRoot };
  // Integrates to `t_target`, which must not exceed `t_stop`. The integrator
  // may step past t_target (y() is then interpolated there) but never past
  // t_stop, where a discontinuity follows (a scheduled event; +infinity if
  // none). Returns kRoot if a root function crossed zero first (then t() is
  // the root and roots_found() tells which, with direction +1 rising / -1
  // falling). y() is the solution at t().
  Result<Stop> Advance(double t_target, double t_stop);

  double t() const { return t_; }
  const double* y() const;
  // The solution at `t` within the last step (CVODES' interpolant), into y
  // (num_states() values). Errors outside the last step or before any step.
  Status StateAt(double t, std::span<double> y) const;
  std::span<const int> roots_found() const { return roots_found_; }
  IntegratorStats stats() const;

  // Forward sensitivity analysis with CVODES (optional; call once, right
  // after Create). `s0` holds ns vectors of num_states() entries one after
  // the other (s0[k * n + i] = d y_i / d p_k at t0); the system's
  // SensitivityRhs gives their derivatives. Errors: ns < 1, a size
  // mismatch, bad options (naming the field), CVODES failures.
  Status EnableSensitivities(int ns, std::span<const double> s0, const SensitivityOptions& options);
  // Restarts the sensitivities at t() with `s` (layout as s0); call after
  // Reinit, e.g. when an event made them jump.
  Status ReinitSensitivities(std::span<const double> s);
  // The sensitivities at t() (layout as s0) into `s`.
  Status GetSensitivities(std::span<double> s) const;
  int num_sensitivities() const { return ns_; }
  // Calls of SensitivityRhs, accumulated across re-initialisations.
  long sensitivity_rhs_evaluations() const;

 private:
  OdeIntegrator() = default;
  IntegratorStats CurrentStats() const;
  // Creates and sets up the CVODES memory for `method` (kBdf or kAdams) at
  // (t, y_), with Newton iteration on the linear solver, or with fixed-point
  // iteration when `fixed_point`.
  Status InitCvode(OdeMethod method, bool fixed_point, double t);
  // kAuto while still on Adams: decides whether the problem is stiff at the
  // current point and, if so, continues with BDF from there.
  Status CheckStiffness();
  // kAuto's state: Adams with fixed-point iteration, BDF on trial (a probe,
  // see CheckStiffness), BDF; kOff for kBdf/kAdams and once sensitivities
  // are on.
  enum class AutoPhase { kOff, kAdams, kProbe, kBdf };
  Status SwitchMethod(AutoPhase to);
  bool checking() const { return !erk_active_ && (phase_ == AutoPhase::kAdams || phase_ == AutoPhase::kProbe); }
  // CVODES' step limit per CVode call: while checking (Adams, probe) it
  // returns every stiffness_check_steps steps and Advance() counts them
  // against max_steps.
  long MaxStepsPerCall() const {
    return checking() ? std::min<long>(options_.max_steps, options_.stiffness_check_steps) : options_.max_steps;
  }
  // Creates the explicit stepper at (t, y_) and makes it the active one.
  Status InitErk(double t);
  // The active stepper (CVODES or DormandPrince) behind one interface.
  // Evolve returns CVODES' flag or DormandPrince's (they share the values of
  // success, stop-time and root returns and of too-much-work).
  int Evolve(double t_out, double* t_ret, bool one_step);
  Status Dky(double t, int k, N_Vector out) const;
  Status GetRootInfo();
  Status SetStopTime(double t_stop);
  Status CurrentTime(double* t) const;
  // The error of a failed Evolve as a Status (with the time and, for the
  // explicit method, the hint that the problem may be stiff).
  Status EvolveFailure(int flag) const;
  // Estimate of the spectral radius of d f / d y at (t, y) (power iteration).
  // With an analytic Jacobian whose bound sqrt(||J||_1 ||J||_inf) (at least
  // ||J||_2, which bounds every estimate the iteration makes) is at most
  // `enough`, returns that bound without iterating: a caller that only asks
  // "at most `enough`?" gets the iteration's answer for less.
  double SpectralRadius(double t, const double* y, double enough = 0);
  static int RhsThunk(double t, N_Vector y, N_Vector ydot, void* user);
  static int RootThunk(double t, N_Vector y, double* g, void* user);
  static int DenseJacThunk(double t, N_Vector y, N_Vector fy, SUNMatrix J, void* user, N_Vector,
                           N_Vector, N_Vector);
  static int SparseJacThunk(double t, N_Vector y, N_Vector fy, SUNMatrix J, void* user, N_Vector,
                            N_Vector, N_Vector);

  OdeSystem* system_ = nullptr;
  IntegratorOptions options_;
  SUNContext sun_ctx_ = nullptr;
  std::unique_ptr<DormandPrince> erk_;  // kRungeKutta, and kAuto's short segments
  bool erk_active_ = false;        // erk_ (not CVODES) runs the current segment
  bool restart_pending_ = false;   // kAuto after Reinit: the stepper is chosen in Advance
  long rk_segments_ = 0;
  long rk_fallbacks_ = 0;
  // kAuto at the start and after a restart: the explicit Runge-Kutta method
  // runs the segment to the next stop time when rho * length <=
  // kRkSegmentStiffness (rho the Jacobian's spectral radius at the segment's
  // start). Dormand-Prince's stability
  // interval on the negative real axis is about 3.3, so stability holds it
  // to at most ~300 steps there; on the T1D day (rho = 0.54/min) this takes
  // in the 1-minute meal segments and the hours after a meal (10: only the
  // meal minutes, 2,192 steps against 1,601 with 1000, before RestartErk kept
  // the step size across restarts).
  static constexpr double kRkSegmentStiffness = 1000.0;
  static constexpr long kRkSegmentMaxSteps = 5000;  // per call, then Adams/BDF
  // Decides the stepper for the segment that starts at t_ (restart_pending_).
  Status ChooseSegmentStepper(double t_stop);
  Status StartAdams();
  // Restarts erk_ at t_ and y_, the first step erk_carried_step_ (unless
  // the options set one).
  Status RestartErk();
  double erk_carried_step_ = 0;   // Reinit: erk_'s next step when it ran the last segment
  double erk_segment_start_ = 0;  // where erk_'s current segment started
  // kAuto: the explicit segment failed; Adams from erk_'s last step.
  Status FallBackToAdams();
  void* cvode_mem_ = nullptr;      // the active one of the two below
  void* adams_mem_ = nullptr;      // kAuto: Adams with fixed-point iteration
  void* newton_mem_ = nullptr;     // kBdf/kAdams, and kAuto's BDF, with Newton iteration
  long method_switches_ = 0;
  long bdf_probes_ = 0;
  AutoPhase phase_ = AutoPhase::kOff;
  double probe_adams_step_ = 0;    // Adams' step when the probe started
  int probe_wait_ = 0;             // checks between probes, doubled after a failed one
  int checks_until_probe_ = 0;
  double bdf_from_ = std::numeric_limits<double>::quiet_NaN();
  long steps_at_check_ = 0;        // CVODES step count at the last stiffness check
  long conv_fails_at_check_ = 0;
  bool limited_before_ = false;     // the last check found h * rho >= 0.4
  double h_at_check_ = 0;          // the last step at the last check
  int stalled_checks_ = 0;         // checks in a row with h held and h * rho >= 0.01
  SunNonlinearSolverPtr fixed_point_;
  std::vector<double> power_v_, power_w_, power_jac_;  // SpectralRadius workspace
  NVectorPtr y_;
  NVectorPtr ydot_;   // derivative at the last step, for OnStep
  IntegratorStats before_reinit_;  // CVODES resets its counters on re-initialisation
  SunMatrixPtr matrix_;
  SunLinearSolverPtr linear_solver_;
  std::vector<int> roots_found_;
  double t_ = 0.0;
  bool stop_time_set_ = false;
  bool pending_root_ = false;       // one-step mode: a root beyond the last target
  double pending_root_time_ = 0.0;
  double stop_time_ = 0.0;

  // Forward sensitivities (EnableSensitivities).
  static int SensRhsThunk(int ns, double t, N_Vector y, N_Vector ydot, N_Vector* ys, N_Vector* ysdot,
                          void* user, N_Vector, N_Vector);
  Status SetSensitivityVectors(std::span<const double> s);
  int ns_ = 0;
  bool sens_simultaneous_ = false;
  std::vector<NVectorPtr> sens_;
  std::vector<N_Vector> sens_raw_;
  std::vector<const double*> sens_in_;
  std::vector<double*> sens_out_;
  long sens_rhs_before_reinit_ = 0;
};

}  // namespace soma::solvers
