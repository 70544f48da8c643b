#include "sim/sensitivity.h"

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <utility>

#include <Eigen/Dense>

#include "sim/algebraic_solver.h"
#include "sim/event_runner.h"
#include "sim/model_system.h"
#include "sim/sensitivity_program.h"
#include "sim/time_root_schedule.h"

namespace soma::sim {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// The sensitivities of the variables algebraic rules determine, from the
// others' in the extended workspace (SensitivityProgram::algebraic_rhs):
// s_z = -(d r / d z)^-1 b. False where d r / d z is singular.
class AlgebraicSensitivities {
 public:
  AlgebraicSensitivities(const CompiledModel& cm, const SensitivityProgram& sp)
      : cm_(cm), sp_(sp), nz_(static_cast<long>(sp.algebraic_slots.size())), np_(static_cast<long>(sp.parameters.size())) {
    if (nz_ == 0) return;
    jacobian_.resize(static_cast<size_t>(nz_ * nz_));
    b_.resize(static_cast<size_t>(nz_ * np_));
    jacobian_scratch_ = cm.algebraic_jacobian().NewScratch();
    b_scratch_ = sp.algebraic_rhs.NewScratch();
  }
  bool empty() const { return nz_ == 0; }
  bool Update(double* ws) {
    if (nz_ == 0) return true;
    cm_.algebraic_jacobian().Run(ws, jacobian_.data(), jacobian_scratch_.data());
    sp_.algebraic_rhs.Run(ws, b_.data(), b_scratch_.data());
    lu_.compute(Eigen::Map<const Eigen::MatrixXd>(jacobian_.data(), nz_, nz_));
    x_ = lu_.solve(-Eigen::Map<const Eigen::MatrixXd>(b_.data(), nz_, np_));
    if (!x_.allFinite()) return false;
    for (long k = 0; k < np_; ++k) {
      for (long j = 0; j < nz_; ++j) ws[sp_.SensitivitySlot(sp_.algebraic_slots[static_cast<size_t>(j)], static_cast<size_t>(k))] = x_(j, k);
    }
    return true;
  }

 private:
  const CompiledModel& cm_;
  const SensitivityProgram& sp_;
  const long nz_, np_;
  std::vector<double> jacobian_, b_, jacobian_scratch_, b_scratch_;
  Eigen::PartialPivLU<Eigen::MatrixXd> lu_;
  Eigen::MatrixXd x_;
};

// Same rules as the Simulator's (simulator.cpp): the truth of a relation from
// its root function, and just after a crossing in `direction`.
class SensitivitySystem : public ModelSystem {
 public:
  SensitivitySystem(const CompiledModel& cm, std::vector<double>& ws, const SensitivityProgram& sp)
      : ModelSystem(cm, ws, /*scheduled_time_roots=*/true), ws_(ws), sp_(sp), product_(sp.NewProductScratch()),
        out_(sp.num_states * sp.parameters.size()), algebraic_(cm, sp), cm_fast_(cm.fast_reactions()) {}

  // The product form of SensitivityProgram::rhs (ProductRhs: the same values,
  // loops over the parameters instead of one bytecode operation per term).
  // The states' sensitivities are read from s; the workspace's copies of
  // them are left as they are (the integration loop scatters them).
  int SensitivityRhs(double t, const double* y, const double*, int ns, const double* const* s,
                     double* const* sdot) override {
    const size_t n = sp_.num_states;
    ws_[0] = t;
    if (algebraic_.empty()) {
      std::copy(y, y + n, ws_.begin() + 1);
    } else {
      // The algebraic variables and their sensitivities at this point: they
      // are read from the workspace, with the states' from s.
      if (!Scatter(y)) return 1;
      for (int k = 0; k < ns; ++k) std::copy_n(s[k], n, ws_.begin() + sp_.SensitivitySlot(1, static_cast<size_t>(k)));
      if (!algebraic_.Update(ws_.data())) return 1;
    }
    sp_.ProductRhs(ws_.data(), s, out_.data(), product_);
    for (int k = 0; k < ns; ++k) {
      for (size_t i = 0; i < n; ++i) {
        sdot[k][i] = out_[i + k * n];
        if (!std::isfinite(sdot[k][i])) return 1;  // recoverable: CVODES retries with a smaller step
      }
    }
    return 0;
  }

