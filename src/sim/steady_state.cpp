#include "sim/steady_state.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include <Eigen/Dense>

#include "sim/algebraic_solver.h"
#include "sim/model_system.h"

namespace soma::sim {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kInfinity = std::numeric_limits<double>::infinity();

// f(t, y) = 0 at a fixed model time: the steady-state equations for KINSOL.
// With `analytic` false (delayed values at equilibrium depend on y in a way
// the compiled Jacobian leaves out), KINSOL takes dense difference quotients.
class RateEquations : public solvers::NonlinearSystem {
 public:
  RateEquations(ModelSystem& system, double t, bool analytic) : system_(system), t_(t), analytic_(analytic) {}
  int size() const override { return system_.num_states(); }
  int Residual(const double* y, double* f) override {
    const int r = system_.Rhs(t_, y, f);
    if (r != 0 && delay_error_.empty()) delay_error_ = system_.delay_error();
    return r;
  }
  // The first negative delay an iterate gave ("" if none): the reason a
  // failed solve failed, which later evaluations no longer show.
  const std::string& delay_error() const { return delay_error_; }
  bool has_dense_jacobian() const override { return analytic_ && system_.has_dense_jacobian(); }
  int DenseJacobian(const double* y, double* jac) override { return system_.DenseJacobian(t_, y, jac); }
  const solvers::SparsePattern* sparse_pattern() const override {
    return analytic_ ? system_.sparse_pattern() : nullptr;
  }
  int SparseJacobian(const double* y, double* values) override { return system_.SparseJacobian(t_, y, values); }

 private:
  ModelSystem& system_;
  double t_;
  bool analytic_;
  std::string delay_error_;
};

// The model's ODEs without root functions: events play no part in a steady
// state, so their triggers need not be located.
class EventFreeSystem : public solvers::OdeSystem {
 public:
  explicit EventFreeSystem(ModelSystem& system) : system_(system) {}
  int num_states() const override { return system_.num_states(); }
  int Rhs(double t, const double* y, double* ydot) override { return system_.Rhs(t, y, ydot); }
  bool has_dense_jacobian() const override { return system_.has_dense_jacobian(); }
  int DenseJacobian(double t, const double* y, double* jac) override { return system_.DenseJacobian(t, y, jac); }
  const solvers::SparsePattern* sparse_pattern() const override { return system_.sparse_pattern(); }
  int SparseJacobian(double t, const double* y, double* values) override {
    return system_.SparseJacobian(t, y, values);
  }
  // Delay equations: the history is recorded at every step.
  bool wants_steps() const override { return system_.wants_steps(); }
  void OnStep(double t, const double* y, const double* ydot) override { system_.OnStep(t, y, ydot); }

 private:
  ModelSystem& system_;
};

struct RateCheck {
  double max_rate = kInfinity;
  double max_scaled = kInfinity;  // <= 1: converged
  size_t worst = 0;
};

// One steady-state search: the workspace, the model system over it, and the
// Newton and integration attempts.
class Search {
 public:
  Search(const CompiledModel& cm, const SteadyStateOptions& opt, std::vector<double>& in)
      : cm_(cm),
        opt_(opt),
        system_(cm, in),
        n_(cm.num_states()),
        analytic_(system_.has_dense_jacobian() && cm.delays().empty()),
        f_(n_),
        is_species_(n_, false) {
    for (const SymbolInfo& s : cm.symbols()) {
      if (s.role == SymbolRole::kState && s.kind == model::SymbolKind::kSpecies) is_species_[s.slot - 1] = true;
    }
    // Newton, the rate test and the Jacobian look for f(y, y) = 0: at a
    // steady state every delayed value equals the current one.
    system_.set_delays_at_equilibrium(true);
  }

  size_t size() const { return n_; }
  ModelSystem& system() { return system_; }

  RateCheck Check(double t, const std::vector<double>& y) {
    RateCheck c;
    if (system_.Rhs(t, y.data(), f_.data()) != 0) return c;
    c.max_rate = c.max_scaled = 0.0;
    for (size_t i = 0; i < n_; ++i) {
      const double rate = std::abs(f_[i]);
      const double scaled = rate / (opt_.abs_tol + opt_.rel_tol * std::abs(y[i]));
      if (!std::isfinite(scaled)) return RateCheck{};
      c.max_rate = std::max(c.max_rate, rate);
      if (scaled > c.max_scaled) {
        c.max_scaled = scaled;
        c.worst = i;
      }
    }
    return c;
  }

