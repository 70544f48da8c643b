#pragma once
// Steady states of a CompiledModel: a state y* of the ODE states with
// f(y*) = 0, found by Newton's method (KINSOL, analytic Jacobian) and, when
// that fails or cannot be trusted, by integrating the model (CVODES) until it
// stops changing.
//
// Starting point: the initial workspace at options.start, as Simulator
// computes it (declared values, initial assignments, assignment rules,
// algebraic rules solved). Events are ignored, including those whose trigger
// holds at the start: a steady state is a property of the equations between
// events, and a model whose events keep firing has none in this sense.
//
// Convergence test, per state i (y in stored quantities: amounts for most
// species, see compiled_model.h):
//     |f_i(y)| <= abs_tol + rel_tol * |y_i|
// f has units of y per model time. The distance to the exact steady state is
// about |f| / |slowest decay rate|: tighten the tolerances for slow models.
//
// Strategy (SteadyStateMethod::kAuto):
// 1. Newton from the initial state, unless the Jacobian there is singular.
//    A Newton solution is rejected when the Jacobian at it is singular (the
//    root is not isolated: with conservation laws, e.g. mass-action networks
//    with conserved moieties, Newton may land on a steady state with other
//    totals than the initial state's) or a species amount is negative.
// 2. Otherwise: integration from the initial state to start + first_horizon,
//    2 first_horizon, 4 ... until the test holds (conserved totals stay those
//    of the initial state), up to max_time. Because y = c t would pass the
//    relative test at t ~ 1 / rel_tol, integration also requires
//    |f_i| T <= abs_tol T + 0.01 |y_i| after integrating for a time T: the
//    rates must not change any state by more than 1% over as long again.
// 3. Polish: Newton from the integrated state when its Jacobian is regular;
//    kept if it converges close to the integrated state.
// With several steady states, Newton finds one near the initial state, not
// necessarily the one the time course approaches; kIntegration follows the
// dynamics.
//
// Models whose rates depend on time explicitly have no steady state in
// general; Newton evaluates f at options.start and integration at the time it
// reached.
//
// Delays: at a steady state every delayed value equals the current one, so
// Newton and the rate test solve f(y, y) = 0 with delay(x, tau) read on the
// current state (difference-quotient Jacobian: the compiled one leaves out
// the delayed values' dependence on y). Integration runs the delay equation
// itself from a past that held the initial state. The stability of a delay
// equation's steady state is not decided by the Jacobian's eigenvalues and
// is reported as not computed.
//
// Thread safety: FindSteadyState may run concurrently on one CompiledModel.

#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sim/compiled_model.h"
#include "sim/options.h"
#include "sim/stability.h"
#include "solvers/nonlinear_solver.h"
#include "solvers/ode_integrator.h"

namespace soma::sim {

enum class SteadyStateMethod {
  kAuto,         // Newton, integration when Newton fails, then a Newton polish
  kNewton,       // Newton only: fails when the Jacobian is singular
  kIntegration,  // integration only (polished with Newton if `polish`)
};

struct SteadyStateOptions {
  SteadyStateMethod method = SteadyStateMethod::kAuto;
  double abs_tol = 1e-9;        // > 0, in units of y per model time
  double rel_tol = 1e-6;        // > 0, per model time
  double start = 0.0;           // finite; model time of the initial state
  // Newton (KINSOL): iterations per attempt.
  long max_newton_iterations = 100;  // >= 1
  // kAuto: KLU for models with a sparse Jacobian from 20 states on.
  solvers::LinearSolverKind linear_solver = solvers::LinearSolverKind::kAuto;
  // Integration: the test is checked at start + first_horizon * 2^k.
  double first_horizon = 1.0;   // > 0, model time
  double max_time = 1e9;        // >= first_horizon; integration gives up after this
  long max_steps = 200000;      // >= 1; CVODES steps in all, guards against oscillations
  bool polish = true;           // Newton after a successful integration
  // Singularity checks and stability need the dense Jacobian and its
  // eigenvalues (O(n^3)); above this many states both are skipped and
  // Newton's result is trusted as KINSOL reports it.
  int max_dense_states = 500;   // >= 0; eigenvalues of 500 states take ~0.3 s

  // Names the field and the rule it broke, e.g.
  // "SteadyStateOptions::abs_tol = 0; must be > 0".
  Status Validate() const;
};

// How the returned steady state was found.
enum class SteadyStateRoute {
  kNone,                   // no ODE states: the initial state is the answer
  kNewton,
  kIntegration,
  kIntegrationThenNewton,  // integration, then polished by Newton
};
std::string_view RouteName(SteadyStateRoute route);  // "newton", "integration", ...

struct SteadyStateSummary {
  SteadyStateRoute route = SteadyStateRoute::kNone;
  // Why Newton's answer was not used ("the Jacobian is singular at the
  // start", a KINSOL flag, ...); empty when it was or was not tried.
  std::string newton_rejected;
  solvers::NonlinearSolverSummary newton;  // the last Newton attempt
  long newton_attempts = 0;
  solvers::IntegratorStats integrator;     // zero when not integrated
  double integrated_time = 0.0;            // model time integrated
  double time = 0.0;                       // model time of the steady state's workspace
  double max_rate = 0.0;                   // max_i |f_i(y*)|
  // max_i |f_i(y*)| / (abs_tol + rel_tol |y*_i|); <= 1 when converged.
  double max_scaled_rate = 0.0;
  std::string worst_state;                 // the state with the largest scaled rate
  StabilityInfo stability;
  double seconds = 0.0;

  // One line: "newton: max |dy/dt| 3e-15, stable (max real part ... -0.3)".
  std::string BriefReport() const;
  std::string FullReport() const;
};

struct SteadyStateResult {
  // The requested outputs at the steady state (default: CompiledModel::DefaultOutputs).
  std::vector<std::string> ids;
  std::vector<double> values;
  // The ODE states (stored quantities) and their ids, in state order.
  std::vector<std::string> state_ids;
  std::vector<double> states;
  SteadyStateSummary summary;

  // The value of output `id`; NaN when it is not an output.
  double value(std::string_view id) const;
};

// Finds a steady state (see above). Errors: bad options (naming the field),
// unknown output ids, missing initial values, delay() (Unsupported), and
// SolverFailure when no steady state was found, with what was tried: the
// Newton outcome and how far integration got (time, largest scaled rate and
// its state).
Result<SteadyStateResult> FindSteadyState(const CompiledModel& cm, const SteadyStateOptions& options,
                                          const std::vector<OutputVariable>& outputs = {});

}  // namespace soma::sim