  // Sensitivities of the states: workspace <-> s (s[k * n + i]).
  void GatherSensitivities(std::vector<double>& s) const {
    const size_t n = sp_.num_states;
    for (size_t k = 0; k < sp_.parameters.size(); ++k) {
      std::copy_n(ws_.begin() + sp_.SensitivitySlot(1, k), n, s.begin() + static_cast<long>(k * n));
    }
  }
  void ScatterSensitivities(const std::vector<double>& s) {
    const size_t n = sp_.num_states;
    for (size_t k = 0; k < sp_.parameters.size(); ++k) {
      std::copy_n(s.begin() + static_cast<long>(k * n), n, ws_.begin() + sp_.SensitivitySlot(1, k));
    }
  }
  // After an event assigned fast species: each moiety is recomputed from
  // their amounts (FastEquilibrium::Equilibrate), and so is its sensitivity.
  void RecomputeMoietySensitivities() {
    const CompiledModel::FastReactions& fast = cm_fast_;
    for (const auto& m : fast.moieties) {
      for (size_t k = 0; k < sp_.parameters.size(); ++k) {
        double sum = 0.0;
        for (size_t j = 0; j < fast.species_slots.size(); ++j) {
          sum += m.coefficients[j] * ws_[sp_.SensitivitySlot(fast.species_slots[j], k)];
        }
        ws_[sp_.SensitivitySlot(m.slot, k)] = sum;
      }
    }
  }
  // The algebraic variables' sensitivities from the states' in the
  // workspace (after ScatterSensitivities or events).
  Status UpdateAlgebraicSensitivities(double t) {
    // A fast reaction switched off (CompiledModel::FastReactions::Switch):
    // its extent would need its own sensitivities, reset at each switch.
    for (const auto& sw : cm_fast_.switches) {
      if (ws_[sw.off_slot] == 0.0) continue;
      return Unsupported("sensitivities: at t = " + std::to_string(t) + " fast reaction '" +
                         cm_fast_.reaction_ids[sw.reaction] +
                         "' is switched off (its kinetic law vanishes whatever the amounts); sensitivities of "
                         "fast reactions switched off are not supported");
    }
    if (algebraic_.Update(ws_.data())) return Status::Ok();
    return Unsupported("sensitivities: at t = " + std::to_string(t) +
                       " the algebraic rules do not determine their variables locally (their Jacobian with respect "
                       "to them is singular), so those variables have no sensitivities");
  }

 private:
  std::vector<double>& ws_;
  const SensitivityProgram& sp_;
  SensitivityProgram::ProductScratch product_;
  std::vector<double> out_;
  AlgebraicSensitivities algebraic_;
  const CompiledModel::FastReactions& cm_fast_;
};

// d w_v(t0) / d p_k for v = sp.initial_slots[i] at output i + k * n_init:
// the initial program on the declared values with `overrides` applied.
std::vector<double> InitialSlotSensitivities(const CompiledModel& cm, const SensitivityProgram& sp,
                                             const std::vector<std::pair<uint32_t, double>>& overrides, double start) {
  std::vector<double> declared = cm.DeclaredWorkspace(start);
  for (const auto& [slot, value] : overrides) declared[slot] = value;
  std::vector<double> s0(sp.initial.num_outputs());
  std::vector<double> scratch = sp.initial.NewScratch();
  sp.initial.Run(declared.data(), s0.data(), scratch.data());
  return s0;
}

// The sensitivities of an event's assigned values travel with them: computed
// with the values (trigger or execution time) and written to the sensitivity
// slots of the targets. During a crossing whose time moves with the
// parameters (BeginMovingTime), the assigned values' rates of change along
// the trajectory are kept too, and the executed targets recorded, for the
// d tau / dp part of the jump (SimulateWithSensitivities).
class SensitivityJumps : public EventExtension {
 public:
  SensitivityJumps(const CompiledModel& cm, const SensitivityProgram& sp, std::vector<double>& ws)
      : cm_(cm), sp_(sp), ws_(ws) {
    for (size_t e = 0; e < cm.events().size(); ++e) {
      scratch_.push_back(sp.event_assignments[e].NewScratch());
      rate_scratch_.push_back(sp.event_assignment_rates[e].NewScratch());
    }
  }
  void Compute(size_t e, std::vector<double>& extra) override {
    const CompiledEvent& ev = cm_.events()[e];
    const size_t m = ev.targets.size(), np = sp_.parameters.size();
    extra.resize(m * np + (moving_ ? m : 0));
    sp_.event_assignments[e].Run(ws_.data(), extra.data(), scratch_[e].data());
    if (!moving_) return;
    sp_.event_assignment_rates[e].Run(ws_.data(), extra.data() + m * np, rate_scratch_[e].data());
    if (ev.has_delay && ev.use_values_from_trigger_time) {
      // Values kept from a trigger time that moves: h(tau(p)) changes by
      // dh/dt dtau/dp besides the sensitivities (the states' jump for the
      // moving time is added only after the events). From then on the
      // value is frozen: its rate at the execution is 0.
      for (size_t a = 0; a < m; ++a) {
        for (size_t k = 0; k < np; ++k) extra[a + k * m] += extra[m * np + a] * dtau_[k];
        extra[m * np + a] = 0.0;
      }
    }
  }
  void Apply(size_t e, const std::vector<double>& extra) override {
    const auto& targets = cm_.events()[e].targets;
    const size_t m = targets.size(), np = sp_.parameters.size();
    const auto& fast = cm_.fast_reactions().species_slots;
    for (uint32_t target : targets) {
      if (std::find(fast.begin(), fast.end(), target) != fast.end()) fast_assigned_ = true;
    }
    for (size_t a = 0; a < m; ++a) {
      for (size_t k = 0; k < np; ++k) {
        ws_[sp_.SensitivitySlot(targets[a], k)] = extra[a + k * m];
      }
    }
    if (!moving_) return;
    ++executed_;
    if (extra.size() != m * np + m) {
      incomplete_ = true;  // values computed before the crossing (not at this time)
      return;
    }
    for (size_t a = 0; a < m; ++a) assigned_.emplace_back(targets[a], extra[m * np + a]);
  }

