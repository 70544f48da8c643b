#pragma once
// Options and outcomes of a time-course simulation.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "solvers/ode_integrator.h"

namespace soma::sim {

// How a species column is reported.
enum class SpeciesQuantity {
  kDefault,        // SBML's meaning of the species symbol: amount if
                   // hasOnlySubstanceUnits, else concentration
  kAmount,
  kConcentration,
};

// One output column: any model symbol (species, compartment, parameter,
// species reference, reaction = its rate).
struct OutputVariable {
  std::string id;
  SpeciesQuantity quantity = SpeciesQuantity::kDefault;
};

// The most output intervals a simulation keeps in memory (the scenario
// format's limit too).
inline constexpr int kMaxOutputSteps = 10'000'000;

struct SimulationOptions {
  double start = 0.0;              // model time of the first output row
  double end = 10.0;               // > start
  int steps = 100;                 // 1 .. kMaxOutputSteps; output rows = steps + 1 on a uniform grid
  solvers::IntegratorOptions integrator;
  // Guard against events that re-trigger each other forever at one instant.
  long max_event_iterations = 100000;  // >= 1
  // Seeds the choice among simultaneous events of equal priority, which SBML
  // leaves to chance. The same seed gives the same run.
  uint64_t seed = 1;

  // Output times replacing the uniform grid when not empty: non-decreasing,
  // within [start, end] (repeats give repeated rows, as replicate
  // measurements need). `steps` is then ignored.
  std::vector<double> output_times;
  // Values replacing the model's declared values before initial assignments
  // and rules are applied, by symbol id: a parameter's value (a local
  // parameter as "reaction.parameter"), a compartment's size, a species'
  // initial value in the quantity the species declares (initialAmount or
  // initialConcentration). Symbols given by an initial assignment or a rule
  // are refused. The compiled model is not changed: many runs with different
  // values share one compilation (estimation, virtual populations).
  std::vector<std::pair<std::string, double>> overrides;
  // When not empty: the stored values of the ODE states at `start`
  // (CompiledModel::num_states() values in state order, species as the
  // compiled model stores them), replacing the computed initial state. The
  // way to continue from SimulationResult::final_state.
  std::vector<double> initial_state;
  // A wall-clock time after which the run stops at its next stop (an output
  // time, an event or a time point the integrator lands on) with
  // kResourceExhausted ("time limit"): how callers with a budget (a fit's
  // --max-time) stop a simulation that takes longer than it. None by default.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();

  Status Validate() const;
  // Whether `deadline` has passed; the error to return then, naming `t`.
  Status CheckDeadline(double t) const;
  // The output times: output_times, or the uniform grid of steps + 1 points.
  std::vector<double> OutputTimes() const;
};

// What happened during a simulation (Ceres-style summary).
struct SimulationSummary {
  solvers::IntegratorStats integrator;
  long events_fired = 0;
  // SBML constraints found false at output times: "t = 2.5: <message or math>",
  // the first violation of each constraint.
  std::vector<std::string> constraint_violations;
  // Output columns with a NaN: "'S' is not a number (NaN) from t = 0", at
  // its first such output time (0/0, a concentration in a compartment of
  // size 0, a piecewise with no piece that holds...).
  std::vector<std::string> undefined_outputs;
  // Stops where a relation changed value: roots found by CVODES, and the
  // time points of relations between time and a constant, which the
  // simulator lands on instead of searching (Relation::time_direction).
  long roots_found = 0;
  long restarts = 0;               // integrator re-initialisations after discontinuities
  double setup_seconds = 0.0;      // initial values and integrator creation
  double integration_seconds = 0.0;
  std::string termination = "not run";

  // One line: "steps 120, rhs 260, jac 12, events 3, 1.2 ms".
  std::string BriefReport() const;
  std::string FullReport() const;
};

// A table of (steps + 1) rows: column 0 is time, then one column per output.
struct SimulationResult {
  std::vector<std::string> columns;
  std::vector<double> values;      // row-major
  size_t rows = 0;
  SimulationSummary summary;
  // The stored ODE states at the last output time (see
  // SimulationOptions::initial_state).
  std::vector<double> final_state;

  double at(size_t row, size_t col) const { return values[row * columns.size() + col]; }
};

// CVODES controls the local error of each step; the global error of the
// output can be larger. Users state the accuracy they want in the output
// (|x - exact| <= abs + rel |x|); we run CVODES with tolerances 1000 times
// tighter (relative floored at 1e-14), which meets the request on the SBML
// Test Suite.
solvers::IntegratorOptions IntegratorOptionsForAccuracy(double abs_tol, double rel_tol);

// The integration methods by the names users give them (CLI --method, the
// scenario's "method"): "auto" (Adams, BDF once stiff), "bdf", "adams",
// "rk45" (explicit Runge-Kutta, Dormand-Prince 5(4)). Unknown names are
// kInvalidArgument listing the known ones.
Result<solvers::OdeMethod> ParseOdeMethod(std::string_view name);
std::string_view OdeMethodName(solvers::OdeMethod method);
inline constexpr const char* kOdeMethodNames[] = {"auto", "bdf", "adams", "rk45"};

}  // namespace soma::sim
