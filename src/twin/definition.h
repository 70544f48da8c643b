#pragma once
// A twin definition (docs/twins.md, docs/twin.schema.json): the model a twin
// runs, how clinical data maps onto it (observations by LOINC code with a
// noise model; meals and doses as inputs), the population prior of its
// parameters and which are personalised, and the settings of assimilation,
// forecasts and alerts.
//
// Parsing checks every field and names it in errors
// ("observations[0].noise.sd: must be > 0"); unknown fields are errors.
// Model symbols are checked against a model only by TwinEngine::Create.
//
// Thread safety: plain values.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "scenario/scenario.h"

namespace soma::twin {

using Json = nlohmann::json;

// Where the model comes from.
struct ModelRef {
  enum class Kind { kResource, kBundled, kFile };
  Kind kind = Kind::kBundled;
  std::string id;       // kResource: repository resource id
  std::string version;  // kResource: "latest", a number or a hash (pinned to a hash on create)
  std::string file;     // kBundled: models/<file>; kFile: a file stored with the twin
};

// Observation noise: variance = sd^2 + (cv * prediction)^2 with the terms
// the model uses (additive: sd; proportional: cv; combined: both).
struct NoiseModel {
  enum class Kind { kAdditive, kProportional, kCombined };
  Kind kind = Kind::kAdditive;
  double sd = 0;  // in the observation's unit, >= 0
  double cv = 0;  // dimensionless, >= 0
  double Variance(double prediction) const;
};

struct ObservationMapping {
  std::string loinc;   // LOINC code of the measurement
  std::string symbol;  // model symbol it measures
  std::string unit;    // UCUM unit the data is converted to (the symbol's unit)
  NoiseModel noise;
};

struct DoseMapping {
  enum class Kind { kBolus, kInfusion };
  std::string name;
  std::string medication_code;  // empty: any
  std::string route_code;       // empty: any
  Kind kind = Kind::kBolus;
  std::string target;           // species (bolus) or rate parameter (infusion)
  std::string unit;             // UCUM unit of the dose (bolus) or rate (infusion)
  double factor = 1.0;          // model units per `unit`; finite, != 0
};

struct ParameterPrior {
  enum class Kind { kNormal, kLogNormal, kUniform };
  std::string id;
  Kind kind = Kind::kLogNormal;
  double a = 0;  // normal: mean; log-normal: median; uniform: lower
  double b = 0;  // normal: sd; log-normal: sigma of log; uniform: upper
  double lower = 0;     // bounds (defaults: uniform's, else 0 / +inf for log-normal)
  double upper = 0;
  bool personalised = false;
};

struct AssimilationSettings {
  int ensemble_size = 40;          // 5..2000
  std::uint64_t seed = 1;
  double inflation = 1.0;          // >= 1
  double parameter_drift = 0.0;    // sd of log-parameter random walk per sqrt(time unit), >= 0
  std::map<std::string, double> process_noise;  // state id -> sd per sqrt(time unit), >= 0
};

struct ForecastSettings {
  double horizon = 120;  // model time units, > 0
  double step = 5;       // > 0, <= horizon
  std::vector<double> quantiles = {0.05, 0.25, 0.5, 0.75, 0.95};  // in (0, 1), increasing
};

struct AlertRule {
  std::string name;
  std::string symbol;
  std::optional<double> below;  // exactly one of below / above
  std::optional<double> above;
  double within = 30;           // model time units from the forecast start, > 0
  double probability = 0.5;     // in (0, 1]
};

struct TwinDefinition {
  std::string title;
  ModelRef model;
  double time_unit_seconds = 60;
  std::vector<ObservationMapping> observations;
  std::optional<scenario::MealInput> meal;
  std::vector<DoseMapping> doses;
  std::vector<ParameterPrior> parameters;
  AssimilationSettings assimilation;
  ForecastSettings forecast;
  std::vector<AlertRule> alerts;
  // "fit": {"assume_continuous_switches": bool}. True asserts that the
  // model's right-hand side is continuous across every switch on a state
  // (see sim::SensitivityCompileOptions; UVA/Padova: renal excretion,
  // max(EGP, 0)), so the forward sensitivities skip the jump there. Default
  // false: the jump (f- - f+) dtau/dp is computed at each crossing.
  bool fit_assume_continuous_switches = false;

  // The personalised parameters' priors, in definition order.
  std::vector<const ParameterPrior*> Personalised() const;
  const ObservationMapping* FindObservation(std::string_view loinc) const;
};

// Errors: kInvalidArgument naming the JSON path; kParseError for bad JSON text.
Result<TwinDefinition> ParseTwinDefinition(const Json& j);
Result<TwinDefinition> ParseTwinDefinitionText(std::string_view text);
Json ToJson(const TwinDefinition& d);

// The scenario-format meal input of a definition as JSON ({} when none).
Json MealInputJson(const scenario::MealInput& m);

}  // namespace soma::twin
