#pragma once
// Therapy scenarios: interventions over time on a model — a bolus dose into a
// species, an infusion (rate, start, duration), a meal (carbohydrate grams
// eaten at a set rate, turned into the model's meal inputs), a parameter or
// setting changed at a time (a surgery, a device setting, a new drug),
// repeated schedules (every 8 h x N) — plus initial parameter overrides, the
// output grid, the variables to report and the outcome metrics to compute.
// The JSON format is documented in docs/scenarios.md with a JSON Schema in
// docs/scenario.schema.json.
//
// A scenario is applied to a model IR as an input schedule (sim/input_schedule.h):
// every intervention becomes exact SBML events, so the integrator stops at
// each change. Rule-based controllers evaluated at sample times
// (scenario/controller.h) become one exact SBML event per sample time with
// conditional assignments.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "model/model.h"
#include "scenario/controller.h"
#include "scenario/outcomes.h"
#include "sim/compiled_model.h"
#include "sim/input_schedule.h"
#include "sim/options.h"

namespace soma::scenario {

// How meals reach a model: grams of carbohydrate are eaten at
// `eat_rate_g_per_step` per `step` of model time; during each step the
// `rate` parameter holds the grams eaten in that step per unit time times
// `units_per_gram` (e.g. 1000 for mg/min with steps of 1 min), and the
// optional `ingested` parameter the amount of the current meal eaten up to
// the end of the step (same units), as the UVA/Padova gastric-emptying rule
// needs. Meals overlapping in time are eaten one after the other.
struct MealInput {
  std::string rate;                 // parameter id (required for meals)
  std::string ingested;             // parameter id, optional
  double units_per_gram = 1000.0;   // model units of `rate` x time per gram
  double eat_rate_g_per_step = 5.0; // grams eaten per step at most
  double step = 1.0;                // model time units
};

struct Scenario {
  std::string name;
  std::string description;
  double start = 0.0;
  double end = 0.0;
  int steps = 100;
  // The integration method ("method": auto, bdf, adams, rk45); unset keeps
  // the caller's (sim::SimulationOptions::integrator.method).
  std::optional<solvers::OdeMethod> method;
  std::map<std::string, double> parameters;  // initial values replacing the model's
  std::vector<sim::InputChange> changes;     // all interventions, expanded
  std::vector<std::string> outputs;          // symbols to report (empty: all species)
  std::vector<OutcomeSpec> outcomes;
  std::vector<Controller> controllers;       // evaluated at their sample times
  int interventions = 0;                     // as written, before expansion
};

// Parses and checks a scenario; every error names its JSON path
// ("interventions[2].duration: must be > 0"). Unknown fields are errors.
Result<Scenario> ParseScenario(const nlohmann::json& j);
Result<Scenario> ParseScenarioText(std::string_view text);  // kParseError for bad JSON

// Sets the initial value of a model symbol as scenario overrides do: a
// parameter's value, a compartment's size, a species' initial value in the
// symbol's own meaning; drops that symbol's initial assignment. Errors: a
// symbol defined by a rule (kInvalidArgument), an unknown id (kNotFound).
Status SetInitialValue(model::Model& model, const std::string& id, double value);

// Applies the overrides (a species' initial value, a parameter's or
// compartment's value; an initial assignment of that symbol is dropped, a
// symbol defined by a rule is an error) and the interventions to `model`.
Status ApplyScenario(const Scenario& scenario, model::Model& model);

struct ScenarioRun {
  std::string name;
  sim::SimulationResult trajectory;
  std::vector<std::pair<std::string, double>> outcomes;  // in the scenario's order
};

// Applies the scenario to a copy of `base`, compiles, simulates on the
// scenario's grid with `integrator` tolerances and evaluates the outcomes
// (their variables are added to the outputs when missing).
Result<ScenarioRun> RunScenario(const Scenario& scenario, const model::Model& base,
                                const sim::SimulationOptions& integrator_options = {});

// A scenario applied to a model and compiled once, for many runs that differ
// only in the initial values of some symbols (the members of a virtual
// population). Run(values) gives exactly what RunScenario gives on a copy of
// the model where SetInitialValue(id, value) was applied for each value:
//  * the symbols runs will set (`varied`, with any value, e.g. the first
//    member's) are set with SetInitialValue before compiling, so their
//    initial assignments are dropped and a species holds the value in its
//    symbol's own meaning; the per-run values then reach the compiled model as
//    sim::SimulationOptions::overrides, without recompiling;
//  * the scenario's own "parameters" win over run values of the same symbol
//    (they are applied after the member's values, as in RunScenario).
// Interventions and controllers stay compiled events.
//
// Thread safety: Run is const and may be called from many threads at once.
class PreparedScenario {
 public:
  // Errors: those of SetInitialValue for `varied` (naming the symbol), of
  // ApplyScenario and of compilation.
  static Result<PreparedScenario> Prepare(const Scenario& scenario, const model::Model& base,
                                          const std::vector<std::pair<std::string, double>>& varied = {},
                                          const sim::CompileOptions& compile = {});
  // `values`: (symbol, value) for symbols among `varied` (others are
  // refused by the simulator's override check, naming the symbol).
  Result<ScenarioRun> Run(const std::vector<std::pair<std::string, double>>& values,
                          const sim::SimulationOptions& integrator_options = {}) const;
  const Scenario& scenario() const { return *scenario_; }
  const sim::CompiledModel& compiled() const { return *compiled_; }

 private:
  std::shared_ptr<const Scenario> scenario_;
  std::shared_ptr<const sim::CompiledModel> compiled_;
};

nlohmann::json ToJson(const ScenarioRun& run);

}  // namespace soma::scenario
