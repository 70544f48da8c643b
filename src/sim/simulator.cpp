#include "sim/simulator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "sim/algebraic_solver.h"
#include "sim/model_system.h"

namespace soma::sim {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

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

// The value a relation takes just after its root function crossed zero in
// `direction` (+1 rising, -1 falling).
bool TruthAfterCrossing(expr::GOp op, int direction) {
  switch (op) {
    case expr::GOp::kGt: case expr::GOp::kGe: return direction > 0;
    case expr::GOp::kLt: case expr::GOp::kLe: return direction < 0;
    case expr::GOp::kEq: return true;
    case expr::GOp::kNeq: return false;
    default: return false;
  }
}

struct Pending {
  double time = 0.0;
  size_t event = 0;
  uint64_t sequence = 0;
  bool has_values = false;
  std::vector<double> values;
};

// The event machinery of one simulation run.
class EventRunner {
 public:
  EventRunner(const CompiledModel& cm, std::vector<double>& in, const SimulationOptions& opt,
              SimulationSummary& summary)
      : cm_(cm), in_(in), opt_(opt), summary_(summary), algebraic_(cm), rng_(opt.seed) {
    const size_t ne = cm.events().size();
    previous_.resize(ne);
    for (size_t e = 0; e < ne; ++e) previous_[e] = cm.events()[e].initial_value;
    trigger_values_.resize(ne);
    timing_.resize(2 * ne);
    roots_.resize(cm.relations().size());
    roots_scratch_ = cm.roots().NewScratch();
    trigger_scratch_ = cm.triggers().NewScratch();
    timing_scratch_ = cm.event_timing().NewScratch();
    for (const CompiledEvent& ev : cm.events()) assignment_scratch_.push_back(ev.assignments.NewScratch());
  }

  bool empty() const { return cm_.events().empty(); }

  double NextPendingTime() const {
    double t = std::numeric_limits<double>::infinity();
    for (const Pending& p : pending_) t = std::min(t, p.time);
    return t;
  }

  // Sets every event relation's truth value from its root function, except
  // where `keep` says the stored value stands.
  void RefreshRelations(const std::vector<double>* before = nullptr) {
    cm_.roots().Run(in_.data(), roots_.data(), roots_scratch_.data());
    const auto& rels = cm_.relations();
    for (size_t k = 0; k < rels.size(); ++k) {
      if (!rels[k].for_event) continue;
      if (before != nullptr && (*before)[k] == roots_[k]) continue;
      in_[rels[k].slot] = Truth(rels[k].op, roots_[k]) ? 1.0 : 0.0;
    }
  }

  void ApplyRoots(std::span<const int> found) {
    const auto& rels = cm_.relations();
    for (size_t k = 0; k < rels.size(); ++k) {
      if (rels[k].for_event && found[k] != 0) {
        in_[rels[k].slot] = TruthAfterCrossing(rels[k].op, found[k]) ? 1.0 : 0.0;
      }
    }
  }

  // Fires, schedules and executes events at time t until nothing more is due.
  // Returns whether any stored value changed.
  Result<bool> Process(double t) {
    bool changed = false;
    for (long iteration = 0;; ++iteration) {
      if (iteration >= opt_.max_event_iterations) {
        return SolverFailure("more than " + std::to_string(opt_.max_event_iterations) +
                             " event executions at t = " + std::to_string(t) +
                             " (events that keep re-triggering each other?)");
      }
      EvaluateTriggers();
      for (size_t e = 0; e < previous_.size(); ++e) {
        bool now = trigger_values_[e] != 0.0;
        if (now && !previous_[e]) Fire(e, t);
        previous_[e] = now;
      }
      // Non-persistent events are cancelled when their trigger turns false.
      std::erase_if(pending_, [&](const Pending& p) {
        return !cm_.events()[p.event].persistent && trigger_values_[p.event] == 0.0;
      });
      // The due event with the highest priority executes next.
      int best = -1;
      for (size_t i = 0; i < pending_.size(); ++i) {
        if (pending_[i].time > t) continue;
        if (best < 0 || Before(pending_[i], pending_[best])) best = static_cast<int>(i);
      }
      if (best < 0) return changed;
      best = BreakTie(best, t);
      Pending p = std::move(pending_[best]);
      pending_.erase(pending_.begin() + best);
      Execute(p);
      changed = true;
      ++summary_.events_fired;
    }
  }

