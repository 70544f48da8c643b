#pragma once
// Maximum a posteriori (or maximum likelihood) estimation of the parameters
// of an EstimationProblem (infer/problem.h).
//
// Method. The objective (negative log-likelihood plus negative log priors)
// is written as a sum of squared residuals and minimised with Ceres' trust
// region solver (Levenberg-Marquardt) within the bounds, on the parameters'
// estimation scales. Data residuals are (t(y) - t(m)) / sigma (normal) or
// sqrt(2 |t(y) - t(m)| / sigma) (Laplace); terms that are not squares (log
// sigma when sigma is estimated, log x of a log-normal prior) enter as
// sqrt(2 term + c) with a constant offset c, which leaves the minimiser
// unchanged. Jacobians are analytic: the model's forward sensitivities
// (sim::PlanSensitivities, compiled once per problem) by the chain rule, no
// finite differences. A simulation that fails at a trial point makes that
// step infeasible (Ceres shrinks the trust region); a start whose first
// point fails is reported as failed, not as an error.
//
// Multi-start: run k = 0 starts from the nominal values when every
// parameter has one (else from the first Latin hypercube point); the other
// starts are points of a Latin hypercube (uq::UnitCubeSample) in the bounds
// on the estimation scale, deterministic for a seed. Starts may run in
// parallel; results do not depend on the thread count.
//
// Uncertainty (Laplace approximation at the best estimate). The expected
// Fisher information on the estimation scale,
//   F = sum_i c_i g_i g_i^T / sigma_i^2 + d_i h_i h_i^T,
// with g_i = d t(m_i)/d theta, h_i = d ln sigma_i / d theta, c = 1 and d = 2
// for normal noise, c = d = 1 for Laplace noise (for normal data with known
// sigma it is the Gauss-Newton Hessian J^T J), plus the priors' curvature,
// decides identifiability: its eigenvalues relative to the largest;
// eigenvalues below `identifiability_tolerance` times the largest are weak
// directions, reported with the parameters that make them up; those
// parameters are flagged non-identifiable and their intervals are infinite.
// The covariance is the inverse of the curvature on the other directions:
// by default (Curvature::kAuto, up to 50 parameters) the observed Hessian
// of the objective, by central differences of its analytic gradient (2 n
// simulations with sensitivities), which is what the Laplace approximation
// asks for and can differ from F by an order of magnitude in curved valleys
// (PEtab Boehm_JProteomeRes2014); F where that Hessian is not positive
// definite on those directions, for more parameters, or when asked for.
// Rows and columns of parameters at a bound come from F (no differences
// across a bound). 95% intervals theta +- 1.96 sd are mapped back to the
// linear scale (asymmetric on log scales).
//
// Time limit (EstimationOptions::max_seconds): when the budget is spent,
// simulations stop at their next output time (sim::SimulationOptions::
// deadline), a running start keeps the best point it reached (its start
// point if its first evaluation did not finish; not converged,
// `time_limited`), and starts not begun are not run (start 0 always runs).
// The uncertainty at the best point then uses the expected Fisher
// information, computed within as long again as the budget, or is left out
// (estimates without intervals). Which point a time-limited fit returns
// depends on the machine's speed, so such fits are not reproducible;
// without a limit they are.
//
// Thread safety: Estimate and Evaluate may be called concurrently; the
// progress callbacks are called from worker threads (`progress` one call at
// a time; `iteration_progress` concurrently from parallel starts).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "core/status.h"
#include "infer/problem.h"
#include "solvers/ode_integrator.h"

namespace soma::infer {

struct StartResult;

// One accepted (or rejected) Levenberg-Marquardt iteration of a start.
struct IterationInfo {
  int start = 0;           // index of the start
  int iteration = 0;       // 0: the start point
  double objective = 0.0;  // nllh + neg. log prior at the current point
  bool step_accepted = true;
  double seconds = 0.0;    // since the start began
};

struct EstimationOptions {
  int starts = 1;                     // >= 1
  uint64_t seed = 1;                  // of the Latin hypercube
  // >= 0; 0 = all cores. Starts run in parallel; threads left over (more
  // threads than starts) run each start's experiments in parallel. Results
  // do not depend on the thread count.
  int threads = 1;
  int max_iterations = 1000;          // per start, >= 1 (as fides; slow valleys need hundreds)
  double function_tolerance = 1e-12;  // Ceres: relative cost change, > 0
  double gradient_tolerance = 1e-10;  // Ceres: max-norm of the projected gradient, > 0
  double parameter_tolerance = 1e-10; // Ceres: relative step size, > 0
  // Integrator tolerances for the simulations (states and sensitivities).
  double rel_tol = 1e-8;              // > 0
  double abs_tol = 1e-10;             // > 0
  long max_steps = 100000;            // CVODES steps per output interval, >= 1
  double confidence = 0.95;           // of the intervals, in (0, 1)
  double identifiability_tolerance = 1e-8;  // relative eigenvalue, in (0, 1)
  // The curvature the covariance comes from (see above).
  enum class Curvature { kAuto, kObserved, kExpected };
  Curvature curvature = Curvature::kAuto;
  // Asserts that the right-hand side is continuous where it switches on a
  // state (see sim::SensitivityCompileOptions; e.g. the UVA/Padova model's
  // renal excretion and max(EGP, 0)), so the sensitivities skip the jump
  // there. Default false: the jump is computed at each crossing.
  bool assume_continuous_switches = false;
  // > 0: wall-clock budget in seconds for the starts (see "Time limit"
  // above); 0: none.
  double max_seconds = 0.0;
  // Called after each start finishes (from the thread that ran it). May be empty.
  std::function<void(const StartResult&)> progress;
  // Called after each iteration of each start (from the thread running the
  // start; parallel starts call it concurrently). May be empty.
  std::function<void(const IterationInfo&)> iteration_progress;

