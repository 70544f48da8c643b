#include "scenario/scenario.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "sim/compiled_model.h"
#include "sim/simulator.h"

namespace soma::scenario {
using nlohmann::json;
namespace {

// A reader of one JSON object that names paths in errors and refuses
// unknown fields.
class Obj {
 public:
  Obj(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  Status Check(std::initializer_list<const char*> keys) const {
    if (!j_.is_object()) return InvalidArgument(path_ + ": must be a JSON object");
    std::set<std::string> known(keys.begin(), keys.end());
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (!known.count(it.key())) {
        return InvalidArgument(At(it.key()) + ": unknown field");
      }
    }
    return Status::Ok();
  }
  bool Has(const char* k) const { return j_.contains(k); }
  std::string At(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }
  const json& Raw(const char* k) const { return j_.at(k); }

  Result<double> Number(const char* k, std::optional<double> fallback = std::nullopt) const {
    auto it = j_.find(k);
    if (it == j_.end()) {
      if (fallback) return *fallback;
      return InvalidArgument(At(k) + ": required");
    }
    if (!it->is_number() || !std::isfinite(it->get<double>())) {
      return InvalidArgument(At(k) + ": must be a finite number");
    }
    return it->get<double>();
  }
  Result<std::string> String(const char* k, std::optional<std::string> fallback = std::nullopt) const {
    auto it = j_.find(k);
    if (it == j_.end()) {
      if (fallback) return *fallback;
      return InvalidArgument(At(k) + ": required");
    }
    if (!it->is_string()) return InvalidArgument(At(k) + ": must be a string");
    return it->get<std::string>();
  }