  // A delayed event fired at a moving time executes at a time that moves
  // by the same d tau / dp (its delay does not change with the state, the
  // parameters or time: CompileSensitivities).
  void Scheduled(size_t e, double execution_time) override {
    if (moving_) moving_executions_.push_back({execution_time, dtau_, cm_.events()[e].id});
  }
  // Whether a delayed event whose execution time moves is due at t: then
  // its d tau / dp into dtau (and the entry is taken). More than one due at
  // once is refused (kUnsupported).
  Result<bool> TakeMovingExecution(double t, std::vector<double>& dtau) {
    int due = 0;
    for (size_t i = 0; i < moving_executions_.size();) {
      if (moving_executions_[i].time > t) {
        ++i;
        continue;
      }
      if (++due > 1) {
        return Unsupported("sensitivities: at t = " + std::to_string(t) + " delayed events '" + dtau_owner_ + "' and '" +
                           moving_executions_[i].event + "' execute at one time that moves with the parameters");
      }
      dtau = moving_executions_[i].dtau;
      dtau_owner_ = moving_executions_[i].event;
      moving_executions_.erase(moving_executions_.begin() + static_cast<long>(i));
    }
    return due == 1;
  }

  void BeginMovingTime(const std::vector<double>& dtau) {
    moving_ = true;
    dtau_ = dtau;
    executed_ = 0;
    incomplete_ = false;
    assigned_.clear();
  }
  void EndMovingTime() { moving_ = false; }
  // Whether an event assigned a fast species since the last call.
  bool TakeFastAssigned() { return std::exchange(fast_assigned_, false); }
  int executed() const { return executed_; }
  bool incomplete() const { return incomplete_; }
  // (slot, d h / dt along the trajectory before the event) per assigned target.
  const std::vector<std::pair<uint32_t, double>>& assigned() const { return assigned_; }

