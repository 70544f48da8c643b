#include "scenario/trial_sensitivity.h"

#include <cmath>

#include "scenario/trial.h"
#include "uq/sensitivity.h"

namespace soma::scenario {
using nlohmann::json;

namespace {

Result<double> Field(const json& j, const char* key, double fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return InvalidArgument(std::string("sensitivity.") + key + ": must be a finite number");
  }
  return it->get<double>();
}

Result<int> Whole(const json& j, const char* key, int fallback, int lo, int hi) {
  SOMA_ASSIGN_OR_RETURN(double v, Field(j, key, fallback));
  if (v != std::floor(v) || v < lo || v > hi) {
    return InvalidArgument(std::string("sensitivity.") + key + ": a whole number from " + std::to_string(lo) +
                           " to " + std::to_string(hi));
  }
  return static_cast<int>(v);
}

json Finite(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(std::isfinite(x) ? json(x) : json(nullptr));
  return a;
}

}  // namespace

Result<SensitivitySpec> ParseSensitivitySpec(const json& j) {
  if (!j.is_object()) return InvalidArgument("sensitivity: must be an object");
  SensitivitySpec s;
  const std::string method = j.value("method", "");
  if (method == "sobol") {
    s.method = SensitivitySpec::Method::kSobol;
  } else if (method == "morris") {
    s.method = SensitivitySpec::Method::kMorris;
  } else {
    return InvalidArgument("sensitivity.method: required, sobol or morris");
  }
  static const char* kSobolKeys[] = {"method", "samples", "bootstrap", "confidence", "seed", "sampling"};
  static const char* kMorrisKeys[] = {"method", "trajectories", "levels", "seed"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    if (s.method == SensitivitySpec::Method::kSobol) {
      for (const char* k : kSobolKeys) known = known || it.key() == k;
    } else {
      for (const char* k : kMorrisKeys) known = known || it.key() == k;
    }
    if (!known) return InvalidArgument("sensitivity." + it.key() + ": unknown field for method " + method);
  }
  SOMA_ASSIGN_OR_RETURN(s.samples, Whole(j, "samples", 256, 2, 1000000));
  SOMA_ASSIGN_OR_RETURN(s.bootstrap, Whole(j, "bootstrap", 200, 0, 100000));
  SOMA_ASSIGN_OR_RETURN(s.confidence, Field(j, "confidence", 0.95));
  if (!(s.confidence > 0 && s.confidence < 1)) return InvalidArgument("sensitivity.confidence: in (0, 1)");
  SOMA_ASSIGN_OR_RETURN(s.trajectories, Whole(j, "trajectories", 20, 2, 1000000));
  SOMA_ASSIGN_OR_RETURN(s.levels, Whole(j, "levels", 4, 2, 1000));
  if (s.levels % 2 != 0) return InvalidArgument("sensitivity.levels: must be even");
  if (j.contains("seed")) {
    if (!j["seed"].is_number_integer() || j["seed"].get<std::int64_t>() < 0) {
      return InvalidArgument("sensitivity.seed: a whole number >= 0");
    }
    s.seed = j["seed"].get<std::uint64_t>();
  }
  const std::string sampling = j.value("sampling", "monte_carlo");
  if (sampling == "latin_hypercube") {
    s.sampling = uq::SamplingMethod::kLatinHypercube;
  } else if (sampling != "monte_carlo") {
    return InvalidArgument("sensitivity.sampling: monte_carlo or latin_hypercube");
  }
  return s;
}