 private:
  const json& j_;
  std::string path_;
};

struct Meal {
  double time;
  double grams;
};

Result<sim::SpeciesQuantity> ParseQuantity(const std::string& s, const std::string& where) {
  if (s.empty() || s == "default") return sim::SpeciesQuantity::kDefault;
  if (s == "amount") return sim::SpeciesQuantity::kAmount;
  if (s == "concentration") return sim::SpeciesQuantity::kConcentration;
  return InvalidArgument(where + " = '" + s + "': must be default, amount or concentration");
}

// One intervention (already offset by a repeat) into changes or meals.
Status ExpandOne(const Obj& o, const std::string& type, double offset, std::vector<sim::InputChange>& out,
                 std::vector<Meal>& meals) {
  if (type == "set") {
    SOMA_RETURN_IF_ERROR(o.Check({"type", "time", "target", "value", "repeat"}));
    SOMA_ASSIGN_OR_RETURN(double t, o.Number("time"));
    SOMA_ASSIGN_OR_RETURN(std::string target, o.String("target"));
    SOMA_ASSIGN_OR_RETURN(double v, o.Number("value"));
    out.push_back({.time = t + offset, .target = target, .value = v, .mode = sim::InputChange::Mode::kSet});
    return Status::Ok();
  }
  if (type == "bolus") {
    SOMA_RETURN_IF_ERROR(o.Check({"type", "time", "target", "amount", "quantity", "repeat"}));
    SOMA_ASSIGN_OR_RETURN(double t, o.Number("time"));
    SOMA_ASSIGN_OR_RETURN(std::string target, o.String("target"));
    SOMA_ASSIGN_OR_RETURN(double a, o.Number("amount"));
    SOMA_ASSIGN_OR_RETURN(std::string q, o.String("quantity", std::string("default")));
    SOMA_ASSIGN_OR_RETURN(sim::SpeciesQuantity quantity, ParseQuantity(q, o.At("quantity")));
    out.push_back({.time = t + offset, .target = target, .value = a, .mode = sim::InputChange::Mode::kAdd,
                   .quantity = quantity});
    return Status::Ok();
  }
  if (type == "infusion") {
    SOMA_RETURN_IF_ERROR(o.Check({"type", "start", "duration", "target", "rate", "repeat"}));
    SOMA_ASSIGN_OR_RETURN(double t, o.Number("start"));
    SOMA_ASSIGN_OR_RETURN(double d, o.Number("duration"));
    SOMA_ASSIGN_OR_RETURN(std::string target, o.String("target"));
    SOMA_ASSIGN_OR_RETURN(double r, o.Number("rate"));
    if (!(d > 0)) return InvalidArgument(o.At("duration") + ": must be > 0");
    // Added to whatever the rate parameter holds (a basal rate, another
    // infusion) and taken away again at the end.
    out.push_back({.time = t + offset, .target = target, .value = r, .mode = sim::InputChange::Mode::kAdd});
    out.push_back({.time = t + offset + d, .target = target, .value = -r, .mode = sim::InputChange::Mode::kAdd});
    return Status::Ok();
  }
  if (type == "meal") {
    SOMA_RETURN_IF_ERROR(o.Check({"type", "time", "grams", "repeat"}));
    SOMA_ASSIGN_OR_RETURN(double t, o.Number("time"));
    SOMA_ASSIGN_OR_RETURN(double g, o.Number("grams"));
    if (!(g > 0)) return InvalidArgument(o.At("grams") + ": must be > 0");
    meals.push_back({t + offset, g});
    return Status::Ok();
  }
  return InvalidArgument(o.At("type") + " = '" + type + "': must be set, bolus, infusion or meal");
}

// Meals as per-step changes of the meal input parameters.
Result<std::vector<sim::InputChange>> ExpandMeals(std::vector<Meal> meals, const MealInput& in,
                                                  double end) {
  std::vector<sim::InputChange> out;
  if (meals.empty()) return out;
  std::stable_sort(meals.begin(), meals.end(), [](const Meal& a, const Meal& b) { return a.time < b.time; });
  const double h = in.step;
  double planned = 0, food = 0, last_rate = 0, last_ingested = 0;
  size_t next = 0;
  // Steps on the grid start + k h from the first meal's time.
  double t0 = meals.front().time;
  for (long k = 0;; ++k) {
    double t = t0 + k * h;
    if (next >= meals.size() && planned <= 0) {
      if (last_rate != 0) out.push_back({.time = std::min(t, end), .target = in.rate, .value = 0.0});
      break;
    }
    if (t >= end) break;
    bool starts = false;
    while (next < meals.size() && meals[next].time <= t + 1e-9 * std::max(1.0, std::abs(t))) {
      if (planned <= 0) starts = true;
      planned += meals[next++].grams;
    }
    double eaten = std::min(in.eat_rate_g_per_step, std::max(planned, 0.0));
    planned -= eaten;
    if (starts) food = 0;
    food += eaten;
    double rate = eaten * in.units_per_gram / h;
    if (rate != last_rate) out.push_back({.time = t, .target = in.rate, .value = rate});
    last_rate = rate;
    if (!in.ingested.empty() && food * in.units_per_gram != last_ingested) {
      out.push_back({.time = t, .target = in.ingested, .value = food * in.units_per_gram});
      last_ingested = food * in.units_per_gram;
    }
  }
  return out;
}

Status OverrideImpl(model::Model& m, const std::string& id, double v) {
  if (m.FindRuleFor(id) != nullptr) {
    return InvalidArgument("parameters." + id + ": the model defines it by a rule; it cannot be set");
  }
  bool found = false;
  for (auto& p : m.parameters) {
    if (p.id == id) {
      p.value = v;
      found = true;
    }
  }
  for (auto& c : m.compartments) {
    if (c.id == id) {
      c.size = v;
      found = true;
    }
  }
  for (auto& s : m.species) {
    if (s.id == id) {
      // The value is the species symbol's own meaning: an amount with only
      // substance units, else a concentration.
      if (s.has_only_substance_units) {
        s.initial_amount = v;
        s.initial_concentration.reset();
      } else {
        s.initial_concentration = v;
        s.initial_amount.reset();
      }
      found = true;
    }
  }
  if (!found) return NotFound("parameters." + id + ": no parameter, species or compartment of that id");
  std::erase_if(m.initial_assignments, [&](const model::InitialAssignment& a) { return a.symbol == id; });
  return Status::Ok();
}

}  // namespace

Status SetInitialValue(model::Model& model, const std::string& id, double value) {
  return OverrideImpl(model, id, value);
}

namespace {
Result<Scenario> ParseScenarioChecked(const json& j);
}  // namespace

// As ParseTrial: a value of the wrong JSON type that a check misses is an
// error, not an exception that ends the process.
Result<Scenario> ParseScenario(const json& j) {
  try {
    return ParseScenarioChecked(j);
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("scenario: a value of the wrong type: ") + e.what());
  }
}

