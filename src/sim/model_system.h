#pragma once
// Adapts a CompiledModel to solvers::OdeSystem: copies (t, y) into the
// workspace and runs the compiled right-hand side, Jacobian and root
// programs. No allocation per call. Internal to soma::sim.

#include <string>
#include <utility>
#include <vector>

#include "sim/algebraic_solver.h"
#include "sim/compiled_model.h"
#include "solvers/ode_integrator.h"

namespace soma::sim {

// The model's right-hand side for several members at once, one per SIMD
// lane (solvers::DormandPrinceLanes), each lane with its own workspace:
// SetLane copies a member's (parameters and discrete values included, kept
// until the next SetLane); RhsLanes then sets time and states per lane and
// runs the right-hand side's native code over lanes: with the bits
// ModelSystem::Rhs gives that member where it was compiled with
// LaneMath::kExact, within rounding of them with kVector. Requires cm.rhs().lanes() > 0 (CompileOptions::native_lanes:
// models with ODE states and without algebraic rules, delays or fast
// reactions, whose Rhs is exactly Load and the program).
class ModelLanesSystem : public solvers::LanesSystem {
 public:
  explicit ModelLanesSystem(const CompiledModel& cm);
  int num_states() const override { return static_cast<int>(n_); }
  int lanes() const override { return static_cast<int>(w_); }
  // Lane `lane`'s workspace from a member's (num_slots values).
  void SetLane(int lane, const double* workspace);
  uint64_t RhsLanes(const double* t, const double* y, double* f) override;
  // The states' slots of the lanes' workspace (RhsLanes skips the copy
  // when y is there).
  double* state_buffer() override { return in_.data() + w_; }

 private:
  const CompiledModel& cm_;
  size_t n_, w_, slots_;
  std::vector<double> in_;  // slot s of lane l at s * w_ + l
};

class ModelSystem : public solvers::OdeSystem {
 public:
  // `in` is the simulation's workspace; it must outlive this object. With
  // `scheduled_time_roots`, relations between time and a constant
  // (Relation::time_direction != 0) are left out of the root functions: the
  // driver stops at their time points itself. Root i is then relation
  // cm.searched_relations()[i]; otherwise root i is relation i.
  ModelSystem(const CompiledModel& cm, std::vector<double>& in, bool scheduled_time_roots = false);

  // A model without ODE states is integrated with one dummy state y' = 0 so
  // that time still advances through the integrator (roots, events).
  int num_states() const override { return n_ == 0 ? 1 : static_cast<int>(n_); }
  int Rhs(double t, const double* y, double* ydot) override;
  // The states' slots of the workspace (Load skips the copy when y is there).
  double* state_buffer() override { return n_ == 0 ? nullptr : in_.data() + 1; }
  // With algebraic rules the Jacobian would need dz/dy; CVODES then uses
  // difference quotients instead.
  bool has_dense_jacobian() const override { return algebraic_.empty(); }
  int DenseJacobian(double t, const double* y, double* jac) override;
  const solvers::SparsePattern* sparse_pattern() const override;
  int SparseJacobian(double t, const double* y, double* values) override;
  int num_roots() const override { return static_cast<int>(roots_.num_outputs()); }
  int Roots(double t, const double* y, double* g) override;

  // The simulation's workspace (time, states, discrete values: num_slots).
  const double* workspace() const { return in_.data(); }
  void Gather(double* y) const;        // workspace -> y
  // y -> workspace, then solves the algebraic rules and updates delayed
  // values. False if the algebraic rules cannot be solved or a delay is bad
  // (delay_error()).
  bool Scatter(const double* y);

  // Delay differential equations: the history of the workspace, recorded at
  // every integrator step and after events, gives delay(x, tau) the value of
  // x at time - tau (cubic Hermite interpolation of the states; discrete
  // values as they were; the initial state before the start).
  bool wants_steps() const override { return !cm_.delays().empty(); }
  void OnStep(double t, const double* y, const double* ydot) override;
  // Records the current workspace (after the start or after events).
  void RecordHistory();
  // Before the start, delayed values read the initial workspace of that past
  // time: declared values with these overrides (SimulationOptions::overrides,
  // resolved) and initial assignments, and the states held at
  // `initial_state` when that is given (SimulationOptions::initial_state).
  void SetBeforeStart(std::vector<std::pair<uint32_t, double>> overrides, std::vector<double> initial_state);
  // Smallest positive delay at the current state (infinity if none).
  double MinimumDelay();
  // At a steady state x(t - tau) = x(t): while on, delay(x, tau) takes the
  // value of x on the current workspace (with time t - tau), not on the
  // history. Nested delays settle in as many passes as there are delays.
  // The analytic Jacobian leaves out the delayed values' dependence on y,
  // so callers take difference quotients instead. Off by default.
  void set_delays_at_equilibrium(bool on) { delays_at_equilibrium_ = on; }
  // SBML requires delay(x, tau) to have tau >= 0: the first delay found
  // negative or not a number, with its time, as a message; empty if none.
  // Its value is then NaN and Rhs fails for good (smaller steps would only
  // crawl towards the point where it turns bad). Simulator stops the
  // integrator at the end of the run for delay models, so a delay that turns
  // negative only after the end is never evaluated there.
  const std::string& delay_error() const { return delay_error_; }
  // delay_error() as a kInvalidModel status; Ok while there is none.
  Status DelayStatus() const { return delay_error_.empty() ? Status::Ok() : InvalidModel(delay_error_); }

 private:
  bool Load(double t, const double* y);
  bool UpdateDelays();  // false if a delay is bad (delay_error_)
  // The delay tau of delay k on the current workspace; false (delay_error_
  // set if it was empty, the delay's slot NaN) unless tau >= 0.
  bool Tau(size_t k, double* tau);
  void PastWorkspace(double t, double* out) const;
  void Record(const double* ydot);

  const CompiledModel& cm_;
  std::vector<double>& in_;
  size_t n_;
  const expr::Program& roots_;  // cm_.roots() or cm_.searched_roots()
  AlgebraicSolver algebraic_;
  std::vector<double> rhs_scratch_, jac_scratch_, root_scratch_, jac_values_;
  // History for delays: times, workspace snapshots and state derivatives.
  std::vector<double> history_t_, history_in_, history_ydot_, past_, ydot_now_, delay_out_;
  std::vector<std::vector<double>> delay_scratch_;  // per delay: value, delay, value before start
  // The workspace before the start (initial values at a past time), reused,
  // and what it is made from (SetBeforeStart).
  std::vector<double> before_start_, before_start_values_, before_start_scratch_;
  std::vector<std::pair<uint32_t, double>> before_start_overrides_;
  std::vector<double> before_start_states_;
  bool delays_at_equilibrium_ = false;
  std::string delay_error_;
};

}  // namespace soma::sim
