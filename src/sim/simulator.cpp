#include "sim/simulator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <span>

#include "sim/algebraic_solver.h"
#include "sim/event_runner.h"
#include "sim/model_system.h"
#include "sim/time_root_schedule.h"

namespace soma::sim {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// After a failed integration: the states whose rate of change is not a
// number at the integrator's last state (log of a negative value, 0/0, a
// piecewise with no piece that holds...), which the solver's own message
// cannot name. Empty when every rate is finite.
std::string NonFiniteRates(const CompiledModel& cm, ModelSystem& system, double t, const double* y) {
  const size_t n = cm.num_states();
  if (n == 0) return {};
  std::vector<double> ydot(n);
  system.Rhs(t, y, ydot.data());
  std::ostringstream s;
  int named = 0, more = 0;
  for (size_t i = 0; i < n; ++i) {
    if (std::isfinite(ydot[i])) continue;
    if (named == 3) {
      ++more;
      continue;
    }
    s << (named == 0 ? "; at t = " + std::to_string(t) + " the rate of " : ", of ") << "'" << cm.state_name(i)
      << "' is ";
    if (std::isnan(ydot[i])) s << "NaN";
    else s << ydot[i];
    s << " (" << cm.state_name(i) << " = " << y[i] << ")";
    ++named;
  }
  if (more > 0) s << " and of " << more << " more";
  return s.str();
}

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
  const std::vector<double> times = options.OutputTimes();
  result.rows = times.size();
  result.values.assign(result.rows * ncol, 0.0);

  const Status algebraic_failure = SolverFailure("the algebraic rules have no solution near the current values");
  std::vector<double> in;
  if (cm.algebraic_slots().empty()) {
    SOMA_ASSIGN_OR_RETURN(in, cm.StartWorkspace(options));
  } else {
    if (!options.initial_state.empty()) {
      return Unsupported("SimulationOptions::initial_state for a model with algebraic rules");
    }
    SOMA_ASSIGN_OR_RETURN(auto overrides, cm.ResolveOverrides(options.overrides));
    SOMA_ASSIGN_OR_RETURN(in, ConsistentInitialWorkspace(cm, options.start, std::move(overrides)));
    SOMA_RETURN_IF_ERROR(cm.CheckInitialState(in));
  }
  ModelSystem system(cm, in, /*scheduled_time_roots=*/true);
  internal::TimeRootSchedule clock(cm, in, options.start);
  solvers::IntegratorOptions integrator_options = options.integrator;
  if (!times.empty()) integrator_options.end_time = times.back();
  if (!cm.delays().empty()) {
    SOMA_ASSIGN_OR_RETURN(auto overrides, cm.ResolveOverrides(options.overrides));
    system.SetBeforeStart(std::move(overrides), options.initial_state);
    system.RecordHistory();
    SOMA_RETURN_IF_ERROR(system.DelayStatus());
    // Steps no longer than the shortest delay keep delayed values on the
    // recorded history rather than extrapolated from inside the step.
    double tau = system.MinimumDelay();
    if (std::isfinite(tau) && (integrator_options.max_step == 0 || tau < integrator_options.max_step)) {
      integrator_options.max_step = tau;
    }
  }
  EventRunner events(cm, in, options, summary);
  FastEquilibrium fast_check(cm);
  events.RefreshRelations();

  // Delay models are not integrated past the end of the run: a delay that
  // turns negative (an error) only after the end is never evaluated there.
  const double delays_end =
      cm.delays().empty() || times.empty() ? std::numeric_limits<double>::infinity() : times.back();
  double t = options.start;
  in[0] = t;
  SOMA_ASSIGN_OR_RETURN(bool changed_at_start, events.Process(t));
  (void)changed_at_start;
  SOMA_RETURN_IF_ERROR(events.fast_status().WithContext("after an event at the start"));

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
  for (size_t row = 0; row < result.rows; ++row) {
    const double t_out = times[row];
    while (t < t_out) {
      // A step shorter than rounding error cannot be taken: the state is the same.
      if (t_out - t <= 1e-13 * std::max(1.0, std::abs(t_out))) {
        t = t_out;
        in[0] = t;
        break;
      }
      const double t_event = events.NextPendingTime();
      // Output times are interpolated; scheduled events and the time points
      // of relations with time are landed on exactly.
      const double t_stop = std::min({t_event, clock.next(), delays_end});
      const double target = std::min(t_out, t_stop);
      if (Status s = options.CheckDeadline(t); !s.ok()) {
        summary.termination = "time limit";
        return s;
      }
      auto stop = integrator->Advance(target, t_stop);
      if (!stop.ok()) {
        summary.termination = "solver failure";
        // A negative delay is the model's error, whatever the solver made of it.
        SOMA_RETURN_IF_ERROR(system.DelayStatus());
        return Status(stop.status().code(),
                      stop.status().message() + NonFiniteRates(cm, system, integrator->t(), integrator->y()));
      }
      t = integrator->t();
      in[0] = t;
      if (!system.Scatter(integrator->y())) {
        SOMA_RETURN_IF_ERROR(system.DelayStatus());
        return algebraic_failure.WithContext("at t = " + std::to_string(t));
      }
      bool restart = false;
      if (*stop == solvers::OdeIntegrator::Stop::kRoot) {
        ++summary.roots_found;
        events.ApplyRoots(clock.Found(integrator->roots_found()));
        restart = true;  // a root marks a discontinuity
      }
      if (clock.next() <= t) {
        ++summary.roots_found;
        events.ApplyRoots(clock.Reached(t));
        restart = true;
      }
      if (restart || t >= t_event) {
        SOMA_ASSIGN_OR_RETURN(bool changed, events.Process(t));
        // The context is formatted only for an error (every event passes here).
        if (!events.fast_status().ok()) return events.fast_status().WithContext("after an event at t = " + std::to_string(t));
        if (!events.algebraic_ok()) return algebraic_failure.WithContext("after an event at t = " + std::to_string(t));
        restart = restart || changed;
      }
      if (restart) {
        system.RecordHistory();
        SOMA_RETURN_IF_ERROR(system.DelayStatus());
        system.Gather(y.data());
        SOMA_RETURN_IF_ERROR(integrator->Reinit(t, y));
        ++summary.restarts;
      }
    }
    record(row);
    if (!fast_check.empty()) {
      const Status determined = fast_check.CheckDetermined(in.data());
      if (!determined.ok()) return determined.WithContext("at t = " + std::to_string(t));
    }
  }
  result.final_state.assign(in.begin() + 1, in.begin() + 1 + static_cast<std::ptrdiff_t>(cm.num_states()));
  summary.integrator = integrator->stats();
  summary.integration_seconds = Seconds(t_run, Clock::now());
  summary.termination = "reached end time";
  // Outputs that are not a number (0/0, a concentration in a compartment of
  // size 0, a piecewise with no piece that holds): said once per column.
  // One pass over the row-major table; columns in the order first found.
  std::vector<bool> said(ncol, false);
  for (size_t row = 0; row < result.rows; ++row) {
    for (size_t c = 1; c < ncol; ++c) {
      if (said[c] || !std::isnan(result.values[row * ncol + c])) continue;
      said[c] = true;
      summary.undefined_outputs.push_back("'" + result.columns[c] + "' is not a number (NaN) from t = " +
                                          std::to_string(result.values[row * ncol]));
    }
  }
  return result;
}

}  // namespace soma::sim
