#pragma once
// Rule-based controllers of a scenario: a rule evaluated at sample times
// (every `every` time units from `start` to `end`) that, when its condition
// holds, gives a bolus into a target or sets a target to a value computed
// from the model's current state — a correction-dose rule ("every 5 min, if
// G > 180 and no correction in the last 2 h, give (G - target)/CF units"),
// a basal rate adjusted to glucose, a dose titrated to a level.
//
// Exact compilation: each sample time t_k becomes one SBML event of the
// model (no approximation, no co-simulation loop):
//
//   trigger   time >= t_k            (initialValue false, persistent)
//   priority  after the scenario's scheduled interventions (same instant:
//             the controller sees the state after them), controllers in the
//             order written
//   assign    bolus: target := target + piecewise(amount, when, 0)
//             set:   target := piecewise(value, when, target)
//             <last> := piecewise(t_k, when, <last>)
//
// All assignment values are computed from the state at t_k before any is
// applied (SBML event semantics), so the condition is tested once per sample.
// <last> is a parameter added to the model, "<name>_last_action" (made
// unique), holding the sample time of the controller's last action, and
// -1e300 before the first; the expressions may name it as `last_action`
// ("time - last_action >= 120": no action in the last 120 time units).
// Expressions are infix text (expr/parse.h) over model symbols, `time` and
// `last_action`; values are in the target symbol's own units (a species'
// concentration unless it has only substance units).
//
// Thread safety: plain functions on values.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "expr/expr.h"
#include "model/model.h"

namespace soma::scenario {

struct Controller {
  enum class Action { kBolus, kSet };
  std::string name;            // identifier: [A-Za-z_][A-Za-z0-9_]*
  double every = 0.0;          // > 0, model time units
  double start = 0.0;          // first sample time
  double end = 0.0;            // last sample time at most (inclusive)
  expr::Expr when;             // condition; "true" when not given
  Action action = Action::kBolus;
  std::string target;          // a non-constant parameter, species or compartment
  expr::Expr value;            // bolus amount or value to set
};

// Parses {"name", "every", "start"?, "end"?, "when"?, "action": {"type":
// "bolus"|"set", "target", "amount"|"value"}}; `window_start/end` are the
// scenario's (defaults of start/end; samples must lie inside). Errors name
// the JSON path; expressions that do not parse give the column.
Result<Controller> ParseController(const nlohmann::json& j, const std::string& path, double window_start,
                                   double window_end);

// The sample times of a controller: start, start + every, ... <= end
// (computed as start + k * every to avoid drift).
std::vector<double> SampleTimes(const Controller& c);

// Compiles the controllers into events appended to `model` (see above).
// Errors (naming the controller): an expression naming a symbol the model
// does not have; a target that is constant, defined by an assignment rule,
// or not a parameter, species or compartment.
Status ApplyControllers(const std::vector<Controller>& controllers, model::Model& model);

}  // namespace soma::scenario