 private:
  const CompiledModel& cm_;
  const SensitivityProgram& sp_;
  std::vector<double>& ws_;
  std::vector<std::vector<double>> scratch_, rate_scratch_;
  bool moving_ = false, incomplete_ = false, fast_assigned_ = false;
  int executed_ = 0;
  std::vector<double> dtau_;  // d tau / dp of the current moving time
  struct MovingExecution {
    double time;
    std::vector<double> dtau;
    std::string event;
  };
  std::vector<MovingExecution> moving_executions_;
  std::string dtau_owner_;
  std::vector<std::pair<uint32_t, double>> assigned_;
};

// The part of the sensitivity jump that comes from a crossing time tau that
// moves with the parameters (an event condition on the state, time >=
// t_dose with t_dose varied, a right-hand side switch on the state):
// d tau / dp_k = -(d g / dp_k) / (d g / dt-) of the condition g that
// crossed, and after the events s += (dh/dt- - f+) d tau / dp, with h the
// identity where nothing was assigned (the CVODES guide's jump conditions).
// Quantities marked "-" are on the trajectory arriving at tau: for a switch
// of the right-hand side, a few rounding steps before it on the last step's
// interpolant, where the switch still has its old value.
class MovingCrossing {
 public:
  MovingCrossing(const CompiledModel& cm, const SensitivityProgram& sp, SensitivitySystem& system,
                 SensitivityJumps& jumps, std::vector<double>& ws)
      : cm_(cm), sp_(sp), system_(system), jumps_(jumps), ws_(ws), n_(sp.num_states), np_(sp.parameters.size()),
        dg_(sp.relation_sensitivities.num_outputs()), g_rate_(sp.relation_rates.num_outputs()),
        dg_scratch_(sp.relation_sensitivities.NewScratch()), rate_scratch_(sp.relation_rates.NewScratch()),
        dtau_(np_), y_at_(n_), y_before_(n_), f_before_(n_), f_after_(n_), probe_(cm.num_slots()),
        roots_(cm.relations().size()), roots_scratch_(cm.roots().NewScratch()) {}

  // Before the events at t (ws holds the state and sensitivities there):
  // `crossing` gives each relation's crossing direction (0: none). Finds the
  // one whose time moves and prepares its jump; false if there is none.
  Result<bool> Begin(double t, std::span<const int> crossing, const solvers::OdeIntegrator& integrator) {
    if (n_ == 0 || np_ == 0) return false;
    sp_.relation_sensitivities.Run(ws_.data(), dg_.data(), dg_scratch_.data());
    const size_t nr = sp_.num_relations;
    int movers = 0;
    size_t mover = 0;
    for (size_t r = 0; r < nr; ++r) {
      if (crossing[r] == 0) continue;
      if (!cm_.relations()[r].for_event && sp_.continuous_switches) continue;  // f- = f+ asserted
      bool moves = false;
      for (size_t k = 0; k < np_; ++k) moves = moves || dg_[r + k * nr] != 0.0;
      if (!moves) continue;
      if (++movers > 1) {
        return Unsupported("sensitivities: at t = " + std::to_string(t) +
                           " two conditions whose times move with the parameters change at once");
      }
      mover = r;
    }
    if (movers == 0) return false;
    std::copy_n(ws_.begin() + 1, n_, y_at_.begin());
    double t_before = t;
    y_before_ = y_at_;
    if (cm_.relations()[mover].for_event) {
      sp_.relation_rates.Run(ws_.data(), g_rate_.data(), rate_scratch_.data());
    } else {
      std::copy_n(ws_.begin(), probe_.size(), probe_.begin());
      bool old_side = false;
      double delta = 4 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::abs(t));
      for (int tries = 0; tries < 24 && !old_side; ++tries, delta *= 4) {
        t_before = t - delta;
        // Only within the last step: beyond it the interpolant is undefined.
        if (!integrator.StateAt(t_before, y_before_).ok()) break;
        probe_[0] = t_before;
        std::copy(y_before_.begin(), y_before_.end(), probe_.begin() + 1);
        cm_.roots().Run(probe_.data(), roots_.data(), roots_scratch_.data());
        old_side = crossing[mover] * roots_[mover] < 0;
      }
      if (!old_side) {
        return Unsupported("sensitivities: at t = " + std::to_string(t) +
                           " a right-hand side switch could not be evaluated on its old side");
      }
      sp_.relation_rates.Run(probe_.data(), g_rate_.data(), rate_scratch_.data());
    }
    const double rate = g_rate_[mover];
    if (!(std::abs(rate) > 0.0) || !std::isfinite(rate)) {
      return Unsupported("sensitivities: at t = " + std::to_string(t) + " a condition is touched, not crossed (its rate is " +
                         std::to_string(rate) + "), so its time has no derivative");
    }
    for (size_t k = 0; k < np_; ++k) dtau_[k] = -dg_[mover + k * nr] / rate;
    system_.Rhs(t_before, y_before_.data(), f_before_.data());
    mover_ = mover;
    direction_ = crossing[mover];
    relation_moves_ = true;
    Restore(t);
    jumps_.BeginMovingTime(dtau_);
    return true;
  }