Result<json> RunTrialSensitivity(const Trial& trial, const model::Model& model, const TrialOptions& options) {
  if (!trial.sensitivity) return InvalidArgument("sensitivity: the trial asks for none");
  const SensitivitySpec& spec = *trial.sensitivity;
  const PopulationSpec& pop = trial.population;
  if (!pop.joint) {
    return InvalidArgument("sensitivity: needs a population drawn from distributions, not a table");
  }
  if (!pop.joint->independent()) {
    return InvalidArgument("sensitivity: the population's inputs are correlated; Sobol and Morris indices "
                           "assume independent inputs");
  }
  std::vector<std::string> inputs = pop.parameters;
  inputs.insert(inputs.end(), pop.covariates.begin(), pop.covariates.end());
  const size_t np = pop.parameters.size();

  std::vector<std::vector<double>> points;
  std::optional<uq::SobolDesign> sobol;
  std::optional<uq::MorrisDesign> morris;
  if (spec.method == SensitivitySpec::Method::kSobol) {
    auto d = uq::MakeSobolDesign(*pop.joint, spec.samples, spec.sampling, spec.seed);
    if (!d.ok()) return d.status().WithContext("sensitivity");
    sobol = std::move(*d);
    points = sobol->points;
  } else {
    auto d = uq::MakeMorrisDesign(*pop.joint, spec.trajectories, spec.levels, spec.seed);
    if (!d.ok()) return d.status().WithContext("sensitivity");
    morris = std::move(*d);
    points = morris->points;
  }
  // The design points as a population: same scenarios, same formulas.
  Trial design = trial;
  design.population.size = static_cast<int>(points.size());
  design.population.table_rows.clear();
  design.population.covariate_rows.clear();
  for (const auto& p : points) {
    design.population.table_rows.emplace_back(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(np));
    if (!pop.covariates.empty()) {
      design.population.covariate_rows.emplace_back(p.begin() + static_cast<std::ptrdiff_t>(np), p.end());
    }
  }
  TrialOptions o = options;
  o.members.clear();
  SOMA_ASSIGN_OR_RETURN(auto runs, RunTrialMembers(design, model, o));
  int failed = 0;
  for (const auto& r : runs) failed += r.ok ? 0 : 1;

  json outcomes = json::array();
  for (size_t sc = 0; sc < trial.scenarios.size(); ++sc) {
    for (size_t oc = 0; oc < trial.scenarios[sc].outcomes.size(); ++oc) {
      json entry = {{"scenario", trial.scenarios[sc].name}, {"outcome", trial.scenarios[sc].outcomes[oc].name}};
      std::vector<double> y;
      y.reserve(runs.size());
      for (const auto& r : runs) y.push_back(r.ok ? r.outcomes[sc][oc] : NAN);
      if (sobol) {
        uq::SobolOptions so;
        so.bootstrap = spec.bootstrap;
        so.confidence = spec.confidence;
        so.seed = spec.seed;
        auto ix = uq::EstimateSobol(*sobol, y, so);
        if (!ix.ok()) {
          entry["error"] = ix.status().ToString();
        } else {
          entry["mean"] = ix->mean;
          entry["variance"] = ix->variance;
          entry["first"] = Finite(ix->first);
          entry["first_low"] = Finite(ix->first_low);
          entry["first_high"] = Finite(ix->first_high);
          entry["total"] = Finite(ix->total);
          entry["total_low"] = Finite(ix->total_low);
          entry["total_high"] = Finite(ix->total_high);
        }
      } else {
        auto m = uq::EstimateMorris(*morris, y);
        if (!m.ok()) {
          entry["error"] = m.status().ToString();
        } else {
          entry["mu"] = Finite(m->mu);
          entry["mu_star"] = Finite(m->mu_star);
          entry["sigma"] = Finite(m->sigma);
        }
      }
      outcomes.push_back(std::move(entry));
    }
  }
  json out = {{"method", sobol ? "sobol" : "morris"}, {"inputs", inputs}, {"runs", runs.size()},
              {"failed_runs", failed}, {"outcomes", outcomes}};
  if (sobol) {
    out["samples"] = spec.samples;
    out["bootstrap"] = spec.bootstrap;
    out["confidence"] = spec.confidence;
  } else {
    out["trajectories"] = spec.trajectories;
    out["levels"] = spec.levels;
  }
  out["seed"] = spec.seed;
  return out;
}

}  // namespace soma::scenario
