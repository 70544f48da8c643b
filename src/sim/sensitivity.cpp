#include "sim/sensitivity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>

#include "sim/model_system.h"
#include "sim/sensitivity_program.h"

namespace soma::sim {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Same rules as the Simulator's (simulator.cpp): the truth of a relation from
// its root function, and just after a crossing in `direction`.
bool Truth(expr::GOp op, double g) {
  switch (op) {
    case expr::GOp::kGt: return g > 0;
    case expr::GOp::kGe: return g >= 0;
    case expr::GOp::kLt: return g < 0;
    case expr::GOp::kLe: return g <= 0;
    case expr::GOp::kEq: return g == 0;
    case expr::GOp::kNeq: return g != 0;
    default: return false;
  }
}

bool TruthAfterCrossing(expr::GOp op, int direction) {
  switch (op) {
    case expr::GOp::kGt: case expr::GOp::kGe: return direction > 0;
    case expr::GOp::kLt: case expr::GOp::kLe: return direction < 0;
    case expr::GOp::kEq: return true;
    case expr::GOp::kNeq: return false;
    default: return false;
  }
}

// ModelSystem plus the sensitivity right-hand side, on the extended
// workspace (model slots, then the sensitivities; see sensitivity_program.h).
class SensitivitySystem : public ModelSystem {
 public:
  SensitivitySystem(const CompiledModel& cm, std::vector<double>& ws, const SensitivityProgram& sp)
      : ModelSystem(cm, ws), ws_(ws), sp_(sp), scratch_(sp.rhs.NewScratch()),
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

// SBML event semantics for the events CompileSensitivities accepts (no
// delays, triggers at times fixed in advance), carrying the sensitivities of
// assigned values. Mirrors the Simulator's EventRunner, including the seeded
// random choice among simultaneous events of equal priority.
class SensitivityEvents {
 public:
  SensitivityEvents(const CompiledModel& cm, const SensitivityProgram& sp, std::vector<double>& ws,
                    const SimulationOptions& opt, SimulationSummary& summary)
      : cm_(cm), sp_(sp), ws_(ws), opt_(opt), summary_(summary), rng_(opt.seed) {
    const size_t ne = cm.events().size();
    previous_.resize(ne);
    for (size_t e = 0; e < ne; ++e) previous_[e] = cm.events()[e].initial_value;
    trigger_values_.resize(ne);
    timing_.resize(2 * ne);
    roots_.resize(cm.relations().size());
    roots_scratch_ = cm.roots().NewScratch();
    trigger_scratch_ = cm.triggers().NewScratch();
    timing_scratch_ = cm.event_timing().NewScratch();
    for (size_t e = 0; e < ne; ++e) {
      value_scratch_.push_back(cm.events()[e].assignments.NewScratch());
      sens_scratch_.push_back(sp.event_assignments[e].NewScratch());
    }
  }

  void RefreshRelations(const std::vector<double>* before = nullptr) {
    cm_.roots().Run(ws_.data(), roots_.data(), roots_scratch_.data());
    const auto& rels = cm_.relations();
    for (size_t k = 0; k < rels.size(); ++k) {
      if (!rels[k].for_event) continue;
      if (before != nullptr && (*before)[k] == roots_[k]) continue;
      ws_[rels[k].slot] = Truth(rels[k].op, roots_[k]) ? 1.0 : 0.0;
    }
  }

  void ApplyRoots(std::span<const int> found) {
    const auto& rels = cm_.relations();
    for (size_t k = 0; k < rels.size(); ++k) {
      if (rels[k].for_event && found[k] != 0) ws_[rels[k].slot] = TruthAfterCrossing(rels[k].op, found[k]) ? 1.0 : 0.0;
    }
  }

