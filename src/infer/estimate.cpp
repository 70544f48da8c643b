#include "infer/estimate.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

#include <ceres/ceres.h>

#include "infer/minimise.h"
#include "infer/objective.h"
#include "infer/uncertainty.h"
#include "uq/distributions.h"

namespace soma::infer {
namespace {

using internal::Objective;
using internal::ThreadsOf;

Status Positive(const char* field, double v) {
  if (!(v > 0) || !std::isfinite(v))
    return InvalidArgument(std::string("EstimationOptions::") + field + " = " + std::to_string(v) + "; must be > 0");
  return Status::Ok();
}

// All residuals of the problem as one Ceres residual block over the
// parameter vector theta (estimation scale).
class ProblemCost : public ceres::CostFunction {
 public:
  ProblemCost(const Objective& objective, int threads, internal::Counters& counters, int& failed_steps,
              internal::MinimiseLimits::Clock::time_point deadline)
      : objective_(objective), threads_(threads), counters_(counters), failed_steps_(failed_steps),
        deadline_(deadline) {
    set_num_residuals(static_cast<int>(objective.num_residuals()));
    mutable_parameter_block_sizes()->push_back(static_cast<int>(objective.num_parameters()));
  }

  bool Evaluate(double const* const* parameters, double* residuals, double** jacobians) const override {
    const std::vector<double> x = objective_.FromTheta(parameters[0]);
    const bool want_jacobian = jacobians != nullptr && jacobians[0] != nullptr;
    ++counters_.simulations;
    if (want_jacobian) ++counters_.gradients;
    auto v = objective_.Compute(x, want_jacobian, threads_, deadline_);
    if (!v.ok()) {
      if (v.status().code() == ErrorCode::kResourceExhausted) {
        deadline_hit_ = true;  // the budget, not the point: not a failed simulation
        return false;
      }
      ++counters_.failures;
      ++failed_steps_;
      return false;
    }
    const bool first = offsets_.empty();
    if (first) offsets_ = objective_.SigmaOffsets(*v);  // the start point
    Status s = objective_.Residuals(*v, x, offsets_, residuals, want_jacobian ? jacobians[0] : nullptr);
    if (!s.ok()) {
      ++failed_steps_;
      return false;
    }
    if (first) {
      // Ceres' cost 1/2 |r|^2 is the objective plus a constant (the
      // offsets): the constant, for reporting the objective per iteration.
      double half_sum = 0.0;
      for (int i = 0; i < num_residuals(); ++i) half_sum += 0.5 * residuals[i] * residuals[i];
      cost_to_objective_ = objective_.Nllh(*v) + objective_.NegLogPrior(x) - half_sum;
    }
    return true;
  }

  // Objective = Ceres cost + this (0 until the first point was evaluated).
  double cost_to_objective() const { return cost_to_objective_; }
  // A simulation stopped at the deadline.
  bool deadline_hit() const { return deadline_hit_; }

 private:
  const Objective& objective_;
  const int threads_;  // experiments in parallel within one evaluation
  internal::Counters& counters_;
  int& failed_steps_;
  mutable std::vector<double> offsets_;
  mutable double cost_to_objective_ = 0.0;
  const internal::MinimiseLimits::Clock::time_point deadline_;
  mutable bool deadline_hit_ = false;
};

// Reports each iteration, and stops the minimisation at the end of the
// iteration in which the deadline passed (the simulations themselves stop
// at it: ProblemCost).
//
// With a deadline it also keeps the best point reached: the start, then the
// point of each iteration (Ceres writes it to `theta` each iteration,
// Solver::Options::update_state_every_iteration). When the deadline stops
// the first evaluation, or the Jacobian evaluation at a newly accepted
// point, Ceres ends with FAILURE and leaves no usable result of its own.
class IterationWatch : public ceres::IterationCallback {
 public:
  IterationWatch(const internal::MinimiseLimits& limits, const ProblemCost& cost, const std::vector<double>& theta)
      : limits_(limits), cost_(cost), theta_(theta), keeps_points_(limits.deadline != kNoDeadline),
        t0_(internal::MinimiseLimits::Clock::now()) {
    if (keeps_points_) last_theta_ = theta;
  }

