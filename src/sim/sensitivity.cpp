#include "sim/sensitivity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <span>

#include "sim/event_runner.h"
#include "sim/model_system.h"
#include "sim/sensitivity_program.h"
#include "sim/time_root_schedule.h"

namespace soma::sim {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Same rules as the Simulator's (simulator.cpp): the truth of a relation from
// its root function, and just after a crossing in `direction`.
class SensitivitySystem : public ModelSystem {
 public:
  SensitivitySystem(const CompiledModel& cm, std::vector<double>& ws, const SensitivityProgram& sp)
      : ModelSystem(cm, ws, /*scheduled_time_roots=*/true), ws_(ws), sp_(sp), scratch_(sp.rhs.NewScratch()),
        out_(sp.num_states * sp.parameters.size()) {}

  int SensitivityRhs(double t, const double* y, const double*, int ns, const double* const* s,
                     double* const* sdot) override {
    const size_t n = sp_.num_states;
    ws_[0] = t;
    std::copy(y, y + n, ws_.begin() + 1);
    for (int k = 0; k < ns; ++k) std::copy(s[k], s[k] + n, ws_.begin() + sp_.SensitivitySlot(1, k));
    sp_.rhs.Run(ws_.data(), out_.data(), scratch_.data());
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

 private:
  std::vector<double>& ws_;
  const SensitivityProgram& sp_;
  std::vector<double> scratch_, out_;
};

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
    const size_t m = cm_.events()[e].targets.size(), np = sp_.parameters.size();
    extra.resize(m * np + (moving_ ? m : 0));
    sp_.event_assignments[e].Run(ws_.data(), extra.data(), scratch_[e].data());
    if (moving_) sp_.event_assignment_rates[e].Run(ws_.data(), extra.data() + m * np, rate_scratch_[e].data());
  }
  void Apply(size_t e, const std::vector<double>& extra) override {
    const auto& targets = cm_.events()[e].targets;
    const size_t m = targets.size(), np = sp_.parameters.size();
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

  void BeginMovingTime() {
    moving_ = true;
    executed_ = 0;
    incomplete_ = false;
    assigned_.clear();
  }
  void EndMovingTime() { moving_ = false; }
  int executed() const { return executed_; }
  bool incomplete() const { return incomplete_; }
  // (slot, d h / dt along the trajectory before the event) per assigned target.
  const std::vector<std::pair<uint32_t, double>>& assigned() const { return assigned_; }

 private:
  const CompiledModel& cm_;
  const SensitivityProgram& sp_;
  std::vector<double>& ws_;
  std::vector<std::vector<double>> scratch_, rate_scratch_;
  bool moving_ = false, incomplete_ = false;
  int executed_ = 0;
  std::vector<std::pair<uint32_t, double>> assigned_;
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
  std::vector<double> declared = cm.DeclaredWorkspace(options.start);
  for (const auto& [slot, value] : overrides) declared[slot] = value;
  std::vector<double> s0(sp.initial.num_outputs());
  std::vector<double> scratch = sp.initial.NewScratch();
  sp.initial.Run(declared.data(), s0.data(), scratch.data());
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
  std::vector<double> ws = cm.InitialWorkspace(options.start, overrides);
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
    std::vector<double> declared = cm.DeclaredWorkspace(options.start);
    for (const auto& [slot, value] : overrides) declared[slot] = value;
    std::vector<double> s0(sp.initial.num_outputs());
    std::vector<double> scratch = sp.initial.NewScratch();
    sp.initial.Run(declared.data(), s0.data(), scratch.data());
    const size_t ni = sp.initial_slots.size();
    for (size_t k = 0; k < np; ++k) {
      for (size_t i = 0; i < ni; ++i) ws[sp.SensitivitySlot(sp.initial_slots[i], k)] = s0[i + k * ni];
    }
    if (initial_sensitivities != nullptr) {
      for (size_t k = 0; k < np; ++k) {
        std::copy_n(initial_sensitivities->begin() + static_cast<long>(k * n), n, ws.begin() + sp.SensitivitySlot(1, k));
      }
    }
  }
  SensitivitySystem system(cm, ws, sp);
  internal::TimeRootSchedule clock(cm, ws, options.start);
  SensitivityJumps jumps(cm, sp, ws);
  EventRunner events(cm, ws, options, summary, &jumps);
  events.RefreshRelations();
  double t = options.start;
  ws[0] = t;
  SOMA_ASSIGN_OR_RETURN(bool changed_at_start, events.Process(t));
  (void)changed_at_start;

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