  // Fires and executes the events due at t; returns whether anything changed.
  Result<bool> Process(double t) {
    bool changed = false;
    for (long iteration = 0;; ++iteration) {
      if (iteration >= opt_.max_event_iterations) {
        return SolverFailure("more than " + std::to_string(opt_.max_event_iterations) +
                             " event executions at t = " + std::to_string(t) +
                             " (events that keep re-triggering each other?)");
      }
      cm_.triggers().Run(ws_.data(), trigger_values_.data(), trigger_scratch_.data());
      cm_.event_timing().Run(ws_.data(), timing_.data(), timing_scratch_.data());
      for (size_t e = 0; e < previous_.size(); ++e) {
        bool now = trigger_values_[e] != 0.0;
        if (now && !previous_[e]) Fire(e);
        previous_[e] = now;
      }
      std::erase_if(pending_, [&](const Pending& p) {
        return !cm_.events()[p.event].persistent && trigger_values_[p.event] == 0.0;
      });
      int best = -1;
      for (size_t i = 0; i < pending_.size(); ++i) {
        if (best < 0 || Before(pending_[i], pending_[best])) best = static_cast<int>(i);
      }
      if (best < 0) return changed;
      best = BreakTie(best);
      Pending p = std::move(pending_[best]);
      pending_.erase(pending_.begin() + best);
      Execute(p);
      changed = true;
      ++summary_.events_fired;
    }
  }

 private:
  struct Pending {
    size_t event = 0;
    uint64_t sequence = 0;
    bool has_values = false;
    std::vector<double> values, sensitivities;
  };

  void Compute(Pending& p) {
    const CompiledEvent& ev = cm_.events()[p.event];
    p.values.resize(ev.targets.size());
    p.sensitivities.resize(ev.targets.size() * sp_.parameters.size());
    ev.assignments.Run(ws_.data(), p.values.data(), value_scratch_[p.event].data());
    sp_.event_assignments[p.event].Run(ws_.data(), p.sensitivities.data(), sens_scratch_[p.event].data());
    p.has_values = true;
  }

  void Fire(size_t e) {
    Pending p;
    p.event = e;
    p.sequence = next_sequence_++;
    if (cm_.events()[e].use_values_from_trigger_time) Compute(p);
    pending_.push_back(std::move(p));
  }

  bool Before(const Pending& a, const Pending& b) const {
    const CompiledEvent& ea = cm_.events()[a.event];
    const CompiledEvent& eb = cm_.events()[b.event];
    if (ea.has_priority != eb.has_priority) return ea.has_priority;
    if (ea.has_priority) {
      double pa = timing_[2 * a.event + 1], pb = timing_[2 * b.event + 1];
      if (pa != pb) return pa > pb;
    }
    if (a.event != b.event) return a.event < b.event;
    return a.sequence < b.sequence;
  }

  int BreakTie(int best) {
    const Pending& b = pending_[best];
    if (!cm_.events()[b.event].has_priority) return best;
    std::vector<int> tied;
    for (size_t i = 0; i < pending_.size(); ++i) {
      const Pending& p = pending_[i];
      if (cm_.events()[p.event].has_priority && timing_[2 * p.event + 1] == timing_[2 * b.event + 1]) {
        tied.push_back(static_cast<int>(i));
      }
    }
    if (tied.size() < 2) return best;
    std::uniform_int_distribution<size_t> pick(0, tied.size() - 1);
    return tied[pick(rng_)];
  }

  void Execute(Pending& p) {
    const CompiledEvent& ev = cm_.events()[p.event];
    if (!p.has_values) Compute(p);
    std::vector<double> before = roots_;
    cm_.roots().Run(ws_.data(), before.data(), roots_scratch_.data());
    const size_t m = ev.targets.size();
    for (size_t a = 0; a < m; ++a) {
      ws_[ev.targets[a]] = p.values[a];
      for (size_t k = 0; k < sp_.parameters.size(); ++k) {
        ws_[sp_.SensitivitySlot(ev.targets[a], k)] = p.sensitivities[a + k * m];
      }
    }
    RefreshRelations(&before);
  }

