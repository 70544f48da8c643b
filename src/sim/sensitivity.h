#pragma once
// Time courses with forward sensitivities d(output)/d(parameter), for
// gradients in parameter estimation. The states' sensitivities are
// integrated by CVODES together with the states (forward sensitivity
// analysis, staggered corrector by default, sensitivities in the error test);
// the equations are the symbolic derivatives of the model's right-hand side
// (sim/sensitivity_program.h says what a parameter is and how the equations
// are formed).
//
// Events without a delay are supported, including assignments to
// parameters and states: the sensitivities of the assigned values replace
// those of the targets, and where the event's time tau moves with the
// parameters (a state event such as `x < 0.5`, or `time >= t_dose` with
// t_dose varied) the jump adds (dh/dt- - f+) dtau/dp, dtau/dp = -(dg/dp) /
// (dg/dt-) from the root function g of the condition that crossed (the
// CVODES guide's sensitivity jump conditions). Switches of the right-hand
// side (piecewise, max, ...) at moving times jump by (f- - f+) dtau/dp, f-
// and dg/dt- evaluated just before the switch on the last step's
// interpolant (skipped when SensitivityCompileOptions::
// assume_continuous_switches asserts f- = f+); f+ is evaluated a few
// roundings past the crossing, where the switch has its new value. Reported
// as Unsupported: an event whose delay changes with time, the state or the
// parameters (with a fixed delay, a delayed event fired at a moving time
// executes at a time that moves by the same d tau / dp, and the jump is
// applied there too, with a value kept from the trigger time carrying its
// own dh/dt dtau/dp), two moving conditions crossing at once or two
// delayed executions at one moving time, several events executing at one
// moving time, a condition touched rather than crossed (dg/dt = 0),
// floor/ceiling/quotient/rem of the state in a rate (jumps that no root
// function marks), delay(), an initial value computed from a variable an
// algebraic rule determines, and algebraic systems that do not determine
// their variables (singular). Algebraic rules and fast reactions are
// supported: the variables z they determine (fast species, with their
// moieties as states) have s_z = -(dr/dz)^-1 (dr/dw) s_w, solved wherever
// the sensitivities are read; after an event assigns a fast species, each
// moiety's sensitivity is recomputed from the species' as its value is.
//
// The trajectory is the one Simulator::Simulate gives for the same options
// (same event semantics, the same random choice among simultaneous events of
// equal priority for a seed); its accuracy follows the integrator options.
// Sensitivities are controlled with the same relative tolerance and an
// absolute tolerance abs_tol / |declared value| per parameter (1 where that
// is 0 or unknown).
//
// Thread safety: may run concurrently on one shared CompiledModel.

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/compiled_model.h"
#include "sim/options.h"

namespace soma::sim {

struct SensitivityResult {
  // time and the outputs at steps + 1 rows, as Simulator::Simulate returns
  // them (summary included).
  SimulationResult trajectory;
  std::vector<std::string> parameters;
  size_t num_outputs = 0;
  // d out_j / d p_k at row r: sensitivities[(r * num_outputs + j) * parameters.size() + k].
  std::vector<double> sensitivities;
  // d state_i / d p_k at the end: final_sensitivities[k * num_states + i]
  // (the states of trajectory.final_state; parameter-major).
  std::vector<double> final_sensitivities;
  long sensitivity_rhs_evaluations = 0;

  double at(size_t row, size_t output, size_t parameter) const {
    return sensitivities[(row * num_outputs + output) * parameters.size() + parameter];
  }
  // The trajectory's columns followed by one column "d<output>/d<parameter>"
  // per pair, output-major ("dS1/dk1", "dS1/dk2", "dS2/dk1", ...).
  SimulationResult Table() const;
};

// Simulates `model` as Simulator::Simulate does and returns the
// sensitivities of `outputs` (default: every species) to `parameters` at
// every output time. `sensitivity` tunes CVODES' sensitivity solver; its
// scales default to the parameters' declared magnitudes.
// Errors: those of Simulate and of CompiledModel::CompileSensitivities
// (unknown or unsuitable parameters, Unsupported constructs named).
Result<SensitivityResult> SimulateWithSensitivities(std::shared_ptr<const CompiledModel> model,
                                                    const SimulationOptions& options,
                                                    const std::vector<OutputVariable>& outputs,
                                                    const std::vector<std::string>& parameters,
                                                    const solvers::SensitivityOptions& sensitivity = {});

struct SensitivityProgram;  // sim/sensitivity_program.h

// The sensitivity equations of `outputs` to `parameters`, compiled once for
// many runs with different SimulationOptions::overrides (an estimator's
// objective, evaluated hundreds of times). Immutable; share across threads.
struct SensitivityPlan {
  std::shared_ptr<const CompiledModel> model;
  std::vector<OutputVariable> outputs;
  std::vector<std::string> parameters;
  std::shared_ptr<const SensitivityProgram> program;
  expr::Program output_program;
};

// Errors: those of CompiledModel::CompileSensitivities.
Result<std::shared_ptr<const SensitivityPlan>> PlanSensitivities(std::shared_ptr<const CompiledModel> model,
                                                               const std::vector<OutputVariable>& outputs,
                                                               const std::vector<std::string>& parameters,
                                                               const SensitivityCompileOptions& options = {});

// As above with a compiled plan. The parameters' values are their declared
// values unless `options.overrides` replaces them. `options.initial_state`
// needs `initial_sensitivities`, d state_i / d p_k at the start in the layout
// of SensitivityResult::final_sensitivities (e.g. a pre-equilibration's
// result, to continue from); without initial_state they replace the states'
// sensitivities from the initial values, when given.
Result<SensitivityResult> SimulateWithSensitivities(const SensitivityPlan& plan, const SimulationOptions& options,
                                                    const solvers::SensitivityOptions& sensitivity = {},
                                                    const std::vector<double>* initial_sensitivities = nullptr);

// d state_i / d p_k at options.start from the initial values (initial
// assignments, the declared values and options.overrides), in the layout of
// SensitivityResult::final_sensitivities; options.initial_state is ignored.
// What SimulateWithSensitivities starts from without initial sensitivities.
Result<std::vector<double>> InitialSensitivities(const SensitivityPlan& plan, const SimulationOptions& options);

}  // namespace soma::sim
