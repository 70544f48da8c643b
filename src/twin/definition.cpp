// Parsing and serialising twin definitions; every error names its JSON path.

#include "twin/definition.h"

#include <cmath>
#include <limits>
#include <set>

namespace soma::twin {

namespace {

// Reads the fields of one JSON object, remembering which were used so that
// unknown fields can be reported.
class Fields {
 public:
  Fields(const Json& j, std::string path) : j_(j), path_(std::move(path)) {}

  Status CheckObject() const {
    if (!j_.is_object()) return InvalidArgument(Where() + ": must be an object");
    return Status::Ok();
  }
  std::string At(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  std::string Where() const { return path_.empty() ? "definition" : path_; }
  bool Has(const std::string& key) {
    used_.insert(key);
    return j_.contains(key) && !j_.at(key).is_null();
  }
  const Json& Get(const std::string& key) {
    used_.insert(key);
    return j_.at(key);
  }
  Result<std::string> String(const std::string& key, bool required, std::string def = "") {
    if (!Has(key)) {
      if (required) return InvalidArgument(At(key) + ": required");
      return def;
    }
    const Json& v = j_.at(key);
    if (!v.is_string()) return InvalidArgument(At(key) + ": must be a string");
    return v.get<std::string>();
  }
  Result<double> Number(const std::string& key, std::optional<double> def) {
    if (!Has(key)) {
      if (!def) return InvalidArgument(At(key) + ": required");
      return *def;
    }
    const Json& v = j_.at(key);
    if (!v.is_number()) return InvalidArgument(At(key) + ": must be a number");
    double x = v.get<double>();
    if (!std::isfinite(x)) return InvalidArgument(At(key) + ": must be finite");
    return x;
  }
  Result<bool> Bool(const std::string& key, bool def) {
    if (!Has(key)) return def;
    const Json& v = j_.at(key);
    if (!v.is_boolean()) return InvalidArgument(At(key) + ": must be true or false");
    return v.get<bool>();
  }
  Status NoUnknown() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (!used_.count(it.key())) return InvalidArgument(At(it.key()) + ": unknown field");
    }
    return Status::Ok();
  }