  std::string Describe(const RateCheck& c) const {
    if (!std::isfinite(c.max_scaled)) return "the rates are not finite";
    std::ostringstream s;
    s << "largest |d" << cm_.state_name(c.worst) << "/dt| / (abs + rel |" << cm_.state_name(c.worst)
      << "|) = " << c.max_scaled << " (must be <= 1)";
    if (!cm_.SlotRole(static_cast<uint32_t>(c.worst + 1)).empty()) s << "; " << cm_.DescribeState(c.worst);
    return s.str();
  }

  // The dense Jacobian at (t, y): analytic, or forward differences when the
  // model has algebraic rules or delays. Empty above max_dense_states.
  Eigen::MatrixXd Jacobian(double t, const std::vector<double>& y) {
    const long n = static_cast<long>(n_);
    if (n_ > static_cast<size_t>(opt_.max_dense_states)) return {};
    Eigen::MatrixXd jac(n, n);
    if (analytic_) {
      if (system_.DenseJacobian(t, y.data(), jac.data()) != 0) jac.setConstant(kInfinity);
      return jac;
    }
    std::vector<double> f0(n_), f1(n_), yh = y;
    if (system_.Rhs(t, y.data(), f0.data()) != 0) jac.setConstant(kInfinity);
    for (long j = 0; j < n && jac.allFinite(); ++j) {
      const double h = std::sqrt(std::numeric_limits<double>::epsilon()) * std::max(std::abs(y[j]), 1e-3);
      yh[j] = y[j] + h;
      if (system_.Rhs(t, yh.data(), f1.data()) != 0) jac.setConstant(kInfinity);
      for (long i = 0; i < n; ++i) jac(i, j) = (f1[i] - f0[i]) / h;
      yh[j] = y[j];
    }
    return jac;
  }

  // Whether the Jacobian is singular (after equilibrating rows and columns,
  // which changes no rank), with the reason in `why`. An empty (too large)
  // Jacobian counts as regular: KINSOL's verdict stands then.
  bool Singular(const Eigen::MatrixXd& jac, const char* where, std::string* why) const {
    if (jac.size() == 0) return false;
    if (!jac.allFinite()) {
      *why = std::string("the Jacobian ") + where + " is not finite";
      return true;
    }
    Eigen::MatrixXd scaled = jac;
    for (long i = 0; i < scaled.rows(); ++i) {
      const double m = scaled.row(i).cwiseAbs().maxCoeff();
      if (m > 0) scaled.row(i) /= m;
    }
    for (long j = 0; j < scaled.cols(); ++j) {
      const double m = scaled.col(j).cwiseAbs().maxCoeff();
      if (m > 0) scaled.col(j) /= m;
    }
    Eigen::FullPivLU<Eigen::MatrixXd> lu(scaled);
    lu.setThreshold(1e-10);
    if (lu.rank() == scaled.rows()) return false;
    std::ostringstream s;
    s << "the Jacobian " << where << " is singular (rank " << lu.rank() << " of " << scaled.rows()
      << "; conservation laws?)";
    *why = s.str();
    return true;
  }

