// MAP personalisation of a twin through soma::infer.

#include "twin/fit.h"

#include <cmath>
#include <mutex>
#include <random>

#include <Eigen/Dense>

#include "infer/estimate.h"
#include "infer/profile.h"
#include "uq/random.h"

namespace soma::twin {

namespace {

infer::NoiseModel ToInferNoise(const NoiseModel& n) {
  switch (n.kind) {
    case NoiseModel::Kind::kAdditive: return infer::NoiseModel::Additive(infer::ValueRef::Constant(n.sd));
    case NoiseModel::Kind::kProportional: return infer::NoiseModel::Proportional(infer::ValueRef::Constant(n.cv));
    case NoiseModel::Kind::kCombined:
      return infer::NoiseModel::Combined(infer::ValueRef::Constant(n.sd), infer::ValueRef::Constant(n.cv));
  }
  return {};
}

}  // namespace

bool FitAvailable() { return true; }

Result<Json> FitTwin(const TwinEngine& engine, TwinState& state, const FitOptions& options) {
  const TwinDefinition& def = engine.definition();
  auto priors = def.Personalised();
  if (priors.empty()) return FailedPrecondition("twin fit: the definition personalises no parameter");
  if (state.observations.empty()) return FailedPrecondition("twin fit: the twin has no observations yet");
  if (options.starts < 1) return InvalidArgument("FitOptions::starts: must be >= 1");
  double end = 0;
  for (const auto& o : state.observations) end = std::max(end, o.time);
  infer::EstimationProblem problem;
  SOMA_ASSIGN_OR_RETURN(problem.model, engine.HistoryModel(state.interventions, end));
  for (const ParameterPrior* p : priors) {
    infer::EstimatedParameter e;
    e.id = p->id;
    e.scale = infer::Scale::kLog;
    double centre = p->kind == ParameterPrior::Kind::kUniform ? std::sqrt(p->a * p->b) : p->a;
    if (p->kind == ParameterPrior::Kind::kNormal && centre <= 0) centre = std::max(p->b, 1e-12);
    e.lower = p->lower > 0 ? p->lower : centre * 1e-3;
    e.upper = std::isfinite(p->upper) ? p->upper : centre * 1e3;
    e.nominal = std::clamp(centre, e.lower, e.upper);
    switch (p->kind) {
      case ParameterPrior::Kind::kNormal: e.prior = infer::Prior::Normal(p->a, p->b); break;
      case ParameterPrior::Kind::kLogNormal: e.prior = infer::Prior::LogNormal(std::log(p->a), p->b); break;
      case ParameterPrior::Kind::kUniform: e.prior = infer::Prior::Uniform(p->a, p->b); break;
    }
    problem.parameters.push_back(e);
  }
  infer::Experiment ex;
  ex.id = "history";
  ex.start = 0;
  for (const auto& o : def.observations) ex.observables.push_back({o.loinc, o.symbol, ToInferNoise(o.noise)});
  for (const auto& o : state.observations) {
    size_t k = 0;
    while (k < def.observations.size() && def.observations[k].loinc != o.loinc) ++k;
    if (k == def.observations.size()) continue;
    ex.measurements.push_back({k, o.time, o.value});
  }
  problem.experiments.push_back(std::move(ex));

  infer::EstimationOptions eo;
  eo.starts = options.starts;
  eo.seed = options.seed;
  eo.threads = 1;
  eo.rel_tol = 1e-6;
  eo.abs_tol = 1e-8;
  eo.assume_continuous_switches = def.fit_assume_continuous_switches;
  std::mutex mu;
  int done = 0;
  if (options.progress) {
    eo.progress = [&](const infer::StartResult& r) {
      std::lock_guard lock(mu);
      ++done;
      options.progress(0.9 * done / options.starts,
                       "start " + std::to_string(r.index + 1) + " of " + std::to_string(options.starts) + ": " +
                           (r.error.ok() ? "objective " + std::to_string(r.objective) : r.error.message()));
    };
    // Within a start: its iteration and objective (a start can take minutes).
    eo.iteration_progress = [&](const infer::IterationInfo& it) {
      std::lock_guard lock(mu);
      options.progress(0.9 * done / options.starts,
                       "start " + std::to_string(it.start + 1) + " of " + std::to_string(options.starts) +
                           ": iteration " + std::to_string(it.iteration) + ", objective " +
                           std::to_string(it.objective));
    };
  }
  SOMA_ASSIGN_OR_RETURN(infer::EstimationSummary s, infer::Estimate(problem, eo));
  if (s.best_start < 0) return SolverFailure("twin fit: every start failed: " + s.termination);

  Json params = Json::array();
  Eigen::VectorXd theta(static_cast<Eigen::Index>(s.estimates.size()));
  for (size_t k = 0; k < s.estimates.size(); ++k) {
    const auto& e = s.estimates[k];
    theta(static_cast<Eigen::Index>(k)) = std::log(e.value);
    params.push_back({{"id", e.id}, {"value", e.value}, {"lower95", e.lower_ci}, {"upper95", e.upper_ci},
                      {"log_sd", e.std_error}, {"identifiable", e.identifiable}, {"at_bound", e.at_bound}});
  }
  if (options.profile) {
    infer::ProfileOptions po;
    po.threads = 0;  // each parameter on its own core
    int profiled = 0;
    if (options.progress) {
      po.progress = [&](const infer::ParameterProfile& pr) {
        ++profiled;  // one call at a time
        options.progress(0.9, "profile likelihood of " + pr.id + " (" + std::to_string(profiled) + " of " +
                                  std::to_string(s.estimates.size()) + ")");
      };
      options.progress(0.9, "profile likelihoods");
    }
    SOMA_ASSIGN_OR_RETURN(auto profiles, infer::ProfileLikelihood(problem, s, eo, po));
    for (const infer::ParameterProfile& pr : profiles) {
      Json points = Json::array();
      for (const auto& pt : pr.points) points.push_back({pt.value, pt.objective - pr.optimum});
      Json j = {{"lower95", pr.lower}, {"upper95", pr.upper},
                {"lower_open", pr.lower_end != infer::ProfileEnd::kThreshold},
                {"upper_open", pr.upper_end != infer::ProfileEnd::kThreshold},
                {"threshold", pr.threshold - pr.optimum}, {"points", points}};
      if (!pr.lower_note.empty()) j["lower_note"] = pr.lower_note;
      if (!pr.upper_note.empty()) j["upper_note"] = pr.upper_note;
      if (pr.better_optimum_found) j["better_objective"] = pr.better_objective;
      params[pr.index]["profile"] = j;
    }
  }
  Json cov = Json::array();
  for (Eigen::Index a = 0; a < s.covariance.rows(); ++a) {
    Json row = Json::array();
    for (Eigen::Index b = 0; b < s.covariance.cols(); ++b) row.push_back(s.covariance(a, b));
    cov.push_back(row);
  }
  // Goodness of fit: the standardised residuals at the estimate. Under the
  // definition's noise model chi2 / dof is about 1 (sd sqrt(2 / dof)); far
  // above, the model with these personalised parameters cannot explain the
  // data, and the Laplace intervals, which assume it can, are too narrow.
  std::vector<double> best;
  for (const auto& e : s.estimates) best.push_back(e.value);
  SOMA_ASSIGN_OR_RETURN(infer::Evaluation at_best, infer::Evaluate(problem, best, eo));
  double chi2 = 0.0;
  const auto& ms = problem.experiments[0].measurements;
  for (size_t i = 0; i < ms.size(); ++i) {
    const double r = (ms[i].value - at_best.predictions[0][i]) / at_best.sigmas[0][i];
    chi2 += r * r;
  }
  const double dof = std::max(1.0, static_cast<double>(ms.size()) - static_cast<double>(s.estimates.size()));
  const double reduced = chi2 / dof;
  const bool consistent = reduced <= 1.0 + 3.0 * std::sqrt(2.0 / dof);
  Json gof = {{"chi2", chi2}, {"dof", dof}, {"reduced_chi2", reduced}, {"consistent", consistent}};
  if (!consistent) {
    gof["warning"] = "the residuals are " + std::to_string(std::sqrt(reduced)) +
                     " times the stated noise: the model with these personalised parameters does not explain the "
                     "data, so the intervals (which assume it does) are too narrow; personalise more parameters or "
                     "revise the noise model";
  }
  Json fit = {{"method", "map-laplace"}, {"converged", s.converged}, {"termination", s.termination},
              {"goodness_of_fit", gof},
              {"objective", s.objective}, {"nllh", s.nllh}, {"measurements", s.num_measurements},
              {"parameters", params}, {"log_covariance", cov}, {"starts", options.starts},
              {"seconds", s.seconds}, {"report", s.BriefReport()}};

  // Redraw the ensemble from the Laplace posterior on the log scale.
  if (options.progress) options.progress(0.92, "re-running the ensemble from the posterior");
  const Eigen::Index np = theta.size();
  Eigen::MatrixXd L = Eigen::MatrixXd::Zero(np, np);
  Eigen::LLT<Eigen::MatrixXd> llt(s.covariance);
  if (llt.info() == Eigen::Success && s.covariance.allFinite()) L = llt.matrixL();
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<std::vector<double>> thetas;
  for (size_t i = 0; i < state.members.size(); ++i) {
    uq::Rng rng = uq::MemberRng(options.seed ^ 0xf17ull, i);
    Eigen::VectorXd z(np);
    for (Eigen::Index k = 0; k < np; ++k) z(k) = normal(rng);
    Eigen::VectorXd t = theta + L * z;
    thetas.emplace_back(t.data(), t.data() + np);
  }
  SOMA_RETURN_IF_ERROR(engine.Restart(state, thetas));
  state.fit = fit;
  if (options.progress) options.progress(1.0, "done");
  return fit;
}

}  // namespace soma::twin
