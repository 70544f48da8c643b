#pragma once
// Internal to soma::infer: an EstimationProblem prepared for repeated
// evaluation (sensitivity plan compiled once, overrides and output rows
// resolved), the residuals Ceres minimises and the Fisher information.
// Immutable after Prepare; Compute may run on many threads at once.

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "core/status.h"
#include "infer/estimate.h"
#include "infer/problem.h"
#include "sim/sensitivity.h"

namespace soma::infer::internal {

struct RefIndex {
  double constant = 0.0;
  int parameter = -1;  // index into the problem's parameters; -1: constant
};

struct PreparedObservable {
  int output = -1;        // index into the outputs
  int sigma_output = -1;  // NoiseForm::kModelSymbol
  NoiseModel noise;
  RefIndex sigma_abs, sigma_rel;
};

struct PreparedExperiment {
  sim::SimulationOptions options;  // overrides filled per evaluation
  std::vector<std::pair<std::string, double>> constants;
  std::vector<std::pair<std::string, int>> mapped;  // model symbol -> parameter index
  std::vector<int> mapped_plan_index;               // index in the plan's parameters
  bool preequilibrate = false;
  std::vector<std::pair<std::string, double>> pre_constants;
  std::vector<std::pair<std::string, int>> pre_mapped;
  std::vector<int> pre_mapped_plan_index;           // index in the plan's parameters
  // Per estimated parameter: the plan column of its first mapped symbol in
  // the main simulation (-1: none), which carries the parameter's effect on
  // the pre-equilibrated states into the main simulation's sensitivities.
  std::vector<int> carrier;
  std::vector<uint32_t> reset_states;               // states the condition resets after pre-equilibration (0-based)
  // Output row of each measurement; kSteadyState for time +inf, whose row
  // (one of the steady_rows rows from steady_first_row on: the times
  // start + 2^k, k = 0, 1, ...) Compute chooses.
  std::vector<size_t> row;
  static constexpr size_t kSteadyState = static_cast<size_t>(-1);
  size_t steady_first_row = 0;
  size_t steady_rows = 0;
  std::vector<size_t> steady_outputs;               // outputs (observables, sigmas) that must settle
  std::vector<PreparedObservable> observables;
};

// Predictions and sigmas of all measurements (experiments in order, then
// measurements in order) and, when asked for, their derivatives by the
// parameters on the estimation scale.
struct PointValues {
  std::vector<double> m, sigma;
  Eigen::MatrixXd dm, dsigma;  // rows: measurements; columns: parameters
};

// Whether Compute will be asked for derivatives (kNone: no sensitivity plan
// is compiled, so models whose sensitivities are unsupported still simulate).
enum class Derivatives { kNone, kSensitivities };

class Objective {
 public:
  static Result<std::shared_ptr<const Objective>> Prepare(const EstimationProblem& problem,
                                                          const EstimationOptions& options, Derivatives derivatives);

  const EstimationProblem& problem() const { return problem_; }
  size_t num_parameters() const { return problem_.parameters.size(); }
  size_t num_measurements() const { return measured_.size(); }
  // 2 per measurement (data, log sigma) and 2 per parameter (prior terms).
  size_t num_residuals() const { return 2 * num_measurements() + 2 * num_parameters(); }

  // x on the linear scale. Errors: failed simulations (naming the
  // experiment; the first in experiment order). The experiments run on up
  // to `threads` threads after their pre-equilibrations; the result does
  // not depend on `threads`. Simulations still running at `deadline` stop
  // with kResourceExhausted (sim::SimulationOptions::deadline).
  Result<PointValues> Compute(const std::vector<double>& x, bool sensitivities, int threads = 1,
                              std::chrono::steady_clock::time_point deadline =
                                  std::chrono::steady_clock::time_point::max()) const;

  double Nllh(const PointValues& v) const;
  double NegLogPrior(const std::vector<double>& x) const;
  // Offsets c_i of the residuals sqrt(2 ln sigma_i + c_i) for a start at
  // which sigma takes the values in `v`: 0 for measurements whose sigma is
  // constant (their residual is then 0), else 60 - 2 ln sigma_i, so that
  // sigma may fall to exp(-30) times its start value. Per start, so that
  // the offsets stay small next to the nllh (Ceres' function tolerance is
  // relative to the cost).
  std::vector<double> SigmaOffsets(const PointValues& v) const;
  // Residuals (and the row-major Jacobian by theta when `jacobian` is not
  // null) at theta = s(x). Errors when a sigma or a log-scale prediction is
  // not positive, or a value is not finite (an infeasible point).
  Status Residuals(const PointValues& v, const std::vector<double>& x, const std::vector<double>& sigma_offsets,
                   double* residuals, double* jacobian) const;
  // Expected Fisher information plus prior curvature, estimation scale.
  Eigen::MatrixXd Fisher(const PointValues& v, const std::vector<double>& x) const;

  std::vector<double> ToTheta(const std::vector<double>& x) const;
  std::vector<double> FromTheta(const double* theta) const;

 private:
  struct Measured {
    size_t experiment = 0, observable = 0;
    double value = 0.0;
    bool sigma_varies = true;  // sigma may depend on the parameters
  };
  double DxDTheta(size_t k, double x) const;
  // A pre-equilibration's final states (y) and, when fitting, their
  // sensitivities to the plan's parameters (s).
  struct Preequilibrated {
    std::vector<double> y, s;
    Status status;  // why it failed
  };
  // Experiment e's predictions and sigmas (and their derivatives) into its
  // rows of v, from row_base on; `pre` is its pre-equilibration (or null).
  Status ComputeExperiment(size_t e, const std::vector<double>& x, const std::vector<double>& dxdt,
                           bool sensitivities, const Preequilibrated* pre, size_t row_base, PointValues& v,
                           std::chrono::steady_clock::time_point deadline) const;
  // The stored ODE states at the end of experiment e's pre-equilibration;
  // with `sensitivities` (not null) also their sensitivities to the plan's
  // parameters (SensitivityResult::final_sensitivities layout).
  Result<std::vector<double>> Preequilibrate(const PreparedExperiment& pe, const std::vector<double>& x,
                                             std::vector<double>* sensitivities,
                                             std::chrono::steady_clock::time_point deadline) const;

  EstimationProblem problem_;
  EstimationOptions options_;
  std::vector<sim::OutputVariable> outputs_;
  std::shared_ptr<const sim::SensitivityPlan> plan_;  // null when no model symbol is estimated
  std::vector<PreparedExperiment> experiments_;
  std::vector<Measured> measured_;
};

}  // namespace soma::infer::internal