 private:
  void EvaluateTriggers() {
    cm_.triggers().Run(in_.data(), trigger_values_.data(), trigger_scratch_.data());
    cm_.event_timing().Run(in_.data(), timing_.data(), timing_scratch_.data());
  }

  void Fire(size_t e, double t) {
    const CompiledEvent& ev = cm_.events()[e];
    Pending p;
    p.event = e;
    p.sequence = next_sequence_++;
    p.time = ev.has_delay ? t + timing_[2 * e] : t;
    // Values from the trigger time are computed now, before any event executes.
    if (ev.use_values_from_trigger_time) {
      p.values.resize(ev.targets.size());
      ev.assignments.Run(in_.data(), p.values.data(), assignment_scratch_[e].data());
      p.has_values = true;
    }
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
    if (a.time != b.time) return a.time < b.time;
    if (a.event != b.event) return a.event < b.event;
    return a.sequence < b.sequence;
  }

  // SBML: among due events of equal priority the order is random.
  int BreakTie(int best, double t) {
    const Pending& b = pending_[best];
    if (!cm_.events()[b.event].has_priority) return best;
    std::vector<int> tied;
    for (size_t i = 0; i < pending_.size(); ++i) {
      const Pending& p = pending_[i];
      if (p.time <= t && cm_.events()[p.event].has_priority &&
          timing_[2 * p.event + 1] == timing_[2 * b.event + 1]) {
        tied.push_back(static_cast<int>(i));
      }
    }
    if (tied.size() < 2) return best;
    std::uniform_int_distribution<size_t> pick(0, tied.size() - 1);
    return tied[pick(rng_)];
  }

  void Execute(Pending& p) {
    const CompiledEvent& ev = cm_.events()[p.event];
    if (!p.has_values) {
      p.values.resize(ev.targets.size());
      ev.assignments.Run(in_.data(), p.values.data(), assignment_scratch_[p.event].data());
    }
    std::vector<double> before = roots_;
    cm_.roots().Run(in_.data(), before.data(), roots_scratch_.data());
    for (size_t i = 0; i < ev.targets.size(); ++i) in_[ev.targets[i]] = p.values[i];
    algebraic_ok_ = algebraic_.Solve(in_.data()) && algebraic_ok_;
    RefreshRelations(&before);
  }

  const CompiledModel& cm_;
  std::vector<double>& in_;
  const SimulationOptions& opt_;
  SimulationSummary& summary_;
  std::vector<bool> previous_;
  std::vector<double> trigger_values_, timing_, roots_;
  std::vector<double> roots_scratch_, trigger_scratch_, timing_scratch_;
  std::vector<std::vector<double>> assignment_scratch_;
  std::vector<Pending> pending_;
  uint64_t next_sequence_ = 0;
  AlgebraicSolver algebraic_;
  std::mt19937_64 rng_;

 public:
  bool algebraic_ok_ = true;  // false once the algebraic rules failed after an event
};

}  // namespace