  // Before the events at t, where no condition crossed at a moving time:
  // whether a delayed event that fired at a moving time executes now (its
  // execution time moves with the same d tau / dp); prepares its jump.
  Result<bool> BeginExecution(double t) {
    if (n_ == 0 || np_ == 0) return false;
    SOMA_ASSIGN_OR_RETURN(const bool due, jumps_.TakeMovingExecution(t, dtau_));
    if (!due) return false;
    std::copy_n(ws_.begin() + 1, n_, y_at_.begin());
    system_.Rhs(t, y_at_.data(), f_before_.data());  // nothing switched at t: f- = f(t)
    relation_moves_ = false;
    Restore(t);
    jumps_.BeginMovingTime(dtau_);
    return true;
  }

  // After the events at t: s += (dh/dt- - f+) d tau / dp. dh/dt- is f- for
  // states no event assigned, the assigned value's rate otherwise; discrete
  // targets have f+ = 0.
  Status Finish(double t) {
    jumps_.EndMovingTime();
    if (jumps_.executed() > 1 || jumps_.incomplete()) {
      return Unsupported("sensitivities: at t = " + std::to_string(t) + " " + std::to_string(jumps_.executed()) +
                         " events execute at a time that moves with the parameters; only one is supported");
    }
    std::copy_n(ws_.begin() + 1, n_, y_at_.begin());
    SOMA_RETURN_IF_ERROR(RhsOnNewSide(t));
    Restore(t);
    for (const auto& [slot, rate] : jumps_.assigned()) {
      if (slot >= 1 && slot <= n_) f_before_[slot - 1] = rate;
    }
    for (size_t k = 0; k < np_; ++k) {
      for (size_t i = 0; i < n_; ++i)
        ws_[sp_.SensitivitySlot(static_cast<uint32_t>(1 + i), k)] += (f_before_[i] - f_after_[i]) * dtau_[k];
      for (const auto& [slot, rate] : jumps_.assigned()) {
        if (slot < 1 || slot > n_) ws_[sp_.SensitivitySlot(slot, k)] += rate * dtau_[k];
      }
    }
    return Status::Ok();
  }

 private:
  // f+ into f_after_: the right-hand side just after t, where the condition
  // that crossed has its new value. At t itself the state is on the root
  // (to rounding), where a switch of the right-hand side on that condition
  // (piecewise(p1, S1 < 2.5, p2)) may still evaluate to its old side, which
  // would make the jump vanish. So the state is carried a little past t
  // (y + delta f, delta growing from a few roundings) until the root
  // function has the crossing's sign; f there is f+ to O(delta).
  // Event conditions are exempt: their truth values live in slots, and the
  // event's assignments may take the state back across the root.
  Status RhsOnNewSide(double t) {
    system_.Rhs(t, y_at_.data(), f_after_.data());
    if (!relation_moves_ || cm_.relations()[mover_].for_event) return Status::Ok();
    std::copy_n(ws_.begin(), probe_.size(), probe_.begin());
    cm_.roots().Run(probe_.data(), roots_.data(), roots_scratch_.data());
    if (direction_ * roots_[mover_] > 0) return Status::Ok();
    double delta = 4 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::abs(t));
    for (int tries = 0; tries < 24; ++tries, delta *= 4) {
      probe_[0] = t + delta;
      for (size_t i = 0; i < n_; ++i) y_before_[i] = y_at_[i] + delta * f_after_[i];
      std::copy(y_before_.begin(), y_before_.end(), probe_.begin() + 1);
      cm_.roots().Run(probe_.data(), roots_.data(), roots_scratch_.data());
      if (direction_ * roots_[mover_] > 0) {
        system_.Rhs(t + delta, y_before_.data(), f_after_.data());
        return Status::Ok();
      }
    }
    return Unsupported("sensitivities: at t = " + std::to_string(t) +
                       " the condition that crossed could not be evaluated on its new side");
  }

  // The right-hand side evaluations load their state into the workspace.
  void Restore(double t) {
    std::copy(y_at_.begin(), y_at_.end(), ws_.begin() + 1);
    ws_[0] = t;
  }

  const CompiledModel& cm_;
  const SensitivityProgram& sp_;
  SensitivitySystem& system_;
  SensitivityJumps& jumps_;
  std::vector<double>& ws_;
  const size_t n_, np_;
  size_t mover_ = 0;    // the relation whose crossing time moves (Begin)
  int direction_ = 0;   // its crossing direction
  bool relation_moves_ = false;  // Begin (a crossing), not BeginExecution
  std::vector<double> dg_, g_rate_, dg_scratch_, rate_scratch_, dtau_, y_at_, y_before_, f_before_, f_after_, probe_,
      roots_, roots_scratch_;
};

}  // namespace

