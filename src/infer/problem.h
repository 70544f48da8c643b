#pragma once
// Parameter estimation problems: a compiled model, experiments with
// measurements of model symbols and their noise models, and the parameters
// to estimate (bounds, scale, optional priors).
//
// Likelihood. Each measurement y_i of an observed symbol with prediction m_i
// (the symbol's value at the measurement time in the experiment's
// simulation) contributes, with t the noise model's scale transformation
// (identity, ln or log10) and sigma_i the noise model's scale parameter on
// that transformed scale:
//   normal:  1/2 log(2 pi sigma_i^2) + J_i + 1/2 ((t(y_i) - t(m_i)) / sigma_i)^2
//   Laplace: log(2 sigma_i)           + J_i + |t(y_i) - t(m_i)| / sigma_i
// where J_i = 0 (lin), log(y_i) (log) or log(y_i ln 10) (log10) is the
// Jacobian of the transformation, so that the total is the negative log
// density of the untransformed data (the PEtab v1 convention). The negative
// log-likelihood (nllh) is the sum over all measurements; the objective that
// is minimised adds the negative log prior density of every parameter with
// a prior (maximum a posteriori; plain maximum likelihood without priors).
//
// Parameters are estimated on their scale theta = s(x) (x itself, ln x or
// log10 x); bounds, starts and reported values are on the linear scale x.
//
// Thread safety: the structs here are plain values; an EstimationProblem may
// be read from many threads.

#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "sim/compiled_model.h"

namespace soma::infer {

// The scale a parameter is estimated on, or on which data and predictions
// are compared.
enum class Scale { kLin, kLog, kLog10 };
std::string_view ScaleName(Scale s);  // "lin", "log", "log10"

// theta = s(x) and its inverse. ToScale needs x > 0 on log scales (else NaN).
double ToScale(Scale s, double x);
double FromScale(Scale s, double theta);

// A number a problem uses: a constant, or the current value (linear scale)
// of an estimated parameter, by its id.
struct ValueRef {
  double constant = 0.0;
  std::string parameter;  // id in EstimationProblem::parameters; empty: constant

  static ValueRef Constant(double v) { return {v, {}}; }
  static ValueRef Parameter(std::string id) { return {0.0, std::move(id)}; }
  bool is_parameter() const { return !parameter.empty(); }
};

enum class NoiseDistribution { kNormal, kLaplace };
std::string_view NoiseDistributionName(NoiseDistribution d);  // "normal", "laplace"

// How sigma (the standard deviation of a normal, the scale b of a Laplace
// distribution, on the transformed scale) is formed.
enum class NoiseForm {
  kAdditive,      // sigma = sigma_abs
  kProportional,  // sigma = sigma_rel * |m|
  kCombined,      // sigma = sqrt(sigma_abs^2 + (sigma_rel * m)^2)
  kModelSymbol,   // sigma = value of the model symbol `sigma_symbol` at the
                  // measurement time (e.g. an assignment rule holding a
                  // PEtab noise formula); its sensitivities come with the
                  // simulation
};

struct NoiseModel {
  NoiseForm form = NoiseForm::kAdditive;
  NoiseDistribution distribution = NoiseDistribution::kNormal;
  Scale scale = Scale::kLin;  // transformation t of data and prediction
  ValueRef sigma_abs = ValueRef::Constant(1.0);
  ValueRef sigma_rel = ValueRef::Constant(0.1);
  std::string sigma_symbol;   // kModelSymbol only

