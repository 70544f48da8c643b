#pragma once
// Inputs over time as SBML events: piecewise-constant inputs (an infusion
// rate, a meal's ingestion rate) and instantaneous changes (a bolus added to
// a compartment) applied to a model IR before it is compiled. Scenarios
// (doses, meals, infusions, parameter changes) are built from these.
//
// Each InputChange becomes one event of the model, so the simulator treats it
// with exact SBML semantics: the integrator stops at the change, applies it,
// and restarts; everything the model derives from the target (assignment
// rules, event triggers that test it) follows at once.
//
//   event <id>:  trigger  time >= change.time   (initialValue false, persistent;
//                         values computed at execution, not at the trigger)
//                priority -(position of the event in the model's event list)
//                assign   target := value                 (kSet)
//                         target := target + value        (kAdd)
//
// * A change at the simulation start is applied at the start, after the
//   initial values (initial assignments, rules) are computed: the trigger is
//   true at t0 and its initial value is false. A change later than the start
//   fires when time reaches it.
// * Changes due at the same time are applied one after the other in the order
//   given, also across calls (their priorities decrease along the model's
//   event list), so "set X to 1, then add 2" gives 3. Model events without
//   a priority that fire at the same time (e.g. triggered by the change)
//   execute after them; model events with priorities are ordered with them
//   by priority value.
// * Values are in the units of the target's symbol as it appears in the
//   model's math: a parameter's or compartment's value; for a species its
//   concentration unless it has only substance units. `quantity` can instead
//   state a species value as an amount or a concentration; it is converted
//   with the compartment's size at the time of the change.
//
// The events are built for a simulation that starts at `window.start`: a
// change before it would be applied late (at the start), so it is an error.
//
// Thread safety: plain functions on values; no shared state.

#include <string>
#include <unordered_set>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "sim/options.h"

namespace soma::sim {

struct InputChange {
  enum class Mode {
    kSet,  // target := value
    kAdd,  // target := target + value (a bolus, or a step up/down of a rate)
  };
  double time = 0.0;   // model time units; finite, within the window
  std::string target;  // id of a non-constant parameter, species,
                       // compartment or species reference
  double value = 0.0;  // finite; units as described above
  Mode mode = Mode::kSet;
  // Species targets only: how `value` is meant (kDefault: the species
  // symbol's own meaning).
  SpeciesQuantity quantity = SpeciesQuantity::kDefault;
};

// The time span the events are built for: changes must lie in [start, end].
struct InputWindow {
  double start = 0.0;
  double end = 0.0;  // >= start
};

// Appends one event per change to `model`. Event ids are "input_<n>_<target>", n counting the
// model's events, made unique against every id in the model. On error the
// model is left unchanged.
//
// Errors (each names the change by index, time and target):
//   kInvalidArgument  the window is empty or not finite; a time outside the
//                     window or a value that is not finite; a target that is
//                     constant or defined by an assignment rule; a quantity
//                     other than kDefault on a target that is not a species.
//   kNotFound         the target is not a parameter, species, compartment or
//                     species reference of the model.
// Every id in `m` that a new event or parameter id must not collide with:
// the model's, and those of its compartments, species, parameters, events,
// reactions and species references.
std::unordered_set<std::string> TakenIds(const model::Model& m);

Status ApplyInputSchedule(const std::vector<InputChange>& changes, const InputWindow& window,
                          model::Model& model);

// A piecewise-constant input: `target` takes value levels[i].second from time
// levels[i].first on (kSet changes, times increasing). Convenience for
// building rate profiles; errors as ApplyInputSchedule reports them later.
std::vector<InputChange> PiecewiseConstant(const std::string& target,
                                           const std::vector<std::pair<double, double>>& levels);

}  // namespace soma::sim