namespace {

Result<Scenario> ParseScenarioChecked(const json& j) {
  Obj root(j, "");
  SOMA_RETURN_IF_ERROR(root.Check({"schema", "name", "description", "start", "end", "steps", "method",
                                   "parameters", "interventions", "meal_input", "outputs", "outcomes",
                                   "controllers"}));
  Scenario s;
  if (root.Has("schema")) {
    SOMA_ASSIGN_OR_RETURN(std::string schema, root.String("schema"));
    if (schema != "soma.scenario/1") {
      return Unsupported("schema = '" + schema + "': this Soma reads soma.scenario/1");
    }
  }
  SOMA_ASSIGN_OR_RETURN(s.name, root.String("name"));
  if (s.name.empty()) return InvalidArgument("name: must not be empty");
  SOMA_ASSIGN_OR_RETURN(s.description, root.String("description", std::string()));
  SOMA_ASSIGN_OR_RETURN(s.start, root.Number("start", 0.0));
  SOMA_ASSIGN_OR_RETURN(s.end, root.Number("end"));
  if (!(s.end > s.start)) return InvalidArgument("end: must be > start");
  SOMA_ASSIGN_OR_RETURN(double steps, root.Number("steps", 100.0));
  if (steps < 1 || steps > 1e7 || steps != std::floor(steps)) {
    return InvalidArgument("steps: must be a whole number from 1 to 10000000");
  }
  s.steps = static_cast<int>(steps);
  if (root.Has("method")) {
    SOMA_ASSIGN_OR_RETURN(std::string method, root.String("method"));
    auto parsed = sim::ParseOdeMethod(method);
    if (!parsed.ok()) return parsed.status().WithContext("method");
    s.method = *parsed;
  }
  if (root.Has("parameters")) {
    const json& p = root.Raw("parameters");
    if (!p.is_object()) return InvalidArgument("parameters: must be an object of id: value");
    for (auto it = p.begin(); it != p.end(); ++it) {
      if (!it->is_number() || !std::isfinite(it->get<double>())) {
        return InvalidArgument("parameters." + it.key() + ": must be a finite number");
      }
      s.parameters[it.key()] = it->get<double>();
    }
  }
  MealInput meal_input;
  bool has_meal_input = root.Has("meal_input");
  if (has_meal_input) {
    Obj m(root.Raw("meal_input"), "meal_input");
    SOMA_RETURN_IF_ERROR(m.Check({"rate", "ingested", "units_per_gram", "eat_rate_g_per_step", "step"}));
    SOMA_ASSIGN_OR_RETURN(meal_input.rate, m.String("rate"));
    SOMA_ASSIGN_OR_RETURN(meal_input.ingested, m.String("ingested", std::string()));
    SOMA_ASSIGN_OR_RETURN(meal_input.units_per_gram, m.Number("units_per_gram", 1000.0));
    SOMA_ASSIGN_OR_RETURN(meal_input.eat_rate_g_per_step, m.Number("eat_rate_g_per_step", 5.0));
    SOMA_ASSIGN_OR_RETURN(meal_input.step, m.Number("step", 1.0));
    if (!(meal_input.step > 0)) return InvalidArgument("meal_input.step: must be > 0");
    if (!(meal_input.eat_rate_g_per_step > 0)) return InvalidArgument("meal_input.eat_rate_g_per_step: must be > 0");
    if (!(meal_input.units_per_gram > 0)) return InvalidArgument("meal_input.units_per_gram: must be > 0");
  }
  std::vector<Meal> meals;
  if (root.Has("interventions")) {
    const json& list = root.Raw("interventions");
    if (!list.is_array()) return InvalidArgument("interventions: must be an array");
    s.interventions = static_cast<int>(list.size());
    for (size_t i = 0; i < list.size(); ++i) {
      std::string path = "interventions[" + std::to_string(i) + "]";
      Obj o(list[i], path);
      if (!list[i].is_object()) return InvalidArgument(path + ": must be an object");
      SOMA_ASSIGN_OR_RETURN(std::string type, o.String("type"));
      double every = 0;
      int count = 1;
      if (o.Has("repeat")) {
        Obj r(o.Raw("repeat"), o.At("repeat"));
        SOMA_RETURN_IF_ERROR(r.Check({"every", "count"}));
        SOMA_ASSIGN_OR_RETURN(every, r.Number("every"));
        SOMA_ASSIGN_OR_RETURN(double c, r.Number("count"));
        if (!(every > 0)) return InvalidArgument(r.At("every") + ": must be > 0");
        if (c < 1 || c > 100000 || c != std::floor(c)) {
          return InvalidArgument(r.At("count") + ": must be a whole number from 1 to 100000");
        }
        count = static_cast<int>(c);
      }
      for (int k = 0; k < count; ++k) SOMA_RETURN_IF_ERROR(ExpandOne(o, type, k * every, s.changes, meals));
    }
  }
  if (!meals.empty() && !has_meal_input) {
    return InvalidArgument("meal_input: required when there are meal interventions (which parameter receives them)");
  }
  SOMA_ASSIGN_OR_RETURN(auto meal_changes, ExpandMeals(meals, meal_input, s.end));
  s.changes.insert(s.changes.end(), meal_changes.begin(), meal_changes.end());
  std::stable_sort(s.changes.begin(), s.changes.end(),
                   [](const sim::InputChange& a, const sim::InputChange& b) { return a.time < b.time; });
  for (const auto& c : s.changes) {
    if (c.time < s.start || c.time > s.end) {
      return InvalidArgument("an intervention on '" + c.target + "' at t = " + std::to_string(c.time) +
                             " lies outside [start, end] = [" + std::to_string(s.start) + ", " +
                             std::to_string(s.end) + "]");
    }
  }
  if (root.Has("controllers")) {
    const json& list = root.Raw("controllers");
    if (!list.is_array()) return InvalidArgument("controllers: must be an array");
    std::set<std::string> names;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string path = "controllers[" + std::to_string(i) + "]";
      SOMA_ASSIGN_OR_RETURN(Controller c, ParseController(list[i], path, s.start, s.end));
      if (!names.insert(c.name).second) return InvalidArgument(path + ".name = '" + c.name + "': used twice");
      s.controllers.push_back(std::move(c));
    }
  }
  if (root.Has("outputs")) {
    const json& out = root.Raw("outputs");
    if (!out.is_array()) return InvalidArgument("outputs: must be an array of model symbols");
    for (size_t i = 0; i < out.size(); ++i) {
      if (!out[i].is_string()) return InvalidArgument("outputs[" + std::to_string(i) + "]: must be a string");
      s.outputs.push_back(out[i].get<std::string>());
    }
  }
  if (root.Has("outcomes")) {
    const json& list = root.Raw("outcomes");
    if (!list.is_array()) return InvalidArgument("outcomes: must be an array");
    std::set<std::string> names;
    for (size_t i = 0; i < list.size(); ++i) {
      SOMA_ASSIGN_OR_RETURN(OutcomeSpec o, OutcomeSpecFromJson(list[i], "outcomes[" + std::to_string(i) + "]"));
      if (!names.insert(o.name).second) {
        return InvalidArgument("outcomes[" + std::to_string(i) + "].name = '" + o.name + "': used twice");
      }
      s.outcomes.push_back(std::move(o));
    }
  }
  return s;
}

}  // namespace