SimulationResult SensitivityResult::Table() const {
  SimulationResult t = trajectory;
  const size_t base = trajectory.columns.size();
  const size_t np = parameters.size();
  for (size_t j = 0; j < num_outputs; ++j) {
    for (size_t k = 0; k < np; ++k) t.columns.push_back("d" + trajectory.columns[1 + j] + "/d" + parameters[k]);
  }
  const size_t ncol = t.columns.size();
  t.values.assign(t.rows * ncol, 0.0);
  for (size_t r = 0; r < t.rows; ++r) {
    std::copy_n(trajectory.values.begin() + static_cast<long>(r * base), base, t.values.begin() + static_cast<long>(r * ncol));
    std::copy_n(sensitivities.begin() + static_cast<long>(r * num_outputs * np), num_outputs * np,
                t.values.begin() + static_cast<long>(r * ncol + base));
  }
  return t;
}

Result<std::shared_ptr<const SensitivityPlan>> PlanSensitivities(std::shared_ptr<const CompiledModel> model,
                                                               const std::vector<OutputVariable>& requested,
                                                               const std::vector<std::string>& parameters,
                                                               const SensitivityCompileOptions& options) {
  auto plan = std::make_shared<SensitivityPlan>();
  plan->outputs = requested.empty() ? model->DefaultOutputs() : requested;
  SOMA_ASSIGN_OR_RETURN(SensitivityProgram sp, model->CompileSensitivities(parameters, plan->outputs, options));
  SOMA_ASSIGN_OR_RETURN(expr::Program out_program, model->CompileOutputs(plan->outputs));
  plan->program = std::make_shared<const SensitivityProgram>(std::move(sp));
  plan->output_program = std::move(out_program);
  plan->parameters = parameters;
  plan->model = std::move(model);
  return std::shared_ptr<const SensitivityPlan>(std::move(plan));
}

Result<SensitivityResult> SimulateWithSensitivities(std::shared_ptr<const CompiledModel> model,
                                                    const SimulationOptions& options,
                                                    const std::vector<OutputVariable>& requested,
                                                    const std::vector<std::string>& parameters,
                                                    const solvers::SensitivityOptions& sensitivity) {
  SOMA_RETURN_IF_ERROR(options.Validate());
  SOMA_RETURN_IF_ERROR(sensitivity.Validate(static_cast<int>(parameters.size())));
  SOMA_ASSIGN_OR_RETURN(auto plan, PlanSensitivities(std::move(model), requested, parameters));
  return SimulateWithSensitivities(*plan, options, sensitivity);
}

Result<std::vector<double>> InitialSensitivities(const SensitivityPlan& plan, const SimulationOptions& options) {
  const CompiledModel& cm = *plan.model;
  const SensitivityProgram& sp = *plan.program;
  SOMA_ASSIGN_OR_RETURN(const auto overrides, cm.ResolveOverrides(options.overrides));
  const std::vector<double> s0 = InitialSlotSensitivities(cm, sp, overrides, options.start);
  const size_t n = cm.num_states(), np = plan.parameters.size(), ni = sp.initial_slots.size();
  std::vector<double> out(n * np, 0.0);
  for (size_t k = 0; k < np; ++k) {
    for (size_t i = 0; i < ni; ++i) {
      const uint32_t slot = sp.initial_slots[i];
      if (slot >= 1 && slot <= n) out[k * n + slot - 1] = s0[i + k * ni];
    }
  }
  return out;
}

