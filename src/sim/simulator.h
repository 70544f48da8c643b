#pragma once
// Time-course simulation of a CompiledModel with CVODES and SBML event
// semantics:
// * An event fires when its trigger goes from false to true. Trigger
//   relations are located by root finding; at the root, the relation takes
//   the value it has just after the crossing.
// * A fired event executes after its delay (0 if none), with assignment
//   values computed at the trigger time when useValuesFromTriggerTime, else at
//   execution. A non-persistent event is cancelled if its trigger turns false
//   before it executes.
// * Events due at the same time execute one at a time, highest priority
//   first (events without priority after those with one, then in document
//   order); after each execution all triggers are re-evaluated, so cascades
//   and cancellations take effect at once.
// * An event whose trigger is true at the start fires at the start when its
//   trigger's initialValue is false.
// * At an output time that coincides with an event, the row shows the state
//   after the event.
//
// Thread safety: a Simulator is single-threaded; run one per thread (they can
// share the CompiledModel).

#include <memory>
#include <vector>

#include "core/status.h"
#include "sim/compiled_model.h"
#include "sim/options.h"

namespace soma::sim {

class Simulator {
 public:
  explicit Simulator(std::shared_ptr<const CompiledModel> model) : model_(std::move(model)) {}

  // Simulates from options.start to options.end and returns the values of
  // `outputs` (default: every species) at the steps + 1 uniform output
  // times. Errors: bad options (naming the field), unknown output ids,
  // missing initial values, and solver failures (with the model time).
  Result<SimulationResult> Simulate(const SimulationOptions& options,
                                    const std::vector<OutputVariable>& outputs = {}) const;

 private:
  std::shared_ptr<const CompiledModel> model_;
};

}  // namespace soma::sim