  // Newton from y at model time t. On success y is the steady state.
  Result<bool> Newton(double t, std::vector<double>& y, SteadyStateSummary& summary, std::string* why) {
    RateEquations equations(system_, t, analytic_);
    solvers::NonlinearSolverOptions nopt;
    nopt.max_iterations = opt_.max_newton_iterations;
    nopt.linear_solver = opt_.linear_solver;
    // KINSOL stops at 1% of the tolerance, on scales taken from the start;
    // the test is then repeated on the solution's own scales.
    nopt.function_tol = 1e-2;
    SOMA_ASSIGN_OR_RETURN(auto solver, solvers::NonlinearSolver::Create(ctx_, &equations, nopt));
    std::vector<double> x = y, x_scale(n_), f_scale(n_);
    for (int attempt = 0; attempt < 3; ++attempt) {
      double largest = 0.0;
      for (double v : x) largest = std::max(largest, std::abs(v));
      const double floor = largest > 0 ? 1e-3 * largest : 1.0;
      for (size_t i = 0; i < n_; ++i) {
        x_scale[i] = 1.0 / std::max(std::abs(x[i]), floor);
        f_scale[i] = 1.0 / (opt_.abs_tol + opt_.rel_tol * std::abs(x[i]));
      }
      SOMA_ASSIGN_OR_RETURN(summary.newton, solver->Solve(x, x_scale, f_scale));
      ++summary.newton_attempts;
      const std::string& delay = equations.delay_error();
      const RateCheck check = Check(t, x);
      if (check.max_scaled <= 1.0) break;
      if (!summary.newton.converged) {
        *why = "Newton did not converge: " + summary.newton.termination +
               (delay.empty() ? std::string() : " (an iterate gave " + delay + ")") + "; " + Describe(check);
        return false;
      }
    }
    const RateCheck check = Check(t, x);
    if (check.max_scaled > 1.0) {
      *why = "Newton did not meet the tolerance: " + Describe(check);
      return false;
    }
    for (size_t i = 0; i < n_; ++i) {
      if (is_species_[i] && x[i] < -opt_.abs_tol) {
        *why = "Newton found a negative amount of species '" + cm_.state_name(i) + "' (" + std::to_string(x[i]) + ")";
        return false;
      }
    }
    if (Singular(Jacobian(t, x), "at Newton's solution", why)) {
      *why += ": the root is not isolated";
      return false;
    }
    y = x;
    return true;
  }

  // Growth slower than exponential eventually meets a relative test (y = c t
  // has y'/y = 1/t): a state also counts as settled only if its rate would
  // change it by at most 1% (plus abs_tol per time) over another `elapsed`.
  // Reads the rates of the last Check.
  bool Drifting(double elapsed, const std::vector<double>& y, size_t* which) {
    for (size_t i = 0; i < n_; ++i) {
      if (std::abs(f_[i]) * elapsed > opt_.abs_tol * elapsed + 1e-2 * std::abs(y[i])) {
        *which = i;
        return true;
      }
    }
    return false;
  }

  // Integrates from (start, y) until the rates meet the tolerance. On
  // success y and t are the state and time reached.
  Result<bool> Integrate(std::vector<double>& y, double& t, SteadyStateSummary& summary, std::string* why) {
    t = opt_.start;
    RateCheck check = Check(t, y);
    if (check.max_scaled <= 1.0) return true;
    EventFreeSystem ode(system_);
    solvers::IntegratorOptions iopt = IntegratorOptionsForAccuracy(opt_.abs_tol, opt_.rel_tol);
    iopt.linear_solver = opt_.linear_solver;
    iopt.max_steps = opt_.max_steps;
    // A delay model is integrated as the delay equation it is, from a past
    // that held the initial state (as Simulator does); only the rate test
    // between the horizons reads the delayed values at equilibrium.
    const bool delays = !cm_.delays().empty();
    if (delays) {
      system_.set_delays_at_equilibrium(false);
      if (!system_.Scatter(y.data())) {
        *why = "the algebraic rules have no solution at the start";
        return false;
      }
      system_.RecordHistory();
      const double tau = system_.MinimumDelay();
      if (std::isfinite(tau)) iopt.max_step = tau;
    }
    SOMA_ASSIGN_OR_RETURN(auto integrator, solvers::OdeIntegrator::Create(ctx_, &ode, t, y, iopt));
    for (double horizon = opt_.first_horizon;; horizon *= 2) {
      const double target = opt_.start + std::min(horizon, opt_.max_time);
      system_.set_delays_at_equilibrium(false);
      auto stop = integrator->Advance(target, kInfinity);
      system_.set_delays_at_equilibrium(true);
      summary.integrator = integrator->stats();
      summary.integrated_time = integrator->t() - opt_.start;
      if (!stop.ok()) {
        *why = "integration failed: " + stop.status().message();
        return false;
      }
      t = integrator->t();
      std::copy(integrator->y(), integrator->y() + n_, y.begin());
      check = Check(t, y);
      size_t drifting = 0;
      if (check.max_scaled <= 1.0) {
        if (!Drifting(t - opt_.start, y, &drifting)) return true;
        check.worst = drifting;
      }
      std::ostringstream s;
      if (summary.integrator.steps >= opt_.max_steps) {
        s << "integration took " << summary.integrator.steps << " steps (max_steps) to t = " << t
          << " without settling (oscillations?): " << Describe(check);
      } else if (horizon >= opt_.max_time) {
        s << "integration reached t = " << t << " (max_time) without settling: ";
        if (check.max_scaled <= 1.0) {
          s << cm_.DescribeState(drifting) << " still changes by more than 1% over the time integrated";
        } else {
          s << Describe(check);
        }
      } else {
        continue;
      }
      *why = s.str();
      return false;
    }
  }