Result<SensitivityResult> SimulateWithSensitivities(const SensitivityPlan& plan, const SimulationOptions& options,
                                                    const solvers::SensitivityOptions& sensitivity,
                                                    const std::vector<double>* initial_sensitivities) {
  SOMA_RETURN_IF_ERROR(options.Validate());
  SOMA_RETURN_IF_ERROR(sensitivity.Validate(static_cast<int>(plan.parameters.size())));
  if (!options.initial_state.empty() && initial_sensitivities == nullptr) {
    return InvalidArgument("SimulationOptions::initial_state with sensitivities needs the initial sensitivities");
  }
  if (initial_sensitivities != nullptr &&
      initial_sensitivities->size() != plan.model->num_states() * plan.parameters.size()) {
    return InvalidArgument("initial sensitivities: " + std::to_string(initial_sensitivities->size()) +
                           " values for " + std::to_string(plan.model->num_states()) + " states and " +
                           std::to_string(plan.parameters.size()) + " parameters");
  }
  const CompiledModel& cm = *plan.model;
  auto t_setup = Clock::now();
  const std::vector<OutputVariable>& outputs = plan.outputs;
  const std::vector<std::string>& parameters = plan.parameters;
  const SensitivityProgram& sp = *plan.program;
  const expr::Program& out_program = plan.output_program;

  SensitivityResult result;
  result.parameters = parameters;
  result.num_outputs = outputs.size();
  SimulationResult& traj = result.trajectory;
  SimulationSummary& summary = traj.summary;
  traj.columns.push_back("time");
  for (const OutputVariable& v : outputs) traj.columns.push_back(v.id);
  const size_t ncol = traj.columns.size();
  const size_t np = parameters.size();
  const size_t n = cm.num_states();
  const std::vector<double> times = options.OutputTimes();
  traj.rows = times.size();
  traj.values.assign(traj.rows * ncol, 0.0);
  result.sensitivities.assign(traj.rows * outputs.size() * np, 0.0);

  // The extended workspace: model slots, then the initial sensitivities.
  SOMA_ASSIGN_OR_RETURN(const auto overrides, cm.ResolveOverrides(options.overrides));
  std::vector<double> ws;
  if (cm.algebraic_slots().empty()) {
    ws = cm.InitialWorkspace(options.start, overrides);
  } else {
    if (!options.initial_state.empty()) {
      return Unsupported("SimulationOptions::initial_state for a model with algebraic rules");
    }
    SOMA_ASSIGN_OR_RETURN(ws, ConsistentInitialWorkspace(cm, options.start, overrides));
  }
  if (!options.initial_state.empty()) {
    if (options.initial_state.size() != n) {
      return InvalidArgument("initial_state has " + std::to_string(options.initial_state.size()) + " values; the model has " +
                             std::to_string(n) + " states");
    }
    std::copy(options.initial_state.begin(), options.initial_state.end(), ws.begin() + 1);
  }
  SOMA_RETURN_IF_ERROR(cm.CheckInitialState(ws));
  ws.resize(sp.workspace_size(), 0.0);
  {
    const std::vector<double> s0 = InitialSlotSensitivities(cm, sp, overrides, options.start);
    const size_t ni = sp.initial_slots.size();
    for (size_t k = 0; k < np; ++k) {
      for (size_t i = 0; i < ni; ++i) ws[sp.SensitivitySlot(sp.initial_slots[i], k)] = s0[i + k * ni];
    }
  }
  SensitivitySystem system(cm, ws, sp);
  if (initial_sensitivities != nullptr) system.ScatterSensitivities(*initial_sensitivities);
  internal::TimeRootSchedule clock(cm, ws, options.start);
  SensitivityJumps jumps(cm, sp, ws);
  EventRunner events(cm, ws, options, summary, &jumps);
  events.RefreshRelations();
  double t = options.start;
  ws[0] = t;
  SOMA_ASSIGN_OR_RETURN(bool changed_at_start, events.Process(t));
  (void)changed_at_start;
  if (jumps.TakeFastAssigned()) system.RecomputeMoietySensitivities();
  SOMA_RETURN_IF_ERROR(system.UpdateAlgebraicSensitivities(t));

  solvers::SundialsContext ctx;
  std::vector<double> y(system.num_states());
  std::vector<double> s(n * np);
  system.Gather(y.data());
  SOMA_ASSIGN_OR_RETURN(auto integrator, solvers::OdeIntegrator::Create(ctx, &system, t, y, options.integrator));
  if (n > 0) {
    solvers::SensitivityOptions so = sensitivity;
    if (so.scales.empty()) {
      for (size_t k = 0; k < np; ++k) {
        double p = sp.declared_values[k];
        for (const auto& [slot, value] : overrides) {
          if (slot == sp.parameter_slots[k]) p = value;
        }
        so.scales.push_back(std::isfinite(p) && p != 0.0 ? std::abs(p) : 1.0);
      }
    }
    system.GatherSensitivities(s);
    SOMA_RETURN_IF_ERROR(integrator->EnableSensitivities(static_cast<int>(np), s, so));
  }
  auto t_run = Clock::now();
  summary.setup_seconds = Seconds(t_setup, t_run);

  // The direction of each relation's crossing at a stop (0: none), and the
  // jump's part from crossing times that move with the parameters.
  std::vector<int> crossing(cm.relations().size(), 0);
  MovingCrossing moving_jump(cm, sp, system, jumps, ws);

  std::vector<double> out_scratch = out_program.NewScratch();
  std::vector<double> sens_scratch = sp.outputs.NewScratch();
  std::vector<double> sens_out(sp.outputs.num_outputs());
  auto record = [&](size_t row) {
    double* dst = &traj.values[row * ncol];
    dst[0] = ws[0];
    out_program.Run(ws.data(), dst + 1, out_scratch.data());
    sp.outputs.Run(ws.data(), sens_out.data(), sens_scratch.data());
    const size_t m = outputs.size();
    for (size_t j = 0; j < m; ++j) {
      for (size_t k = 0; k < np; ++k) result.sensitivities[(row * m + j) * np + k] = sens_out[j + k * m];
    }
  };
  for (size_t row = 0; row < traj.rows; ++row) {
    const double t_out = times[row];
    while (t < t_out) {
      if (t_out - t <= 1e-13 * std::max(1.0, std::abs(t_out))) {
        t = t_out;
        ws[0] = t;
        break;
      }
      // Time points of relations linear in time and scheduled executions of
      // delayed events are landed on (as Simulate does).
      const double t_event = events.NextPendingTime();
      const double t_stop = std::min(t_event, clock.next());
      if (Status s = options.CheckDeadline(t); !s.ok()) {
        summary.termination = "time limit";
        return s;
      }
      auto stop = integrator->Advance(std::min(t_out, t_stop), t_stop);
      if (!stop.ok()) {
        summary.termination = "solver failure";
        return stop.status();
      }
      t = integrator->t();
      ws[0] = t;
      system.Scatter(integrator->y());
      if (n > 0) {
        SOMA_RETURN_IF_ERROR(integrator->GetSensitivities(s));
        system.ScatterSensitivities(s);
        SOMA_RETURN_IF_ERROR(system.UpdateAlgebraicSensitivities(t));
      }
      std::fill(crossing.begin(), crossing.end(), 0);
      bool crossed = false;
      if (*stop == solvers::OdeIntegrator::Stop::kRoot) {
        ++summary.roots_found;
        const std::span<const int> found = clock.Found(integrator->roots_found());
        for (size_t r = 0; r < found.size(); ++r)
          if (found[r] != 0) crossing[r] = found[r];
        events.ApplyRoots(found);
        crossed = true;
      }
      if (clock.next() <= t) {
        ++summary.roots_found;
        const std::span<const int> found = clock.Reached(t);
        for (size_t r = 0; r < found.size(); ++r)
          if (found[r] != 0) crossing[r] = found[r];
        events.ApplyRoots(found);
        crossed = true;
      }
      if (!crossed && t < t_event) continue;
      SOMA_ASSIGN_OR_RETURN(bool moving, moving_jump.Begin(t, crossing, *integrator));
      if (!moving) {
        SOMA_ASSIGN_OR_RETURN(moving, moving_jump.BeginExecution(t));
      } else if (t >= t_event) {
        SOMA_ASSIGN_OR_RETURN(const bool also, moving_jump.BeginExecution(t));
        if (also) {
          return Unsupported("sensitivities: at t = " + std::to_string(t) +
                             " a condition crosses and a delayed event executes, both at times that move with the "
                             "parameters");
        }
      }
      SOMA_ASSIGN_OR_RETURN(bool changed, events.Process(t));
      if (moving) SOMA_RETURN_IF_ERROR(moving_jump.Finish(t));
      if (jumps.TakeFastAssigned()) system.RecomputeMoietySensitivities();
      SOMA_RETURN_IF_ERROR(system.UpdateAlgebraicSensitivities(t));
      (void)changed;  // a root marks a discontinuity: restart either way
      system.Gather(y.data());
      SOMA_RETURN_IF_ERROR(integrator->Reinit(t, y));
      if (n > 0) {
        system.GatherSensitivities(s);
        SOMA_RETURN_IF_ERROR(integrator->ReinitSensitivities(s));
      }
      ++summary.restarts;
    }
    record(row);
  }
  traj.final_state.assign(ws.begin() + 1, ws.begin() + 1 + static_cast<std::ptrdiff_t>(n));
  result.final_sensitivities.resize(n * np);
  system.GatherSensitivities(result.final_sensitivities);
  summary.integrator = integrator->stats();
  result.sensitivity_rhs_evaluations = integrator->sensitivity_rhs_evaluations();
  summary.integration_seconds = Seconds(t_run, Clock::now());
  summary.termination = "reached end time";
  return result;
}

}  // namespace soma::sim
