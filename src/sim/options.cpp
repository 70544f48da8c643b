#include "sim/options.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace soma::sim {

Status SimulationOptions::Validate() const {
  auto bad = [](const std::string& field, double v, const char* rule) {
    std::ostringstream m;
    m << "SimulationOptions::" << field << " = " << v << "; must be " << rule;
    return InvalidArgument(m.str());
  };
  if (!std::isfinite(start)) return bad("start", start, "finite");
  if (!std::isfinite(end) || !(end > start)) return bad("end", end, "finite and > start");
  if (steps < 1) return bad("steps", steps, ">= 1");
  // One output row per step, each held in memory with all its columns.
  if (steps > kMaxOutputSteps) return bad("steps", steps, "<= 10000000 (one output row per step)");
  if (output_times.size() > static_cast<size_t>(kMaxOutputSteps) + 1) {
    return bad("output_times.size()", static_cast<double>(output_times.size()), "<= 10000001");
  }
  if (max_event_iterations < 1) return bad("max_event_iterations", static_cast<double>(max_event_iterations), ">= 1");
  for (size_t i = 0; i < output_times.size(); ++i) {
    const double t = output_times[i];
    const std::string field = "output_times[" + std::to_string(i) + "]";
    if (!std::isfinite(t) || t < start || t > end) return bad(field, t, "finite and within [start, end]");
    if (i > 0 && t < output_times[i - 1]) return bad(field, t, "not before the previous output time");
  }
  for (const auto& [id, value] : overrides) {
    if (!std::isfinite(value)) return bad("overrides['" + id + "']", value, "finite");
  }
  for (size_t i = 0; i < initial_state.size(); ++i) {
    if (!std::isfinite(initial_state[i])) return bad("initial_state[" + std::to_string(i) + "]", initial_state[i], "finite");
  }
  return integrator.Validate();
}

Status SimulationOptions::CheckDeadline(double t) const {
  if (deadline == std::chrono::steady_clock::time_point::max() || std::chrono::steady_clock::now() < deadline)
    return Status::Ok();
  std::ostringstream m;
  m << "time limit reached at t = " << t << " of the simulation (SimulationOptions::deadline)";
  return ResourceExhausted(m.str());
}

std::vector<double> SimulationOptions::OutputTimes() const {
  if (!output_times.empty()) return output_times;
  std::vector<double> times(static_cast<size_t>(steps) + 1);
  const double span = end - start;
  for (size_t row = 0; row < times.size(); ++row) {
    times[row] = row + 1 == times.size() ? end : start + span * static_cast<double>(row) / steps;
  }
  return times;
}

std::string SimulationSummary::BriefReport() const {
  std::ostringstream s;
  s << "steps " << integrator.steps << ", rhs " << integrator.rhs_evaluations << ", jac "
    << integrator.jacobian_evaluations << ", events " << events_fired << ", "
    << (setup_seconds + integration_seconds) * 1e3 << " ms (" << termination << ")";
  return s.str();
}

std::string SimulationSummary::FullReport() const {
  std::ostringstream s;
  s << "Simulation summary\n"
    << "  termination                    " << termination << "\n"
    << "  integrator steps               " << integrator.steps << "\n"
    << "  right-hand side evaluations    " << integrator.rhs_evaluations << "\n"
    << "  Jacobian evaluations           " << integrator.jacobian_evaluations << "\n"
    << "  root function evaluations      " << integrator.root_evaluations << "\n"
    << "  error test failures            " << integrator.error_test_failures << "\n"
    << "  nonlinear convergence failures " << integrator.nonlinear_convergence_failures << "\n"
    << "  linear solver setups           " << integrator.linear_solver_setups << "\n";
  if (integrator.method == solvers::OdeMethod::kRungeKutta) {
    s << "  method                         explicit Runge-Kutta, Dormand-Prince 5(4) (rk45)\n";
  }
  if (!std::isnan(integrator.bdf_from) || integrator.bdf_probes > 0 || integrator.rk_segments > 0) {
    // Segments: the run's start and every restart begin one.
    const long segments = std::max(restarts + 1, integrator.rk_segments);
    s << "  automatic method               ";
    if (integrator.rk_segments > 0) {
      s << "explicit Runge-Kutta on " << integrator.rk_segments << " of " << segments << " segments";
      if (integrator.rk_fallbacks > 0) s << " (" << integrator.rk_fallbacks << " handed back to Adams)";
    }
    if (integrator.rk_segments < segments) {
      s << (integrator.rk_segments > 0 ? ", Adams on the others" : "Adams");
    }
    if (!std::isnan(integrator.bdf_from)) {
      s << ", BDF from t = " << integrator.bdf_from << " (" << integrator.method_switches << " switches)";
    }
    if (integrator.bdf_probes > 0) s << ", BDF tried " << integrator.bdf_probes << " times";
    s << "\n";
  }
  s
    << "  roots found                    " << roots_found << "\n"
    << "  events fired                   " << events_fired << "\n"
    << "  integrator restarts            " << restarts << "\n"
    << "  setup time (s)                 " << setup_seconds << "\n"
    << "  integration time (s)           " << integration_seconds << "\n";
  for (const std::string& v : constraint_violations) s << "  constraint violated at " << v << "\n";
  for (const std::string& v : undefined_outputs) s << "  output " << v << "\n";
  return s.str();
}

solvers::IntegratorOptions IntegratorOptionsForAccuracy(double abs_tol, double rel_tol) {
  solvers::IntegratorOptions o;
  o.rel_tol = std::max(rel_tol * 1e-3, 1e-14);
  o.abs_tol = abs_tol * 1e-5;
  return o;
}

Result<solvers::OdeMethod> ParseOdeMethod(std::string_view name) {
  if (name == "auto") return solvers::OdeMethod::kAuto;
  if (name == "bdf") return solvers::OdeMethod::kBdf;
  if (name == "adams") return solvers::OdeMethod::kAdams;
  if (name == "rk45") return solvers::OdeMethod::kRungeKutta;
  return InvalidArgument("method '" + std::string(name) + "' is not one of auto, bdf, adams, rk45");
}

std::string_view OdeMethodName(solvers::OdeMethod method) {
  switch (method) {
    case solvers::OdeMethod::kAuto: return "auto";
    case solvers::OdeMethod::kBdf: return "bdf";
    case solvers::OdeMethod::kAdams: return "adams";
    case solvers::OdeMethod::kRungeKutta: return "rk45";
  }
  return "unknown";
}

}  // namespace soma::sim