 private:
  const CompiledModel& cm_;
  const SteadyStateOptions& opt_;
  solvers::SundialsContext ctx_;
  ModelSystem system_;
  size_t n_;
  bool analytic_;  // the compiled Jacobian is the Jacobian of f(y, y)
  std::vector<double> f_;
  std::vector<bool> is_species_;
};

// The workspace at the start, made consistent as Simulator does.
Result<std::vector<double>> StartWorkspace(const CompiledModel& cm, double t0) {
  SOMA_ASSIGN_OR_RETURN(std::vector<double> in, ConsistentInitialWorkspace(cm, t0, {}));
  SOMA_RETURN_IF_ERROR(cm.CheckInitialState(in));
  return in;
}

}  // namespace

Status SteadyStateOptions::Validate() const {
  auto bad = [](const char* field, double v, const char* rule) {
    std::ostringstream m;
    m << "SteadyStateOptions::" << field << " = " << v << "; must be " << rule;
    return InvalidArgument(m.str());
  };
  if (!(abs_tol > 0) || !std::isfinite(abs_tol)) return bad("abs_tol", abs_tol, "> 0");
  if (!(rel_tol > 0) || !std::isfinite(rel_tol)) return bad("rel_tol", rel_tol, "> 0");
  if (!std::isfinite(start)) return bad("start", start, "finite");
  if (max_newton_iterations < 1) return bad("max_newton_iterations", static_cast<double>(max_newton_iterations), ">= 1");
  if (!(first_horizon > 0) || !std::isfinite(first_horizon)) return bad("first_horizon", first_horizon, "> 0");
  if (!(max_time >= first_horizon) || !std::isfinite(max_time)) return bad("max_time", max_time, ">= first_horizon");
  if (max_steps < 1) return bad("max_steps", static_cast<double>(max_steps), ">= 1");
  if (max_dense_states < 0) return bad("max_dense_states", max_dense_states, ">= 0");
  return Status::Ok();
}

std::string_view RouteName(SteadyStateRoute route) {
  switch (route) {
    case SteadyStateRoute::kNone: return "none (no ODE states)";
    case SteadyStateRoute::kNewton: return "newton";
    case SteadyStateRoute::kIntegration: return "integration";
    case SteadyStateRoute::kIntegrationThenNewton: return "integration + newton";
  }
  return "unknown";
}

std::string SteadyStateSummary::BriefReport() const {
  std::ostringstream s;
  s << RouteName(route) << ": max |dy/dt| " << max_rate << " (scaled " << max_scaled_rate << "), "
    << stability.Describe();
  return s.str();
}

std::string SteadyStateSummary::FullReport() const {
  std::ostringstream s;
  s << "Steady state summary\n"
    << "  method                         " << RouteName(route) << "\n";
  if (!newton_rejected.empty()) s << "  Newton not used                " << newton_rejected << "\n";
  if (newton_attempts > 0) s << "  last Newton solve              " << newton.BriefReport() << "\n";
  s << "  integrated model time          " << integrated_time << "\n"
    << "  integrator steps               " << integrator.steps << "\n"
    << "  model time of the state        " << time << "\n"
    << "  max |dy/dt|                    " << max_rate << "\n"
    << "  max |dy/dt| / (abs + rel |y|)  " << max_scaled_rate
    << (worst_state.empty() ? "" : " (" + worst_state + ")") << "\n"
    << "  stability                      " << stability.Describe() << "\n"
    << "  time (s)                       " << seconds << "\n";
  return s.str();
}

double SteadyStateResult::value(std::string_view id) const {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == id) return values[i];
  }
  return std::numeric_limits<double>::quiet_NaN();
}