Result<Scenario> ParseScenarioText(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return ParseError("scenario: not valid JSON");
  return ParseScenario(j);
}

Status ApplyScenario(const Scenario& scenario, model::Model& model) {
  model::Model m = model;
  for (const auto& [id, v] : scenario.parameters) SOMA_RETURN_IF_ERROR(OverrideImpl(m, id, v));
  SOMA_RETURN_IF_ERROR(sim::ApplyInputSchedule(scenario.changes, {scenario.start, scenario.end}, m));
  SOMA_RETURN_IF_ERROR(ApplyControllers(scenario.controllers, m));
  model = std::move(m);
  return Status::Ok();
}

Result<ScenarioRun> RunScenario(const Scenario& scenario, const model::Model& base,
                                const sim::SimulationOptions& integrator_options) {
  SOMA_ASSIGN_OR_RETURN(PreparedScenario prepared, PreparedScenario::Prepare(scenario, base));
  return prepared.Run({}, integrator_options);
}

Result<PreparedScenario> PreparedScenario::Prepare(const Scenario& scenario, const model::Model& base,
                                                   const std::vector<std::pair<std::string, double>>& varied,
                                                   const sim::CompileOptions& compile) {
  model::Model m = base;
  for (const auto& [id, v] : varied) SOMA_RETURN_IF_ERROR(OverrideImpl(m, id, v));
  SOMA_RETURN_IF_ERROR(ApplyScenario(scenario, m).WithContext("scenario '" + scenario.name + "'"));
  PreparedScenario p;
  SOMA_ASSIGN_OR_RETURN(p.compiled_, sim::CompiledModel::Compile(m, compile));
  p.scenario_ = std::make_shared<const Scenario>(scenario);
  return p;
}