  ceres::CallbackReturnType operator()(const ceres::IterationSummary& s) override {
    const auto now = internal::MinimiseLimits::Clock::now();
    if (keeps_points_) last_theta_ = theta_;
    if (limits_.iteration_progress) {
      IterationInfo info;
      info.start = limits_.start;
      info.iteration = s.iteration;
      info.objective = s.cost + cost_.cost_to_objective();
      info.step_accepted = s.step_is_successful || s.iteration == 0;
      info.seconds = std::chrono::duration<double>(now - t0_).count();
      limits_.iteration_progress(info);
    }
    if (now >= limits_.deadline) {
      time_limited_ = true;
      return ceres::SOLVER_TERMINATE_SUCCESSFULLY;
    }
    return ceres::SOLVER_CONTINUE;
  }

  bool time_limited() const { return time_limited_; }
  // Whether Ceres must write theta each iteration (a deadline was set).
  bool keeps_points() const { return keeps_points_; }
  // With a deadline: theta at the last iteration, or the start before it.
  const std::vector<double>& last_theta() const { return last_theta_; }

  static constexpr internal::MinimiseLimits::Clock::time_point kNoDeadline =
      internal::MinimiseLimits::Clock::time_point::max();

 private:
  const internal::MinimiseLimits& limits_;
  const ProblemCost& cost_;
  const std::vector<double>& theta_;
  const bool keeps_points_;
  std::vector<double> last_theta_;
  const internal::MinimiseLimits::Clock::time_point t0_;
  bool time_limited_ = false;
};

StartResult RunStart(const Objective& objective, const EstimationOptions& options, int threads, int index,
                     const std::vector<double>& start, internal::Counters& counters,
                     const internal::MinimiseLimits& limits) {
  const auto t0 = std::chrono::steady_clock::now();
  StartResult r;
  r.index = index;
  r.start = start;
  r.estimate = start;
  const size_t n = objective.num_parameters();
  if (n > 0) {
    internal::Minimum m =
        internal::Minimise(objective, options, threads, objective.ToTheta(start), -1, counters, limits);
    r.iterations = m.iterations;
    r.failed_steps = m.failed_steps;
    r.termination = m.termination;
    r.converged = m.converged;
    r.time_limited = m.time_limited;
    if (!m.usable) {
      r.error = SolverFailure("start " + std::to_string(index) + ": " + m.termination);
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return r;
    }
    r.estimate = objective.FromTheta(m.theta.data());
  }
  auto v = objective.Compute(r.estimate, false, threads);
  if (!v.ok()) {
    r.error = v.status();
    r.termination = v.status().ToString();
  } else {
    r.nllh = objective.Nllh(*v);
    r.objective = r.nllh + objective.NegLogPrior(r.estimate);
    if (n == 0) {
      r.converged = true;
      r.termination = "no parameters to estimate";
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// The objective's gradient (estimation scale): its residuals r form the
// cost 1/2 |r|^2 = objective + constant, so the gradient is J^T r.
Result<Eigen::VectorXd> Gradient(const Objective& objective, const std::vector<double>& theta,
                                 const std::vector<double>& offsets, int threads) {
  const std::vector<double> x = objective.FromTheta(theta.data());
  SOMA_ASSIGN_OR_RETURN(internal::PointValues v, objective.Compute(x, true, threads));
  const size_t n = objective.num_parameters(), m = objective.num_residuals();
  std::vector<double> r(m), jac(m * n);
  SOMA_RETURN_IF_ERROR(objective.Residuals(v, x, offsets, r.data(), jac.data()));
  Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> J(
      jac.data(), static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(n));
  return Eigen::VectorXd(J.transpose() * Eigen::Map<const Eigen::VectorXd>(r.data(), static_cast<Eigen::Index>(m)));
}

// The observed Hessian at x by central differences of the analytic gradient
// (step 1e-4 on the estimation scale, 1e-4 |theta| when larger), symmetrised.
// Parameters within a step of a bound or of a Laplace-family prior's kink
// (where MAP estimates often sit) keep `fisher`'s rows and columns. `at_x`:
// the values at x (for the sigma offsets).
Result<Eigen::MatrixXd> ObservedHessian(const Objective& objective, const std::vector<double>& x,
                                        const internal::PointValues& at_x, const Eigen::MatrixXd& fisher,
                                        int threads, long* gradients) {
  const EstimationProblem& problem = objective.problem();
  const size_t n = objective.num_parameters();
  const std::vector<double> theta = objective.ToTheta(x);
  const std::vector<double> offsets = objective.SigmaOffsets(at_x);
  std::vector<double> step(n);
  std::vector<bool> free(n);
  for (size_t k = 0; k < n; ++k) {
    const EstimatedParameter& p = problem.parameters[k];
    const double lo = ToScale(p.scale, p.lower), hi = ToScale(p.scale, p.upper);
    step[k] = 1e-4 * std::max(1.0, std::abs(theta[k]));
    using K = Prior::Kind;
    double kink = NAN;  // on the estimation scale
    if (p.prior.kind == K::kLaplace && (p.scale == Scale::kLin || p.prior.a > 0)) kink = ToScale(p.scale, p.prior.a);
    if (p.prior.kind == K::kLogLaplace) kink = ToScale(p.scale, std::exp(p.prior.a));
    if (p.prior.kind == K::kParameterScaleLaplace) kink = p.prior.a;
    free[k] = theta[k] - step[k] > lo && theta[k] + step[k] < hi && !(std::abs(theta[k] - kink) <= 2 * step[k]);
  }
  Eigen::MatrixXd h = fisher;
  for (size_t k = 0; k < n; ++k) {
    if (!free[k]) continue;
    std::vector<double> up = theta, down = theta;
    up[k] += step[k];
    down[k] -= step[k];
    *gradients += 2;
    SOMA_ASSIGN_OR_RETURN(Eigen::VectorXd gu, Gradient(objective, up, offsets, threads));
    SOMA_ASSIGN_OR_RETURN(Eigen::VectorXd gd, Gradient(objective, down, offsets, threads));
    const Eigen::VectorXd col = (gu - gd) / (2 * step[k]);
    for (size_t a = 0; a < n; ++a) {
      if (free[a]) h(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(k)) = col(static_cast<Eigen::Index>(a));
    }
  }
  const Eigen::MatrixXd sym = (h + h.transpose()) / 2;
  if (!sym.allFinite()) return SolverFailure("not finite");
  return sym;
}

// Why the covariance must come from the Fisher information (see estimate.h),
// or "" when the observed Hessian is to be computed: `hessian_seconds` is the
// estimated cost of its 2 n gradients, `fit_seconds` the fit's time so far.
std::string FisherReason(const EstimationProblem& problem, const EstimationOptions& options,
                         double hessian_seconds, double fit_seconds) {
  using C = EstimationOptions::Curvature;
  if (options.curvature == C::kExpected) return "expected Fisher information";
  for (const Experiment& e : problem.experiments)
    for (const auto& o : e.observables)
      if (o.noise.distribution == NoiseDistribution::kLaplace) {
        // Sums of |residual| are piecewise linear: their Hessian is zero
        // between kinks and undefined at them (a median sits on one).
        return "expected Fisher information (Laplace noise)";
      }
  if (options.curvature == C::kObserved) return "";
  if (problem.parameters.size() > 50) return "expected Fisher information (more than 50 parameters)";
  if (hessian_seconds > std::max(30.0, 0.5 * fit_seconds)) {
    return "expected Fisher information (the observed Hessian would take about " +
           std::to_string(static_cast<long>(hessian_seconds)) + " s)";
  }
  return "";
}

std::vector<std::vector<double>> StartPoints(const EstimationProblem& problem, const EstimationOptions& options) {
  const int n = static_cast<int>(problem.parameters.size());
  std::vector<std::vector<double>> points;
  bool nominal = n > 0;
  for (const auto& p : problem.parameters) nominal = nominal && std::isfinite(p.nominal);
  if (nominal || n == 0) {
    std::vector<double> x = problem.NominalValues();
    for (int k = 0; k < n; ++k) x[k] = std::clamp(x[k], problem.parameters[k].lower, problem.parameters[k].upper);
    points.push_back(std::move(x));
  }
  const int needed = options.starts - static_cast<int>(points.size());
  if (needed > 0 && n > 0) {
    auto cube = uq::UnitCubeSample(needed, n, uq::SamplingMethod::kLatinHypercube, options.seed);
    for (const auto& u : cube) {
      std::vector<double> x(n);
      for (int k = 0; k < n; ++k) {
        const EstimatedParameter& p = problem.parameters[k];
        const double lo = ToScale(p.scale, p.lower), hi = ToScale(p.scale, p.upper);
        x[k] = std::clamp(FromScale(p.scale, lo + u[k] * (hi - lo)), p.lower, p.upper);
      }
      points.push_back(std::move(x));
    }
  }
  points.resize(std::min<size_t>(points.size(), std::max(1, options.starts)));
  return points;
}

}  // namespace

namespace internal {

int ResolveThreads(int threads) {
  return threads == 0 ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) : threads;
}

void RunWorkers(int threads, const std::function<void()>& worker) {
  if (threads <= 1) {
    worker();
    return;
  }
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
}

Minimum Minimise(const Objective& objective, const EstimationOptions& options, int threads,
                 std::vector<double> theta, int fixed, Counters& counters, const MinimiseLimits& limits) {
  Minimum r;
  const EstimationProblem& problem = objective.problem();
  const int n = static_cast<int>(objective.num_parameters());
  if (n == 0 || (n == 1 && fixed == 0)) {  // nothing free
    r.theta = std::move(theta);
    r.usable = r.converged = true;
    r.termination = "no free parameters";
    return r;
  }
  ceres::Problem::Options po;
  po.cost_function_ownership = ceres::TAKE_OWNERSHIP;
  ceres::Problem cp(po);
  auto* cost = new ProblemCost(objective, threads, counters, r.failed_steps, limits.deadline);
  cp.AddResidualBlock(cost, nullptr, theta.data());
  if (fixed >= 0) cp.SetManifold(theta.data(), new ceres::SubsetManifold(n, {fixed}));
  for (int k = 0; k < n; ++k) {
    if (k == fixed) continue;
    const EstimatedParameter& p = problem.parameters[k];
    cp.SetParameterLowerBound(theta.data(), k, ToScale(p.scale, p.lower));
    cp.SetParameterUpperBound(theta.data(), k, ToScale(p.scale, p.upper));
  }
  ceres::Solver::Options so;
  so.minimizer_type = ceres::TRUST_REGION;
  so.trust_region_strategy_type = ceres::LEVENBERG_MARQUARDT;
  so.linear_solver_type = ceres::DENSE_QR;
  so.max_num_iterations = options.max_iterations;
  so.function_tolerance = options.function_tolerance;
  so.gradient_tolerance = options.gradient_tolerance;
  so.parameter_tolerance = options.parameter_tolerance;
  so.num_threads = 1;
  // With bounds, every trust-region step is followed by a projected
  // Armijo line search. Ceres' default cubic interpolation asks for the
  // gradient at each trial point, i.e. a simulation with forward
  // sensitivities; quadratic interpolation needs only the objective there
  // (the gradient at the start of the search is known). On PEtab
  // Bachmann_MSB2011 (113 parameters) three iterations took 84.5 s with
  // cubic and 3.3 s with quadratic, to the same objective.
  so.line_search_interpolation_type = ceres::QUADRATIC;
  so.logging_type = ceres::SILENT;
  so.minimizer_progress_to_stdout = false;
  IterationWatch watch(limits, *cost, theta);
  so.callbacks.push_back(&watch);
  so.update_state_every_iteration = watch.keeps_points();
  ceres::Solver::Summary summary;
  ceres::Solve(so, &cp, &summary);
  r.iterations = std::max(0, static_cast<int>(summary.iterations.size()) - 1);
  r.converged = summary.termination_type == ceres::CONVERGENCE;
  r.time_limited = watch.time_limited() || cost->deadline_hit();
  r.termination = r.time_limited ? "time limit reached (EstimationOptions::max_seconds)" : summary.message;
  r.usable = summary.IsSolutionUsable() && !summary.iterations.empty();
  if (!r.usable && r.time_limited) {
    // The deadline stopped an evaluation Ceres needed: the best point
    // reached (the start when no iteration finished).
    theta = watch.last_theta();
    r.usable = true;
  }
  r.theta = std::move(theta);
  return r;
}

}  // namespace internal

Status EstimationOptions::Validate() const {
  if (starts < 1) return InvalidArgument("EstimationOptions::starts = " + std::to_string(starts) + "; must be >= 1");
  if (threads < 0) return InvalidArgument("EstimationOptions::threads = " + std::to_string(threads) + "; must be >= 0");
  if (max_iterations < 1)
    return InvalidArgument("EstimationOptions::max_iterations = " + std::to_string(max_iterations) + "; must be >= 1");
  SOMA_RETURN_IF_ERROR(Positive("function_tolerance", function_tolerance));
  SOMA_RETURN_IF_ERROR(Positive("gradient_tolerance", gradient_tolerance));
  SOMA_RETURN_IF_ERROR(Positive("parameter_tolerance", parameter_tolerance));
  SOMA_RETURN_IF_ERROR(Positive("rel_tol", rel_tol));
  SOMA_RETURN_IF_ERROR(Positive("abs_tol", abs_tol));
  if (max_steps < 1) return InvalidArgument("EstimationOptions::max_steps = " + std::to_string(max_steps) + "; must be >= 1");
  if (!(max_seconds >= 0) || !std::isfinite(max_seconds))
    return InvalidArgument("EstimationOptions::max_seconds = " + std::to_string(max_seconds) +
                           "; must be >= 0 (0: no limit)");
  if (!(confidence > 0 && confidence < 1))
    return InvalidArgument("EstimationOptions::confidence = " + std::to_string(confidence) + "; must be in (0, 1)");
  if (!(identifiability_tolerance > 0 && identifiability_tolerance < 1))
    return InvalidArgument("EstimationOptions::identifiability_tolerance = " +
                           std::to_string(identifiability_tolerance) + "; must be in (0, 1)");
  return Status::Ok();
}

Result<EstimationSummary> Estimate(const EstimationProblem& problem, const EstimationOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  SOMA_ASSIGN_OR_RETURN(auto objective, Objective::Prepare(problem, options, internal::Derivatives::kSensitivities));
  const std::vector<std::vector<double>> points = StartPoints(problem, options);

  EstimationSummary summary;
  summary.num_measurements = problem.num_measurements();
  summary.starts.resize(points.size());
  internal::Counters counters;
  std::atomic<size_t> next{0};
  std::mutex progress_mutex;
  // Threads go to the starts first; those left over run each start's
  // experiments in parallel (one start on two cores: two experiments at a time).
  const int all_threads = ThreadsOf(options);
  const int threads = std::max(1, std::min<int>(all_threads, static_cast<int>(points.size())));
  const int experiment_threads = std::max(1, all_threads / threads);
  using Clock = internal::MinimiseLimits::Clock;
  const Clock::time_point deadline =
      options.max_seconds > 0
          ? t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.max_seconds))
          : Clock::time_point::max();
  auto worker = [&] {
    for (size_t i = next++; i < points.size(); i = next++) {
      // Start 0 always runs (at least its start point), so that a fit with
      // a time limit has a result.
      if (i > 0 && Clock::now() >= deadline) {
        StartResult& r = summary.starts[i];
        r.index = static_cast<int>(i);
        r.start = r.estimate = points[i];
        r.not_run = true;
        r.termination = "not run: the time limit of " + std::to_string(options.max_seconds) + " s was spent";
        r.error = ResourceExhausted(r.termination);
        continue;
      }
      internal::MinimiseLimits limits;
      limits.deadline = deadline;
      limits.start = static_cast<int>(i);
      limits.iteration_progress = options.iteration_progress;
      summary.starts[i] =
          RunStart(*objective, options, experiment_threads, static_cast<int>(i), points[i], counters, limits);
      if (options.progress) {
        std::lock_guard<std::mutex> lock(progress_mutex);
        options.progress(summary.starts[i]);
      }
    }
  };
  internal::RunWorkers(threads, worker);
  summary.simulations = counters.simulations;
  summary.failed_simulations = counters.failures;
  summary.gradient_simulations = counters.gradients;