 private:
  const Json& j_;
  std::string path_;
  std::set<std::string> used_;
};

Status Positive(double v, const std::string& path) {
  if (!(v > 0)) return InvalidArgument(path + " = " + std::to_string(v) + ": must be > 0");
  return Status::Ok();
}
Status NonNegative(double v, const std::string& path) {
  if (!(v >= 0)) return InvalidArgument(path + " = " + std::to_string(v) + ": must be >= 0");
  return Status::Ok();
}

Result<ModelRef> ParseModel(const Json& j, const std::string& path) {
  Fields f(j, path);
  SOMA_RETURN_IF_ERROR(f.CheckObject());
  ModelRef m;
  int given = 0;
  if (f.Has("resource")) {
    ++given;
    m.kind = ModelRef::Kind::kResource;
    SOMA_ASSIGN_OR_RETURN(m.id, f.String("resource", true));
    SOMA_ASSIGN_OR_RETURN(m.version, f.String("version", false, "latest"));
  }
  if (f.Has("bundled")) {
    ++given;
    m.kind = ModelRef::Kind::kBundled;
    SOMA_ASSIGN_OR_RETURN(m.file, f.String("bundled", true));
  }
  if (f.Has("file")) {
    ++given;
    m.kind = ModelRef::Kind::kFile;
    SOMA_ASSIGN_OR_RETURN(m.file, f.String("file", true));
  }
  if (given != 1) return InvalidArgument(path + ": exactly one of resource, bundled, file is required");
  if ((m.kind == ModelRef::Kind::kResource ? m.id : m.file).empty()) {
    return InvalidArgument(path + ": the model reference is empty");
  }
  if (m.kind != ModelRef::Kind::kResource) (void)f.Has("version");
  SOMA_RETURN_IF_ERROR(f.NoUnknown());
  return m;
}

Result<NoiseModel> ParseNoise(const Json& j, const std::string& path) {
  Fields f(j, path);
  SOMA_RETURN_IF_ERROR(f.CheckObject());
  NoiseModel n;
  SOMA_ASSIGN_OR_RETURN(std::string kind, f.String("model", true));
  if (kind == "additive") {
    n.kind = NoiseModel::Kind::kAdditive;
    SOMA_ASSIGN_OR_RETURN(n.sd, f.Number("sd", std::nullopt));
    SOMA_RETURN_IF_ERROR(Positive(n.sd, f.At("sd")));
  } else if (kind == "proportional") {
    n.kind = NoiseModel::Kind::kProportional;
    SOMA_ASSIGN_OR_RETURN(n.cv, f.Number("cv", std::nullopt));
    SOMA_RETURN_IF_ERROR(Positive(n.cv, f.At("cv")));
  } else if (kind == "combined") {
    n.kind = NoiseModel::Kind::kCombined;
    SOMA_ASSIGN_OR_RETURN(n.sd, f.Number("sd", std::nullopt));
    SOMA_ASSIGN_OR_RETURN(n.cv, f.Number("cv", std::nullopt));
    SOMA_RETURN_IF_ERROR(Positive(n.sd, f.At("sd")));
    SOMA_RETURN_IF_ERROR(NonNegative(n.cv, f.At("cv")));
  } else {
    return InvalidArgument(f.At("model") + " = '" + kind + "': must be additive, proportional or combined");
  }
  SOMA_RETURN_IF_ERROR(f.NoUnknown());
  return n;
}

Result<ParameterPrior> ParsePrior(const Json& j, const std::string& path) {
  Fields f(j, path);
  SOMA_RETURN_IF_ERROR(f.CheckObject());
  ParameterPrior p;
  SOMA_ASSIGN_OR_RETURN(p.id, f.String("id", true));
  SOMA_ASSIGN_OR_RETURN(p.personalised, f.Bool("personalised", false));
  if (!f.Has("prior")) return InvalidArgument(f.At("prior") + ": required");
  Fields d(f.Get("prior"), f.At("prior"));
  SOMA_RETURN_IF_ERROR(d.CheckObject());
  SOMA_ASSIGN_OR_RETURN(std::string kind, d.String("distribution", true));
  double inf = std::numeric_limits<double>::infinity();
  double def_lower = -inf, def_upper = inf;
  if (kind == "normal") {
    p.kind = ParameterPrior::Kind::kNormal;
    SOMA_ASSIGN_OR_RETURN(p.a, d.Number("mean", std::nullopt));
    SOMA_ASSIGN_OR_RETURN(p.b, d.Number("sd", std::nullopt));
    SOMA_RETURN_IF_ERROR(Positive(p.b, d.At("sd")));
  } else if (kind == "log-normal") {
    p.kind = ParameterPrior::Kind::kLogNormal;
    SOMA_ASSIGN_OR_RETURN(p.a, d.Number("median", std::nullopt));
    SOMA_ASSIGN_OR_RETURN(p.b, d.Number("sigma", std::nullopt));
    SOMA_RETURN_IF_ERROR(Positive(p.a, d.At("median")));
    SOMA_RETURN_IF_ERROR(Positive(p.b, d.At("sigma")));
    def_lower = 0;
  } else if (kind == "uniform") {
    p.kind = ParameterPrior::Kind::kUniform;
    SOMA_ASSIGN_OR_RETURN(p.a, d.Number("lower", std::nullopt));
    SOMA_ASSIGN_OR_RETURN(p.b, d.Number("upper", std::nullopt));
    if (!(p.a < p.b)) return InvalidArgument(d.At("lower") + ": must be < upper");
    def_lower = p.a;
    def_upper = p.b;
  } else {
    return InvalidArgument(d.At("distribution") + " = '" + kind + "': must be normal, log-normal or uniform");
  }
  SOMA_RETURN_IF_ERROR(d.NoUnknown());
  p.lower = def_lower;
  p.upper = def_upper;
  if (f.Has("lower")) {
    SOMA_ASSIGN_OR_RETURN(p.lower, f.Number("lower", std::nullopt));
  }
  if (f.Has("upper")) {
    SOMA_ASSIGN_OR_RETURN(p.upper, f.Number("upper", std::nullopt));
  }
  if (!(p.lower < p.upper)) return InvalidArgument(path + ": lower must be < upper");
  if (p.personalised && !(p.lower >= 0 && p.upper > 0)) {
    return InvalidArgument(f.At("lower") + ": a personalised parameter is estimated on the log scale, so lower must be >= 0");
  }
  if (p.personalised && p.kind == ParameterPrior::Kind::kUniform && p.a <= 0) {
    return InvalidArgument(d.At("lower") + ": a personalised parameter's uniform prior must be > 0");
  }
  SOMA_RETURN_IF_ERROR(f.NoUnknown());
  return p;
}

Result<scenario::MealInput> ParseMeal(const Json& j, const std::string& path) {
  Fields f(j, path);
  SOMA_RETURN_IF_ERROR(f.CheckObject());
  scenario::MealInput m;
  SOMA_ASSIGN_OR_RETURN(m.rate, f.String("rate", true));
  SOMA_ASSIGN_OR_RETURN(m.ingested, f.String("ingested", false));
  SOMA_ASSIGN_OR_RETURN(m.units_per_gram, f.Number("units_per_gram", 1000.0));
  SOMA_ASSIGN_OR_RETURN(m.eat_rate_g_per_step, f.Number("eat_rate_g_per_step", 5.0));
  SOMA_ASSIGN_OR_RETURN(m.step, f.Number("step", 1.0));
  SOMA_RETURN_IF_ERROR(Positive(m.units_per_gram, f.At("units_per_gram")));
  SOMA_RETURN_IF_ERROR(Positive(m.eat_rate_g_per_step, f.At("eat_rate_g_per_step")));
  SOMA_RETURN_IF_ERROR(Positive(m.step, f.At("step")));
  SOMA_RETURN_IF_ERROR(f.NoUnknown());
  return m;
}

Result<DoseMapping> ParseDose(const Json& j, const std::string& path) {
  Fields f(j, path);
  SOMA_RETURN_IF_ERROR(f.CheckObject());
  DoseMapping d;
  SOMA_ASSIGN_OR_RETURN(d.name, f.String("name", false));
  SOMA_ASSIGN_OR_RETURN(d.medication_code, f.String("medication_code", false));
  SOMA_ASSIGN_OR_RETURN(d.route_code, f.String("route_code", false));
  SOMA_ASSIGN_OR_RETURN(std::string kind, f.String("kind", true));
  if (kind == "bolus") d.kind = DoseMapping::Kind::kBolus;
  else if (kind == "infusion") d.kind = DoseMapping::Kind::kInfusion;
  else return InvalidArgument(f.At("kind") + " = '" + kind + "': must be bolus or infusion");
  SOMA_ASSIGN_OR_RETURN(d.target, f.String("target", true));
  SOMA_ASSIGN_OR_RETURN(d.unit, f.String("unit", true));
  SOMA_ASSIGN_OR_RETURN(d.factor, f.Number("factor", 1.0));
  if (d.factor == 0) return InvalidArgument(f.At("factor") + ": must not be 0");
  SOMA_RETURN_IF_ERROR(f.NoUnknown());
  return d;
}

Result<AlertRule> ParseAlert(const Json& j, const std::string& path) {
  Fields f(j, path);
  SOMA_RETURN_IF_ERROR(f.CheckObject());
  AlertRule a;
  SOMA_ASSIGN_OR_RETURN(a.name, f.String("name", true));
  SOMA_ASSIGN_OR_RETURN(a.symbol, f.String("symbol", true));
  if (f.Has("below")) {
    SOMA_ASSIGN_OR_RETURN(a.below, f.Number("below", std::nullopt));
  }
  if (f.Has("above")) {
    SOMA_ASSIGN_OR_RETURN(a.above, f.Number("above", std::nullopt));
  }
  if (a.below.has_value() == a.above.has_value()) return InvalidArgument(path + ": exactly one of below, above is required");
  SOMA_ASSIGN_OR_RETURN(a.within, f.Number("within", 30.0));
  SOMA_RETURN_IF_ERROR(Positive(a.within, f.At("within")));
  SOMA_ASSIGN_OR_RETURN(a.probability, f.Number("probability", 0.5));
  if (!(a.probability > 0 && a.probability <= 1)) return InvalidArgument(f.At("probability") + ": must be in (0, 1]");
  SOMA_RETURN_IF_ERROR(f.NoUnknown());
  return a;
}

template <typename T, typename F>
Result<std::vector<T>> ParseArray(Fields& f, const std::string& key, F parse) {
  std::vector<T> out;
  if (!f.Has(key)) return out;
  const Json& arr = f.Get(key);
  if (!arr.is_array()) return InvalidArgument(f.At(key) + ": must be an array");
  for (size_t i = 0; i < arr.size(); ++i) {
    SOMA_ASSIGN_OR_RETURN(T item, parse(arr[i], f.At(key) + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

double NoiseModel::Variance(double prediction) const {
  double s = kind == Kind::kProportional ? 0.0 : sd;
  double c = kind == Kind::kAdditive ? 0.0 : cv * prediction;
  return s * s + c * c;
}

std::vector<const ParameterPrior*> TwinDefinition::Personalised() const {
  std::vector<const ParameterPrior*> out;
  for (const auto& p : parameters) if (p.personalised) out.push_back(&p);
  return out;
}

const ObservationMapping* TwinDefinition::FindObservation(std::string_view loinc) const {
  for (const auto& o : observations) if (o.loinc == loinc) return &o;
  return nullptr;
}

Result<TwinDefinition> ParseTwinDefinition(const Json& j) {
  Fields f(j, "");
  SOMA_RETURN_IF_ERROR(f.CheckObject());
  TwinDefinition d;
  SOMA_ASSIGN_OR_RETURN(std::string schema, f.String("schema", true));
  if (schema != "soma.twin/1") return InvalidArgument("schema = '" + schema + "': must be soma.twin/1");
  SOMA_ASSIGN_OR_RETURN(d.title, f.String("title", false, "twin"));
  if (!f.Has("model")) return InvalidArgument("model: required");
  SOMA_ASSIGN_OR_RETURN(d.model, ParseModel(f.Get("model"), "model"));
  SOMA_ASSIGN_OR_RETURN(d.time_unit_seconds, f.Number("time_unit_seconds", 60.0));
  SOMA_RETURN_IF_ERROR(Positive(d.time_unit_seconds, "time_unit_seconds"));

  SOMA_ASSIGN_OR_RETURN(d.observations, (ParseArray<ObservationMapping>(f, "observations",
      [](const Json& o, const std::string& path) -> Result<ObservationMapping> {
        Fields g(o, path);
        SOMA_RETURN_IF_ERROR(g.CheckObject());
        ObservationMapping m;
        SOMA_ASSIGN_OR_RETURN(m.loinc, g.String("loinc", true));
        SOMA_ASSIGN_OR_RETURN(m.symbol, g.String("symbol", true));
        SOMA_ASSIGN_OR_RETURN(m.unit, g.String("unit", true));
        if (!g.Has("noise")) return InvalidArgument(g.At("noise") + ": required");
        SOMA_ASSIGN_OR_RETURN(m.noise, ParseNoise(g.Get("noise"), g.At("noise")));
        SOMA_RETURN_IF_ERROR(g.NoUnknown());
        return m;
      })));
  if (d.observations.empty()) return InvalidArgument("observations: at least one mapping is required");
  std::set<std::string> loincs;
  for (size_t i = 0; i < d.observations.size(); ++i) {
    if (!loincs.insert(d.observations[i].loinc).second) {
      return InvalidArgument("observations[" + std::to_string(i) + "].loinc = '" + d.observations[i].loinc +
                             "': mapped twice");
    }
  }
  if (f.Has("inputs")) {
    Fields in(f.Get("inputs"), "inputs");
    SOMA_RETURN_IF_ERROR(in.CheckObject());
    if (in.Has("meal")) {
    SOMA_ASSIGN_OR_RETURN(d.meal, ParseMeal(in.Get("meal"), "inputs.meal"));
  }
    SOMA_ASSIGN_OR_RETURN(d.doses, ParseArray<DoseMapping>(in, "doses", ParseDose));
    SOMA_RETURN_IF_ERROR(in.NoUnknown());
  }
  SOMA_ASSIGN_OR_RETURN(d.parameters, ParseArray<ParameterPrior>(f, "parameters", ParsePrior));
  std::set<std::string> ids;
  for (size_t i = 0; i < d.parameters.size(); ++i) {
    if (!ids.insert(d.parameters[i].id).second) {
      return InvalidArgument("parameters[" + std::to_string(i) + "].id = '" + d.parameters[i].id + "': listed twice");
    }
  }
  if (f.Has("assimilation")) {
    Fields a(f.Get("assimilation"), "assimilation");
    SOMA_RETURN_IF_ERROR(a.CheckObject());
    auto& s = d.assimilation;
    SOMA_ASSIGN_OR_RETURN(double n, a.Number("ensemble_size", 40.0));
    if (n != std::floor(n) || n < 5 || n > 2000) return InvalidArgument("assimilation.ensemble_size: must be an integer in 5..2000");
    s.ensemble_size = static_cast<int>(n);
    SOMA_ASSIGN_OR_RETURN(double seed, a.Number("seed", 1.0));
    if (seed < 0 || seed != std::floor(seed) || seed > 9.0e15) return InvalidArgument("assimilation.seed: must be a non-negative integer");
    s.seed = static_cast<std::uint64_t>(seed);
    SOMA_ASSIGN_OR_RETURN(s.inflation, a.Number("inflation", 1.0));
    if (!(s.inflation >= 1)) return InvalidArgument("assimilation.inflation: must be >= 1");
    SOMA_ASSIGN_OR_RETURN(s.parameter_drift, a.Number("parameter_drift", 0.0));
    SOMA_RETURN_IF_ERROR(NonNegative(s.parameter_drift, "assimilation.parameter_drift"));
    if (a.Has("process_noise")) {
      const Json& pn = a.Get("process_noise");
      if (!pn.is_object()) return InvalidArgument("assimilation.process_noise: must be an object");
      for (auto it = pn.begin(); it != pn.end(); ++it) {
        std::string path = "assimilation.process_noise." + it.key();
        if (!it->is_number()) return InvalidArgument(path + ": must be a number");
        double v = it->get<double>();
        SOMA_RETURN_IF_ERROR(NonNegative(v, path));
        s.process_noise[it.key()] = v;
      }
    }
    SOMA_RETURN_IF_ERROR(a.NoUnknown());
  }
  if (f.Has("forecast")) {
    Fields a(f.Get("forecast"), "forecast");
    SOMA_RETURN_IF_ERROR(a.CheckObject());
    auto& s = d.forecast;
    SOMA_ASSIGN_OR_RETURN(s.horizon, a.Number("horizon", 120.0));
    SOMA_ASSIGN_OR_RETURN(s.step, a.Number("step", 5.0));
    SOMA_RETURN_IF_ERROR(Positive(s.horizon, "forecast.horizon"));
    SOMA_RETURN_IF_ERROR(Positive(s.step, "forecast.step"));
    if (s.step > s.horizon) return InvalidArgument("forecast.step: must be <= horizon");
    if (a.Has("quantiles")) {
      const Json& q = a.Get("quantiles");
      if (!q.is_array() || q.empty()) return InvalidArgument("forecast.quantiles: must be a non-empty array");
      s.quantiles.clear();
      for (size_t i = 0; i < q.size(); ++i) {
        std::string path = "forecast.quantiles[" + std::to_string(i) + "]";
        if (!q[i].is_number()) return InvalidArgument(path + ": must be a number");
        double v = q[i].get<double>();
        if (!(v > 0 && v < 1)) return InvalidArgument(path + ": must be in (0, 1)");
        if (!s.quantiles.empty() && v <= s.quantiles.back()) return InvalidArgument(path + ": must be increasing");
        s.quantiles.push_back(v);
      }
    }
    SOMA_RETURN_IF_ERROR(a.NoUnknown());
  }
  SOMA_ASSIGN_OR_RETURN(d.alerts, ParseArray<AlertRule>(f, "alerts", ParseAlert));
  if (f.Has("fit")) {
    Fields a(f.Get("fit"), "fit");
    SOMA_RETURN_IF_ERROR(a.CheckObject());
    SOMA_ASSIGN_OR_RETURN(d.fit_assume_continuous_switches, a.Bool("assume_continuous_switches", false));
    SOMA_RETURN_IF_ERROR(a.NoUnknown());
  }
  SOMA_RETURN_IF_ERROR(f.NoUnknown());
  return d;
}

Result<TwinDefinition> ParseTwinDefinitionText(std::string_view text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return ParseError("twin definition: malformed JSON");
  return ParseTwinDefinition(j);
}

Json MealInputJson(const scenario::MealInput& m) {
  Json j = {{"rate", m.rate}, {"units_per_gram", m.units_per_gram},
            {"eat_rate_g_per_step", m.eat_rate_g_per_step}, {"step", m.step}};
  if (!m.ingested.empty()) j["ingested"] = m.ingested;
  return j;
}

Json ToJson(const TwinDefinition& d) {
  Json j;
  j["schema"] = "soma.twin/1";
  j["title"] = d.title;
  switch (d.model.kind) {
    case ModelRef::Kind::kResource: j["model"] = {{"resource", d.model.id}, {"version", d.model.version}}; break;
    case ModelRef::Kind::kBundled: j["model"] = {{"bundled", d.model.file}}; break;
    case ModelRef::Kind::kFile: j["model"] = {{"file", d.model.file}}; break;
  }
  j["time_unit_seconds"] = d.time_unit_seconds;
  j["observations"] = Json::array();
  for (const auto& o : d.observations) {
    Json n;
    switch (o.noise.kind) {
      case NoiseModel::Kind::kAdditive: n = {{"model", "additive"}, {"sd", o.noise.sd}}; break;
      case NoiseModel::Kind::kProportional: n = {{"model", "proportional"}, {"cv", o.noise.cv}}; break;
      case NoiseModel::Kind::kCombined: n = {{"model", "combined"}, {"sd", o.noise.sd}, {"cv", o.noise.cv}}; break;
    }
    j["observations"].push_back({{"loinc", o.loinc}, {"symbol", o.symbol}, {"unit", o.unit}, {"noise", n}});
  }
  Json inputs = Json::object();
  if (d.meal) inputs["meal"] = MealInputJson(*d.meal);
  if (!d.doses.empty()) {
    inputs["doses"] = Json::array();
    for (const auto& m : d.doses) {
      inputs["doses"].push_back({{"name", m.name}, {"medication_code", m.medication_code},
                                 {"route_code", m.route_code},
                                 {"kind", m.kind == DoseMapping::Kind::kBolus ? "bolus" : "infusion"},
                                 {"target", m.target}, {"unit", m.unit}, {"factor", m.factor}});
    }
  }
  j["inputs"] = inputs;
  j["parameters"] = Json::array();
  for (const auto& p : d.parameters) {
    Json prior;
    switch (p.kind) {
      case ParameterPrior::Kind::kNormal: prior = {{"distribution", "normal"}, {"mean", p.a}, {"sd", p.b}}; break;
      case ParameterPrior::Kind::kLogNormal: prior = {{"distribution", "log-normal"}, {"median", p.a}, {"sigma", p.b}}; break;
      case ParameterPrior::Kind::kUniform: prior = {{"distribution", "uniform"}, {"lower", p.a}, {"upper", p.b}}; break;
    }
    Json e = {{"id", p.id}, {"prior", prior}, {"personalised", p.personalised}};
    if (std::isfinite(p.lower)) e["lower"] = p.lower;
    if (std::isfinite(p.upper)) e["upper"] = p.upper;
    j["parameters"].push_back(e);
  }
  const auto& a = d.assimilation;
  j["assimilation"] = {{"ensemble_size", a.ensemble_size}, {"seed", a.seed}, {"inflation", a.inflation},
                       {"parameter_drift", a.parameter_drift}, {"process_noise", Json::object()}};
  for (const auto& [k, v] : a.process_noise) j["assimilation"]["process_noise"][k] = v;
  j["forecast"] = {{"horizon", d.forecast.horizon}, {"step", d.forecast.step}, {"quantiles", d.forecast.quantiles}};
  j["fit"] = {{"assume_continuous_switches", d.fit_assume_continuous_switches}};
  j["alerts"] = Json::array();
  for (const auto& r : d.alerts) {
    Json e = {{"name", r.name}, {"symbol", r.symbol}, {"within", r.within}, {"probability", r.probability}};
    if (r.below) e["below"] = *r.below;
    if (r.above) e["above"] = *r.above;
    j["alerts"].push_back(e);
  }
  return j;
}

}  // namespace soma::twin