Result<ScenarioRun> PreparedScenario::Run(const std::vector<std::pair<std::string, double>>& values,
                                          const sim::SimulationOptions& integrator_options) const {
  const Scenario& scenario = *scenario_;
  sim::SimulationOptions o = integrator_options;
  o.start = scenario.start;
  o.end = scenario.end;
  o.steps = scenario.steps;
  if (scenario.method) o.integrator.method = *scenario.method;
  for (const auto& [id, v] : values) {
    // The scenario's own values were applied after the member's: they win.
    if (!scenario.parameters.count(id)) o.overrides.emplace_back(id, v);
  }
  std::vector<sim::OutputVariable> outputs;
  for (const std::string& id : scenario.outputs) outputs.push_back({id});
  if (!outputs.empty()) {
    for (const OutcomeSpec& spec : scenario.outcomes) {
      bool listed = std::any_of(outputs.begin(), outputs.end(),
                                [&](const sim::OutputVariable& v) { return v.id == spec.variable; });
      if (!listed) outputs.push_back({spec.variable});
    }
  }
  SOMA_ASSIGN_OR_RETURN(sim::SimulationResult result, sim::Simulator(compiled_).Simulate(o, outputs));
  ScenarioRun run;
  run.name = scenario.name;
  std::vector<double> times(result.rows);
  for (size_t r = 0; r < result.rows; ++r) times[r] = result.at(r, 0);
  for (const OutcomeSpec& spec : scenario.outcomes) {
    auto col = std::find(result.columns.begin(), result.columns.end(), spec.variable);
    if (col == result.columns.end()) {
      return NotFound("outcome '" + spec.name + "': variable '" + spec.variable + "' is not an output");
    }
    size_t c = static_cast<size_t>(col - result.columns.begin());
    std::vector<double> values(result.rows);
    for (size_t r = 0; r < result.rows; ++r) values[r] = result.at(r, c);
    SOMA_ASSIGN_OR_RETURN(double v, EvaluateOutcome(spec, times, values));
    run.outcomes.emplace_back(spec.name, v);
  }
  run.trajectory = std::move(result);
  return run;
}

json ToJson(const ScenarioRun& run) {
  json rows = json::array();
  const size_t cols = run.trajectory.columns.size();
  for (size_t r = 0; r < run.trajectory.rows; ++r) {
    json row = json::array();
    for (size_t c = 0; c < cols; ++c) row.push_back(run.trajectory.at(r, c));
    rows.push_back(row);
  }
  json outcomes = json::object();
  for (const auto& [name, v] : run.outcomes) {
    outcomes[name] = std::isfinite(v) ? json(v) : json(nullptr);
  }
  return {{"scenario", run.name}, {"columns", run.trajectory.columns}, {"rows", rows}, {"outcomes", outcomes}};
}

}  // namespace soma::scenario