  Status Validate() const;
};

// One start of a multi-start estimation.
struct StartResult {
  int index = 0;
  std::vector<double> start;     // linear scale
  std::vector<double> estimate;  // linear scale; the start when it failed
  double objective = std::numeric_limits<double>::infinity();  // nllh + neg. log prior
  double nllh = std::numeric_limits<double>::infinity();
  int iterations = 0;
  int failed_steps = 0;          // trial points whose simulation failed
  bool converged = false;        // Ceres reported convergence (a tolerance met)
  bool time_limited = false;     // stopped by EstimationOptions::max_seconds
  bool not_run = false;          // the time limit was spent before it began
  std::string termination;       // Ceres' message, or why the start failed
  Status error;                  // set when the start could not be evaluated
  double seconds = 0.0;
};

struct ParameterEstimate {
  std::string id;
  Scale scale = Scale::kLin;
  double value = 0.0;            // linear scale
  double std_error = 0.0;        // on the estimation scale; inf when not identifiable
  double lower_ci = 0.0, upper_ci = 0.0;  // linear scale
  bool identifiable = true;
  bool at_bound = false;         // within 1e-6 (estimation scale, relative to the range) of a bound
};

// A direction in which the data hardly constrain the parameters.
struct WeakDirection {
  double eigenvalue = 0.0;       // of the Fisher information (estimation scale)
  double relative = 0.0;         // eigenvalue / largest eigenvalue
  std::vector<std::string> parameters;  // components with |v_k| >= 0.2, largest first
  std::vector<double> components;
};

struct EstimationSummary {
  bool converged = false;        // the best start converged
  std::string termination;
  // EstimationOptions::max_seconds cut a start short or left one unrun.
  bool time_limited = false;
  int best_start = -1;
  double objective = std::numeric_limits<double>::infinity();  // best: nllh + neg. log prior
  double nllh = std::numeric_limits<double>::infinity();
  double neg_log_prior = 0.0;
  size_t num_measurements = 0;
  std::vector<ParameterEstimate> estimates;
  Eigen::MatrixXd fisher;        // estimation scale, incl. prior curvature
  // The observed Hessian of the objective (estimation scale; rows and
  // columns of parameters at a bound from `fisher`); empty when not computed.
  Eigen::MatrixXd hessian;
  // Where the covariance came from: "observed Hessian" or "expected Fisher
  // information", with the reason when the Hessian was not used.
  std::string curvature;
  Eigen::MatrixXd covariance;    // estimation scale (pseudo-inverse when singular)
  Eigen::MatrixXd correlation;
  Eigen::VectorXd fisher_eigenvalues;  // ascending
  std::vector<WeakDirection> weak_directions;
  std::vector<StartResult> starts;     // in start order
  long simulations = 0;
  long failed_simulations = 0;
  // Of `simulations`, those with forward sensitivities (the optimiser asked
  // for the Jacobian).
  long gradient_simulations = 0;
  // After the fit, simulations with sensitivities for the uncertainty (the
  // Fisher information, and 2 per free parameter for the observed Hessian).
  long curvature_simulations = 0;
  double seconds = 0.0;

  // "converged, nllh 138.22, 9 parameters, 2/10 starts failed, 12.3 s".
  std::string BriefReport() const;
  // Estimates with intervals, correlations, weak directions, starts.
  std::string FullReport() const;
  // The correlation part of FullReport: the whole matrix for up to
  // kCorrelationMatrixUpTo parameters; for more, the pairs with |r| >=
  // kStrongCorrelation, strongest first (at most kStrongPairsShown).
  std::string CorrelationReport() const;
  static constexpr long kCorrelationMatrixUpTo = 12;
  static constexpr double kStrongCorrelation = 0.9;
  static constexpr size_t kStrongPairsShown = 40;
};

// Errors: a problem or options that fail Validate; model symbols that do
// not exist or cannot be overridden or differentiated (named); every start
// failing is not an error (the summary says why each failed).
Result<EstimationSummary> Estimate(const EstimationProblem& problem, const EstimationOptions& options = {});

// The model's predictions at the measurements and the likelihood for given
// parameter values (linear scale, problem.parameters order).
struct Evaluation {
  double nllh = 0.0;
  double neg_log_prior = 0.0;
  // Per experiment, per measurement: prediction m (untransformed) and sigma.
  std::vector<std::vector<double>> predictions;
  std::vector<std::vector<double>> sigmas;
};

// Simulates every experiment (no sensitivities). Errors: as Estimate, and
// simulation failures (naming the experiment).
Result<Evaluation> Evaluate(const EstimationProblem& problem, const std::vector<double>& values,
                            const EstimationOptions& options = {});

// The nllh term of one measurement (see problem.h), for reference.
double MeasurementNllh(NoiseDistribution d, Scale scale, double measured, double predicted, double sigma);

}  // namespace soma::infer