  static NoiseModel Additive(ValueRef sigma) { NoiseModel n; n.sigma_abs = std::move(sigma); return n; }
  static NoiseModel Proportional(ValueRef rel) {
    NoiseModel n; n.form = NoiseForm::kProportional; n.sigma_rel = std::move(rel); return n;
  }
  static NoiseModel Combined(ValueRef abs, ValueRef rel) {
    NoiseModel n; n.form = NoiseForm::kCombined; n.sigma_abs = std::move(abs); n.sigma_rel = std::move(rel); return n;
  }
};

// One observed quantity of an experiment.
struct Observable {
  std::string id;       // for reports; unique within the experiment
  std::string symbol;   // model symbol observed (species as SBML means its symbol)
  NoiseModel noise;
};

struct Measurement {
  size_t observable = 0;   // index into Experiment::observables
  // Model time units; finite and >= Experiment::start, or +infinity: the
  // experiment's steady state (PEtab's time "inf"). The steady state is where
  // the predicted observables (and, when fitting, their sensitivities) stop
  // changing: the simulation runs on past the last finite time, and the
  // prediction is the first value v(start + 2^k) with
  // |v(start + 2^j) - v(start + 2^(j-1))| <= 1e-8 |v| + 1e-12 for j = k - 1, k
  // (k <= 27, about 1.3e8 time units; no steady state by then is an error).
  double time = 0.0;
  double value = 0.0;      // finite; > 0 on log scales
};

// One simulation of the model and what was measured in it.
struct Experiment {
  std::string id;
  double start = 0.0;  // model time the simulation starts at
  // Values replacing the model's declared values in this experiment (see
  // sim::SimulationOptions::overrides), constants or estimated parameters.
  // They take precedence over the default mapping of estimated parameters
  // (below).
  std::vector<std::pair<std::string, ValueRef>> conditions;
  // Pre-equilibration (PEtab's preequilibrationConditionId): when set, the
  // model first runs from `start` under these values (and the default
  // mapping of estimated parameters) until its states stop changing
  // (|change| <= 1e-8 |y| + 1e-12 over an interval as long as the time
  // already run, up to 1e8 time units); the experiment then starts at
  // `start` from those states, except species that `conditions` set, which
  // take their condition values. When fitting, the states' sensitivities are
  // integrated along to the steady state too (settled: |change| <= 1e-6 |s|
  // + 1e-10) and carried into the experiment (reset species start with the
  // sensitivities of their start values); Estimate reports Unsupported where
  // an estimated parameter acts only in the pre-equilibration.
  std::optional<std::vector<std::pair<std::string, ValueRef>>> preequilibration;
  // Species that take their start values after the pre-equilibration
  // although `conditions` does not name them: those a condition sets through
  // other symbols (PEtab: a species with an initial assignment is set through
  // helper parameters that switch the assignment to the condition's value).
  std::vector<std::string> reset_species;
  std::vector<Observable> observables;
  std::vector<Measurement> measurements;
};

// A prior density of one parameter. kNormal and kLogNormal are densities of
// the linear value x (log-normal: of ln x ~ N(a, b^2)), kUniform of x on
// [a, b]; the kParameterScale* kinds are densities of theta = s(x). The
// negative log density (with its normalising constants) is added to the
// objective; uniform priors add a constant and restrict nothing beyond the
// bounds.
struct Prior {
  // PEtab's objective priors: normal, laplace, uniform of the linear value;
  // logNormal, logLaplace of its natural log; parameterScale* of the value
  // on the parameter's scale.
  enum class Kind {
    kNone, kNormal, kLogNormal, kUniform, kParameterScaleNormal, kParameterScaleUniform,
    kLaplace, kLogLaplace, kParameterScaleLaplace,
  };
  Kind kind = Kind::kNone;
  double a = 0.0;  // mean / location / mu of ln x / lower
  double b = 1.0;  // sd / scale / sigma of ln x / upper

  static Prior Normal(double mean, double sd) { return {Kind::kNormal, mean, sd}; }
  static Prior LogNormal(double mu, double sigma) { return {Kind::kLogNormal, mu, sigma}; }
  static Prior Uniform(double lo, double hi) { return {Kind::kUniform, lo, hi}; }
  // Density exp(-|x - location| / scale) / (2 scale).
  static Prior Laplace(double location, double scale) { return {Kind::kLaplace, location, scale}; }
  // ln x is Laplace(location, scale): density exp(-|ln x - location| / scale) / (2 scale x).
  static Prior LogLaplace(double location, double scale) { return {Kind::kLogLaplace, location, scale}; }
  // Negative log density at x (linear value) for a parameter on `scale`.
  double NegLogDensity(double x, Scale scale) const;
};

struct EstimatedParameter {
  // Unique id. When it names a model symbol that holds a declared value, the
  // parameter sets that symbol in every experiment that does not set it in
  // its conditions; otherwise it acts only through ValueRefs.
  std::string id;
  Scale scale = Scale::kLin;
  double lower = -std::numeric_limits<double>::infinity();  // linear scale; finite
  double upper = std::numeric_limits<double>::infinity();   // linear scale; finite, > lower
  // Linear scale: the value Evaluate uses for simulations at the nominal
  // point; when set for all parameters, the first start (moved into the
  // bounds where it lies outside).
  double nominal = std::numeric_limits<double>::quiet_NaN();
  Prior prior;
};

struct EstimationProblem {
  std::shared_ptr<const sim::CompiledModel> model;
  std::vector<EstimatedParameter> parameters;
  std::vector<Experiment> experiments;

  // Checks ids, bounds (finite, lower < upper, > 0 on log scales), noise
  // references, measurement times and values, and priors; messages name the
  // experiment, observable or parameter and the rule broken. Model symbols
  // are checked when the problem is prepared (Estimate / Evaluate).
  Status Validate() const;
  // Index of a parameter by id, or -1.
  int FindParameter(std::string_view id) const;
  // The nominal values (linear scale); NaN where not given.
  std::vector<double> NominalValues() const;
  size_t num_measurements() const;
};

}  // namespace soma::infer