  const CompiledModel& cm_;
  const SensitivityProgram& sp_;
  std::vector<double>& ws_;
  const SimulationOptions& opt_;
  SimulationSummary& summary_;
  std::vector<bool> previous_;
  std::vector<double> trigger_values_, timing_, roots_;
  std::vector<double> roots_scratch_, trigger_scratch_, timing_scratch_;
  std::vector<std::vector<double>> value_scratch_, sens_scratch_;
  std::vector<Pending> pending_;
  uint64_t next_sequence_ = 0;
  std::mt19937_64 rng_;
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

Result<SensitivityResult> SimulateWithSensitivities(std::shared_ptr<const CompiledModel> model,
                                                    const SimulationOptions& options,
                                                    const std::vector<OutputVariable>& requested,
                                                    const std::vector<std::string>& parameters,
                                                    const solvers::SensitivityOptions& sensitivity) {
  SOMA_RETURN_IF_ERROR(options.Validate());
  SOMA_RETURN_IF_ERROR(sensitivity.Validate(static_cast<int>(parameters.size())));
  const CompiledModel& cm = *model;
  auto t_setup = Clock::now();
  const std::vector<OutputVariable> outputs = requested.empty() ? cm.DefaultOutputs() : requested;
  SOMA_ASSIGN_OR_RETURN(SensitivityProgram sp, cm.CompileSensitivities(parameters, outputs));
  SOMA_ASSIGN_OR_RETURN(expr::Program out_program, cm.CompileOutputs(outputs));

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
  traj.rows = static_cast<size_t>(options.steps) + 1;
  traj.values.assign(traj.rows * ncol, 0.0);
  result.sensitivities.assign(traj.rows * outputs.size() * np, 0.0);

  // The extended workspace: model slots, then the initial sensitivities.
  std::vector<double> ws = cm.InitialWorkspace(options.start);
  SOMA_RETURN_IF_ERROR(cm.CheckInitialState(ws));
  ws.resize(sp.workspace_size(), 0.0);
  {
    std::vector<double> declared = cm.DeclaredWorkspace(options.start);
    std::vector<double> s0(sp.initial.num_outputs());
    std::vector<double> scratch = sp.initial.NewScratch();
    sp.initial.Run(declared.data(), s0.data(), scratch.data());
    const size_t ni = sp.initial_slots.size();
    for (size_t k = 0; k < np; ++k) {
      for (size_t i = 0; i < ni; ++i) ws[sp.SensitivitySlot(sp.initial_slots[i], k)] = s0[i + k * ni];
    }
  }
  SensitivitySystem system(cm, ws, sp);
  SensitivityEvents events(cm, sp, ws, options, summary);
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
      for (double p : sp.declared_values) so.scales.push_back(std::isfinite(p) && p != 0.0 ? std::abs(p) : 1.0);
    }
    system.GatherSensitivities(s);
    SOMA_RETURN_IF_ERROR(integrator->EnableSensitivities(static_cast<int>(np), s, so));
  }
  auto t_run = Clock::now();
  summary.setup_seconds = Seconds(t_setup, t_run);

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
  record(0);

  const double span = options.end - options.start;
  for (size_t row = 1; row < traj.rows; ++row) {
    const double t_out = row + 1 == traj.rows ? options.end
                                              : options.start + span * static_cast<double>(row) / options.steps;
    while (t < t_out) {
      if (t_out - t <= 1e-13 * std::max(1.0, std::abs(t_out))) {
        t = t_out;
        ws[0] = t;
        break;
      }
      auto stop = integrator->Advance(t_out, std::numeric_limits<double>::infinity());
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
      if (*stop != solvers::OdeIntegrator::Stop::kRoot) continue;
      ++summary.roots_found;
      events.ApplyRoots(integrator->roots_found());
      SOMA_ASSIGN_OR_RETURN(bool changed, events.Process(t));
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
  summary.integrator = integrator->stats();
  result.sensitivity_rhs_evaluations = integrator->sensitivity_rhs_evaluations();
  summary.integration_seconds = Seconds(t_run, Clock::now());
  summary.termination = "reached end time";
  return result;
}

}  // namespace soma::sim