  // The jump at events whose time moves with the parameters.
  std::vector<int> crossing(cm.relations().size(), 0);
  std::vector<double> dg(sp.relation_sensitivities.num_outputs()), g_rate(sp.relation_rates.num_outputs());
  std::vector<double> dg_scratch = sp.relation_sensitivities.NewScratch(), rate_scratch = sp.relation_rates.NewScratch();
  std::vector<double> dtau(np, 0.0), y_before(n), y_after(n), f_before(n), f_after(n);

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
      // Time points of relations linear in time are landed on (as Simulate does).
      const double t_stop = clock.next();
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
      if (!crossed) continue;
      // A crossing whose time tau moves with the parameters: d tau / dp_k =
      // -(d g / dp_k) / (d g / dt) of the relation that crossed, with d g / dt
      // and the right-hand side f- taken on the trajectory arriving at tau.
      bool moving = false;
      if (n > 0 && np > 0) {
        sp.relation_sensitivities.Run(ws.data(), dg.data(), dg_scratch.data());
        const size_t nr = sp.num_relations;
        int movers = 0;
        size_t mover = 0;
        for (size_t r = 0; r < nr; ++r) {
          if (crossing[r] == 0) continue;
          if (!cm.relations()[r].for_event && sp.continuous_switches) continue;  // f- = f+ asserted
          bool moves = false;
          for (size_t k = 0; k < np; ++k) moves = moves || dg[r + k * nr] != 0.0;
          if (!moves) continue;
          if (++movers > 1) {
            return Unsupported("sensitivities: at t = " + std::to_string(t) +
                               " two conditions whose times move with the parameters change at once");
          }
          mover = r;
        }
        moving = movers == 1;
        if (moving) {
          std::copy(ws.begin() + 1, ws.begin() + 1 + static_cast<long>(n), y_after.begin());  // the state at tau, kept
          std::copy(y_after.begin(), y_after.end(), y_before.begin());
          double t_before = t;
          if (!cm.relations()[mover].for_event) {
            // A switch of the right-hand side: f- on the old side of it, a
            // few rounding steps before tau on the last step's interpolant.
            std::vector<double> probe(ws.begin(), ws.begin() + static_cast<long>(cm.num_slots()));
            std::vector<double> roots(cm.relations().size());
            std::vector<double> roots_scratch = cm.roots().NewScratch();
            bool old_side = false;
            double delta = 4 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::abs(t));
            for (int tries = 0; tries < 24 && !old_side; ++tries, delta *= 4) {
              t_before = t - delta;
              SOMA_RETURN_IF_ERROR(integrator->StateAt(t_before, y_before));
              probe[0] = t_before;
              std::copy(y_before.begin(), y_before.end(), probe.begin() + 1);
              cm.roots().Run(probe.data(), roots.data(), roots_scratch.data());
              old_side = crossing[mover] * roots[mover] < 0;
            }
            if (!old_side) {
              return Unsupported("sensitivities: at t = " + std::to_string(t) +
                                 " a right-hand side switch could not be evaluated on its old side");
            }
            sp.relation_rates.Run(probe.data(), g_rate.data(), rate_scratch.data());
          } else {
            sp.relation_rates.Run(ws.data(), g_rate.data(), rate_scratch.data());
          }
          if (!(std::abs(g_rate[mover]) > 0.0) || !std::isfinite(g_rate[mover])) {
            return Unsupported("sensitivities: at t = " + std::to_string(t) +
                               " a condition is touched, not crossed (its rate is " + std::to_string(g_rate[mover]) +
                               "), so its time has no derivative");
          }
          for (size_t k = 0; k < np; ++k) dtau[k] = -dg[mover + k * nr] / g_rate[mover];
          system.Rhs(t_before, y_before.data(), f_before.data());
          std::copy(y_after.begin(), y_after.end(), ws.begin() + 1);  // Rhs loaded y_before
          ws[0] = t;
          jumps.BeginMovingTime();
        }
      }
      SOMA_ASSIGN_OR_RETURN(bool changed, events.Process(t));
      if (moving) {
        jumps.EndMovingTime();
        if (jumps.executed() > 1 || jumps.incomplete()) {
          return Unsupported("sensitivities: at t = " + std::to_string(t) + " " + std::to_string(jumps.executed()) +
                             " events execute at a time that moves with the parameters; only one is supported");
        }
        // s+ = (dh/dy) s- + dh/dp (applied by the events) + (dh/dt- - f+) d tau / dp:
        // dh/dt- is f- for states no event assigned, 0 after for discrete values.
        std::copy(ws.begin() + 1, ws.begin() + 1 + static_cast<long>(n), y_after.begin());
        system.Rhs(t, y_after.data(), f_after.data());
        std::vector<double> rate_before(f_before);
        std::vector<uint32_t> discrete;
        std::vector<double> discrete_rate;
        for (const auto& [slot, rate] : jumps.assigned()) {
          if (slot >= 1 && slot <= n) {
            rate_before[slot - 1] = rate;
          } else {
            discrete.push_back(slot);
            discrete_rate.push_back(rate);
          }
        }
        for (size_t k = 0; k < np; ++k) {
          for (size_t i = 0; i < n; ++i)
            ws[sp.SensitivitySlot(static_cast<uint32_t>(1 + i), k)] += (rate_before[i] - f_after[i]) * dtau[k];
          for (size_t d = 0; d < discrete.size(); ++d) ws[sp.SensitivitySlot(discrete[d], k)] += discrete_rate[d] * dtau[k];
        }
        // Restore the workspace the right-hand side evaluations loaded.
        std::copy(y_after.begin(), y_after.end(), ws.begin() + 1);
        ws[0] = t;
      }
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
  for (size_t k = 0; k < np; ++k) {
    std::copy_n(ws.begin() + sp.SensitivitySlot(1, k), n, result.final_sensitivities.begin() + static_cast<long>(k * n));
  }
  summary.integrator = integrator->stats();
  result.sensitivity_rhs_evaluations = integrator->sensitivity_rhs_evaluations();
  summary.integration_seconds = Seconds(t_run, Clock::now());
  summary.termination = "reached end time";
  return result;
}

}  // namespace soma::sim