  for (const StartResult& s : summary.starts) {
    summary.time_limited = summary.time_limited || s.time_limited || s.not_run;
    if (!s.error.ok() || !std::isfinite(s.objective)) continue;
    if (summary.best_start < 0 || s.objective < summary.starts[summary.best_start].objective)
      summary.best_start = s.index;
  }
  if (summary.best_start < 0) {
    summary.termination = "every start failed";
    if (!summary.starts.empty()) summary.termination += " (first: " + summary.starts[0].termination + ")";
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return summary;
  }
  const StartResult& best = summary.starts[summary.best_start];
  summary.converged = best.converged;
  summary.termination = best.termination;
  summary.objective = best.objective;
  summary.nllh = best.nllh;
  summary.neg_log_prior = best.objective - best.nllh;
  if (objective->num_parameters() > 0) {
    const auto t_grad = std::chrono::steady_clock::now();
    // A time-limited fit gets as long again for the sensitivities at its
    // estimate; without them it reports the estimate without intervals.
    const Clock::time_point grad_deadline =
        summary.time_limited ? deadline + (deadline - t0) : Clock::time_point::max();
    auto v = objective->Compute(best.estimate, true, all_threads, grad_deadline);
    if (!v.ok() && v.status().code() == ErrorCode::kResourceExhausted && summary.time_limited) {
      summary.curvature = "not computed: the sensitivities at the estimate did not finish within the time limit";
      internal::FillUncertainty(problem, best.estimate, options, summary);
      summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return summary;
    }
    if (!v.ok()) return v.status().WithContext("sensitivities at the best estimate");
    const double grad_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_grad).count();
    summary.curvature_simulations = 1;
    summary.fisher = objective->Fisher(*v, best.estimate);
    const double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double hessian_seconds = 2.0 * static_cast<double>(objective->num_parameters()) * grad_seconds;
    summary.curvature = FisherReason(problem, options, hessian_seconds, fit_seconds);
    // A time-limited fit is not at an optimum, and the limit is what the
    // user can spend: no 2 n more gradient simulations for the Hessian.
    if (summary.curvature.empty() && summary.time_limited)
      summary.curvature = "expected Fisher information (the fit stopped at its time limit)";
    if (summary.curvature.empty()) {
      long gradients = 0;
      auto h = ObservedHessian(*objective, best.estimate, *v, summary.fisher, all_threads, &gradients);
      summary.curvature_simulations += gradients;
      if (h.ok()) summary.hessian = std::move(*h);
      else summary.curvature = "expected Fisher information (observed Hessian: " + h.status().message() + ")";
    }
  }
  internal::FillUncertainty(problem, best.estimate, options, summary);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

Result<Evaluation> Evaluate(const EstimationProblem& problem, const std::vector<double>& values,
                            const EstimationOptions& options) {
  if (values.size() != problem.parameters.size())
    return InvalidArgument("Evaluate: " + std::to_string(values.size()) + " values for " +
                           std::to_string(problem.parameters.size()) + " parameters");
  SOMA_ASSIGN_OR_RETURN(auto objective, Objective::Prepare(problem, options, internal::Derivatives::kNone));
  SOMA_ASSIGN_OR_RETURN(internal::PointValues v, objective->Compute(values, false, ThreadsOf(options)));
  Evaluation ev;
  ev.nllh = objective->Nllh(v);
  ev.neg_log_prior = objective->NegLogPrior(values);
  size_t i = 0;
  for (const Experiment& e : problem.experiments) {
    ev.predictions.emplace_back(v.m.begin() + i, v.m.begin() + i + e.measurements.size());
    ev.sigmas.emplace_back(v.sigma.begin() + i, v.sigma.begin() + i + e.measurements.size());
    i += e.measurements.size();
  }
  return ev;
}

}  // namespace soma::infer