Result<SteadyStateResult> FindSteadyState(const CompiledModel& cm, const SteadyStateOptions& options,
                                          const std::vector<OutputVariable>& requested) {
  SOMA_RETURN_IF_ERROR(options.Validate());
  const auto t_begin = Clock::now();
  const std::vector<OutputVariable> outputs = requested.empty() ? cm.DefaultOutputs() : requested;
  SOMA_ASSIGN_OR_RETURN(expr::Program out_program, cm.CompileOutputs(outputs));
  SOMA_ASSIGN_OR_RETURN(std::vector<double> in, StartWorkspace(cm, options.start));

  SteadyStateResult result;
  SteadyStateSummary& summary = result.summary;
  summary.time = options.start;
  const size_t n = cm.num_states();
  Search search(cm, options, in);
  std::vector<double> y(in.begin() + 1, in.begin() + 1 + static_cast<long>(n));

  if (n > 0) {
    bool found = false;
    std::string why;
    if (options.method != SteadyStateMethod::kIntegration) {
      // A Jacobian singular at the start (conservation laws) sends kAuto
      // straight to integration; kNewton tries anyway.
      const bool skip = options.method == SteadyStateMethod::kAuto &&
                        search.Singular(search.Jacobian(options.start, y), "at the start", &why);
      if (!skip) {
        std::vector<double> x = y;
        SOMA_ASSIGN_OR_RETURN(found, search.Newton(options.start, x, summary, &why));
        if (found) {
          y = x;
          summary.route = SteadyStateRoute::kNewton;
        }
      }
      if (!found) summary.newton_rejected = why;
      if (!found && options.method == SteadyStateMethod::kNewton) {
        // A negative delay at an iterate (named in why) is where Newton
        // went, not the model's error: integration, on the trajectory
        // itself, decides that.
        return SolverFailure("no steady state found by Newton's method: " + why +
                             " (method auto falls back to integration)");
      }
    }
    if (!found) {
      std::string integration_why;
      SOMA_ASSIGN_OR_RETURN(found, search.Integrate(y, summary.time, summary, &integration_why));
      if (!found) {
        SOMA_RETURN_IF_ERROR(search.system().DelayStatus());
        std::string msg = "no steady state found: ";
        if (!summary.newton_rejected.empty()) msg += summary.newton_rejected + "; ";
        return SolverFailure(msg + integration_why);
      }
      summary.route = SteadyStateRoute::kIntegration;
      if (options.polish) {
        std::string polish_why;
        std::vector<double> x = y;
        bool polished = false;
        if (!search.Singular(search.Jacobian(summary.time, x), "at the integrated state", &polish_why)) {
          SOMA_ASSIGN_OR_RETURN(polished, search.Newton(summary.time, x, summary, &polish_why));
        }
        // Kept only if Newton stayed close: from a settled state it should
        // not go anywhere else.
        for (size_t i = 0; polished && i < n; ++i) {
          if (std::abs(x[i] - y[i]) > 1e-2 * (std::abs(y[i]) + options.abs_tol)) polished = false;
        }
        if (polished) {
          y = x;
          summary.route = SteadyStateRoute::kIntegrationThenNewton;
        }
      }
    }
    RateCheck check = search.Check(summary.time, y);
    summary.max_rate = check.max_rate;
    summary.max_scaled_rate = check.max_scaled;
    summary.worst_state = cm.state_name(check.worst);
    const Eigen::MatrixXd jac = search.Jacobian(summary.time, y);
    if (!cm.delays().empty()) {
      // The characteristic equation of a delay equation, det(lambda I - A -
      // B exp(-lambda tau)) = 0, has infinitely many roots; the eigenvalues
      // of A + B (tau = 0) do not decide its stability.
      summary.stability.reason = "a model with delay(): not decided by the Jacobian's eigenvalues";
    } else if (jac.size() > 0) {
      summary.stability = ClassifyStability(jac);
    } else {
      summary.stability.reason = "more than max_dense_states states";
    }
  } else {
    summary.stability.reason = "no ODE states";
  }

  // The workspace at the steady state; its outputs.
  in[0] = summary.time;
  if (!search.system().Scatter(y.data())) {
    SOMA_RETURN_IF_ERROR(search.system().DelayStatus());
    return SolverFailure("the algebraic rules have no solution at the steady state");
  }
  for (const OutputVariable& v : outputs) result.ids.push_back(v.id);
  result.values.resize(outputs.size());
  std::vector<double> scratch = out_program.NewScratch();
  out_program.Run(in.data(), result.values.data(), scratch.data());
  for (size_t i = 0; i < n; ++i) result.state_ids.push_back(cm.state_name(i));
  result.states = y;
  summary.seconds = std::chrono::duration<double>(Clock::now() - t_begin).count();
  return result;
}

}  // namespace soma::sim