Result<SimulationResult> Simulator::Simulate(const SimulationOptions& options,
                                             const std::vector<OutputVariable>& requested) const {
  SOMA_RETURN_IF_ERROR(options.Validate());
  const CompiledModel& cm = *model_;
  auto t_setup = Clock::now();
  SimulationResult result;
  SimulationSummary& summary = result.summary;

  const std::vector<OutputVariable> outputs = requested.empty() ? cm.DefaultOutputs() : requested;
  SOMA_ASSIGN_OR_RETURN(expr::Program out_program, cm.CompileOutputs(outputs));
  std::vector<double> out_scratch = out_program.NewScratch();
  result.columns.push_back("time");
  for (const OutputVariable& v : outputs) result.columns.push_back(v.id);
  const size_t ncol = result.columns.size();
  result.rows = static_cast<size_t>(options.steps) + 1;
  result.values.assign(result.rows * ncol, 0.0);

  const Status algebraic_failure = SolverFailure("the algebraic rules have no solution near the current values");
  std::vector<double> in = cm.InitialWorkspace(options.start);
  if (!cm.algebraic_slots().empty()) {
    // Initial values may depend on what the algebraic rules determine: solve,
    // recompute the initial values with those, and solve again.
    AlgebraicSolver algebraic(cm);
    if (!algebraic.Solve(in.data())) return algebraic_failure.WithContext("at the start");
    std::vector<std::pair<uint32_t, double>> solved;
    for (uint32_t slot : cm.algebraic_slots()) solved.push_back({slot, in[slot]});
    in = cm.InitialWorkspace(options.start, solved);
    if (!algebraic.Solve(in.data())) return algebraic_failure.WithContext("at the start");
  }
  SOMA_RETURN_IF_ERROR(cm.CheckInitialState(in));
  ModelSystem system(cm, in);
  solvers::IntegratorOptions integrator_options = options.integrator;
  if (!cm.delays().empty()) {
    system.RecordHistory();
    // Steps no longer than the shortest delay keep delayed values on the
    // recorded history rather than extrapolated from inside the step.
    double tau = system.MinimumDelay();
    if (std::isfinite(tau) && (integrator_options.max_step == 0 || tau < integrator_options.max_step)) {
      integrator_options.max_step = tau;
    }
  }
  EventRunner events(cm, in, options, summary);
  events.RefreshRelations();

  double t = options.start;
  in[0] = t;
  SOMA_ASSIGN_OR_RETURN(bool changed_at_start, events.Process(t));
  (void)changed_at_start;

  solvers::SundialsContext ctx;
  std::vector<double> y(system.num_states());
  system.Gather(y.data());
  SOMA_ASSIGN_OR_RETURN(auto integrator, solvers::OdeIntegrator::Create(ctx, &system, t, y, integrator_options));
  auto t_run = Clock::now();
  summary.setup_seconds = Seconds(t_setup, t_run);

  // Constraints are checked at output times; the first violation of each is reported.
  std::vector<double> constraint_values(cm.constraints().num_outputs());
  std::vector<double> constraint_scratch = cm.constraints().NewScratch();
  std::vector<bool> violated(constraint_values.size(), false);
  auto record = [&](size_t row) {
    double* dst = &result.values[row * ncol];
    dst[0] = in[0];
    out_program.Run(in.data(), dst + 1, out_scratch.data());
    if (constraint_values.empty()) return;
    cm.constraints().Run(in.data(), constraint_values.data(), constraint_scratch.data());
    for (size_t k = 0; k < constraint_values.size(); ++k) {
      if (constraint_values[k] != 0.0 || violated[k]) continue;
      violated[k] = true;
      const model::Constraint& c = cm.model().constraints[k];
      summary.constraint_violations.push_back(
          "t = " + std::to_string(in[0]) + ": " + (c.message.empty() ? expr::ToString(c.math) : c.message));
    }
  };
  record(0);

  const double span = options.end - options.start;
  for (size_t row = 1; row < result.rows; ++row) {
    const double t_out = row + 1 == result.rows ? options.end
                                                : options.start + span * static_cast<double>(row) / options.steps;
    while (t < t_out) {
      // A step shorter than rounding error cannot be taken: the state is the same.
      if (t_out - t <= 1e-13 * std::max(1.0, std::abs(t_out))) {
        t = t_out;
        in[0] = t;
        break;
      }
      const double t_event = events.NextPendingTime();
      // Output times are interpolated; scheduled events are landed on exactly.
      const double target = std::min(t_out, t_event);
      auto stop = integrator->Advance(target, t_event);
      if (!stop.ok()) {
        summary.termination = "solver failure";
        return stop.status();
      }
      t = integrator->t();
      in[0] = t;
      if (!system.Scatter(integrator->y())) {
        return algebraic_failure.WithContext("at t = " + std::to_string(t));
      }
      bool restart = false;
      if (*stop == solvers::OdeIntegrator::Stop::kRoot) {
        ++summary.roots_found;
        events.ApplyRoots(integrator->roots_found());
        restart = true;  // a root marks a discontinuity
      }
      if (*stop == solvers::OdeIntegrator::Stop::kRoot || t >= t_event) {
        SOMA_ASSIGN_OR_RETURN(bool changed, events.Process(t));
        if (!events.algebraic_ok_) return algebraic_failure.WithContext("after an event at t = " + std::to_string(t));
        restart = restart || changed;
      }
      if (restart) {
        system.RecordHistory();
        system.Gather(y.data());
        SOMA_RETURN_IF_ERROR(integrator->Reinit(t, y));
        ++summary.restarts;
      }
    }
    record(row);
  }
  summary.integrator = integrator->stats();
  summary.integration_seconds = Seconds(t_run, Clock::now());
  summary.termination = "reached end time";
  return result;
}

}  // namespace soma::sim
