#pragma once
// A model compiled for simulation: every symbol classified (ODE state,
// assigned by a rule, discrete value changed only by events), all math
// translated into one hash-consed expression graph with assignment rules and
// unit conversions substituted, and the right-hand side, its analytic
// Jacobian, root functions and event programs compiled to bytecode.
//
// Workspace layout (the `in` array every program reads):
//   slot 0                       model time
//   slots 1 .. num_states        ODE states (the integrator's y)
//   next num_discrete slots      discrete values (parameters, constant or
//                                event-changed compartments/species, ...)
//   next num_relations slots     truth values (0/1) of the relations that
//                                event triggers test, kept by the simulator
//
// Species are stored as amounts, except species with a rate rule and
// constant species, which are stored as the value of their symbol. The
// symbol's value (concentration unless hasOnlySubstanceUnits) is derived.
//
// A CompiledModel is immutable after Compile and may be shared by many
// simulations running on different threads.

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "expr/graph.h"
#include "expr/jit.h"
#include "expr/program.h"
#include "model/model.h"
#include "sim/options.h"
#include "solvers/ode_integrator.h"

namespace soma::sim {

enum class SymbolRole {
  kState,      // integrated: rate rule or changed by reactions
  kAssigned,   // defined at all times by an assignment rule
  kDiscrete,   // held in a slot; changes only through events
  kAlgebraic,  // held in a slot; solved from the algebraic rules at all times
};

struct SymbolInfo {
  std::string id;
  model::SymbolKind kind = model::SymbolKind::kNone;
  SymbolRole role = SymbolRole::kDiscrete;
  uint32_t slot = 0;              // states and discrete values; 0 for assigned/reactions
  bool stores_amount = false;     // species whose slot holds the amount
  expr::NodeId value = 0;         // the symbol as it appears in math
  expr::NodeId amount = 0;        // species: amount
  expr::NodeId concentration = 0; // species: amount / compartment size
  expr::NodeId initial = 0;       // stored quantity at t0, over the declared values
};

// Relation tested by an event trigger or a piecewise condition; its root
// function is lhs - rhs.
struct Relation {
  expr::GOp op = expr::GOp::kGt;
  expr::NodeId root = 0;          // lhs - rhs
  uint32_t slot = 0;              // truth-value slot (event relations only)
  bool for_event = false;
  // Relations whose root is linear in time with a constant slope and an
  // offset that stays fixed through a run (time >= 5, time - T_dose < 0 with
  // T_dose a parameter no event assigns, time / 60 > delay_h): the root
  // crosses zero once, at a time point known when the run starts, rising
  // (time_direction +1) or falling (-1). A simulation stops there instead of
  // searching for the root (CompiledModel::TimePoints). time_direction is 0
  // for all others.
  int time_direction = 0;
  // Over discrete values alone (parameters and the like, whether events
  // assign them or not): changes only at events, so the integrator does not
  // search for its root (neither scheduled nor searched).
  bool discrete = false;
};

// A csymbol delay(x, tau): its value lives in `slot`, filled by the
// simulator with `value` run on the workspace of time - tau. Before the
// start, the workspace is the initial one computed at that past time (initial
// assignments may depend on time) and `value_before_start` applies, in which
// rates of change are 0.
struct DelayInfo {
  uint32_t slot = 0;
  expr::NodeId x = 0, x_before_start = 0, tau = 0;
  expr::Program value;               // outputs: x
  expr::Program value_before_start;  // outputs: x before t0
  expr::Program delay;   // outputs: tau (on the current workspace)
  std::string text;      // as written, e.g. "delay(x, 2)", for messages
};

struct CompiledEvent {
  std::string id;
  bool initial_value = true;
  bool persistent = true;
  bool use_values_from_trigger_time = true;
  bool has_delay = false;
  bool has_priority = false;
  std::vector<uint32_t> targets;   // slots written by the assignments, in order
  expr::Program assignments;       // outputs: new stored values of `targets`
  std::vector<expr::NodeId> assignment_nodes;  // the outputs of `assignments`
  expr::NodeId delay_node = 0;     // has_delay: the delay, evaluated when the event fires
};

struct SensitivityProgram;  // sim/sensitivity_program.h

struct SensitivityCompileOptions {
  // Switches of the right-hand side whose crossing time moves with the state
  // or the parameters (piecewise conditions on states, e.g. renal excretion
  // piecewise(k (G - G_th), G > G_th, 0) or max(EGP, 0); time < t_int with
  // t_int varied) make the sensitivities jump by (f- - f+) dtau/dp, which
  // SimulateWithSensitivities applies where they cross. When this is true,
  // the caller asserts that the right-hand side is continuous across every
  // such switch (f- = f+): the jump is then skipped (it would be zero up to
  // the integration error). Events are not affected.
  bool assume_continuous_switches = false;
};

struct CompileOptions {
  // Also compile the programs of the solver's hot loop (right-hand side,
  // Jacobian, root functions, algebraic and fast-reaction systems) to
  // native code with LLVM (expr/jit.h). Results are the same bit for bit;
  // it costs about 15 ms once per process (loading LLVM) and milliseconds
  // per model, so it pays where one model is simulated many times or for
  // long (trials). In builds without LLVM the programs stay interpreted
  // (native_code() says which).
  bool native_code = false;
  // > 0 (2, 4 or 8): also the right-hand side over that many SIMD lanes
  // (expr::CompileNativeLanes; ModelLanesSystem), for models without
  // algebraic rules, delays or fast reactions; rhs().lanes() says whether
  // it was compiled. Trials use it with TrialOptions::lanes
  // (bench/PROFILE.md, "Trial members in SIMD lanes").
  int native_lanes = 0;
  // How the lanes evaluate exp, tanh, pow and the like (expr::LaneMath):
  // kVector (libmvec, within 4 units in the last place of the scalar
  // functions) or kExact (the scalar function per lane: the bits of the
  // scalar code, slower).
  expr::LaneMath lane_math = expr::LaneMath::kVector;
};

class CompiledModel {
 public:
  static Result<std::shared_ptr<const CompiledModel>> Compile(const model::Model& m,
                                                              const CompileOptions& options = {});
  // Whether the hot programs run as native code (CompileOptions).
  bool native_code() const { return rhs_.native(); }

  const model::Model& model() const { return model_; }
  size_t num_states() const { return num_states_; }
  size_t num_slots() const { return num_slots_; }
  const std::vector<SymbolInfo>& symbols() const { return symbols_; }
  const SymbolInfo* FindSymbol(std::string_view id) const;
  // The symbol whose value slot `slot` holds (states, discrete and
  // algebraic values); nullptr for time and for slots Soma adds without a
  // symbol (relation truth values, delay values).
  const SymbolInfo* SymbolAtSlot(uint32_t slot) const;
  // Id of the symbol whose value is integrated as state i.
  const std::string& state_name(size_t i) const { return state_names_[i]; }
  // What a slot Soma added holds (the conserved totals and extents of fast
  // reactions, states i + 1); empty for all other slots.
  std::string SlotRole(uint32_t slot) const;
  // State i for messages: 'id', with its SlotRole in parentheses.
  std::string DescribeState(size_t i) const;

  // The workspace at `t0`: initial values of states and discrete slots, with
  // initial assignments and assignment rules applied. `overrides` replace
  // declared values (slot, value) before that. Values may be NaN where the
  // model gives none; CheckInitialState reports those that matter.
  std::vector<double> InitialWorkspace(double t0,
                                       const std::vector<std::pair<uint32_t, double>>& overrides = {}) const;
  // The same into caller-owned buffers: no allocation once they have grown
  // (`scratch` must start empty and stay with this model). For hot paths.
  void InitialWorkspaceInto(double t0, const std::vector<std::pair<uint32_t, double>>& overrides,
                            std::vector<double>& in, std::vector<double>& values,
                            std::vector<double>& scratch) const;
  // Resolves SimulationOptions::overrides to (slot, value) pairs for
  // InitialWorkspace. Errors: unknown ids (kNotFound); symbols an initial
  // assignment or rule defines, species whose declared quantity is not
  // known, and reactions (kInvalidArgument), each named.
  Result<std::vector<std::pair<uint32_t, double>>> ResolveOverrides(
      const std::vector<std::pair<std::string, double>>& overrides) const;
  // The initial workspace for `options` (start, overrides, initial_state),
  // checked: every ODE state finite. Not for models with algebraic rules
  // (the simulator solves those around it).
  Result<std::vector<double>> StartWorkspace(const SimulationOptions& options) const;
  // Errors name an ODE state left without a finite initial value.
  Status CheckInitialState(const std::vector<double>& in) const;

  // Compiles a program whose outputs are the given variables (errors: unknown
  // id, or a quantity that does not apply to it).
  Result<expr::Program> CompileOutputs(const std::vector<OutputVariable>& vars) const;
  // Default output columns: every species, then every compartment and
  // parameter that is not constant or that a rule determines.
  std::vector<OutputVariable> DefaultOutputs() const;

  // The declared values of every slot (NaN where none) with time t0 in slot
  // 0: what the initial-value nodes read (see InitialWorkspace).
  std::vector<double> DeclaredWorkspace(double t0) const;

  // Forward sensitivity equations for `parameters` (symbol ids of values
  // held in slots; reaction-local parameters as "reaction.local") and the
  // sensitivities of `outputs`; see sim/sensitivity_program.h for what a
  // parameter means and for the errors. Thread safe: the derivatives are
  // built on a private copy of the expression graph (this model stays
  // immutable and may be shared), so the cost includes one graph copy.
  Result<SensitivityProgram> CompileSensitivities(const std::vector<std::string>& parameters,
                                                  const std::vector<OutputVariable>& outputs,
                                                  const SensitivityCompileOptions& options = {}) const;

  const expr::Program& rhs() const { return rhs_; }
  const expr::Program& jacobian() const { return jacobian_; }
  // Nonzero positions of the Jacobian, in compressed-sparse-column order; the
  // jacobian() program's outputs follow this order.
  const solvers::SparsePattern& jacobian_pattern() const { return jacobian_pattern_; }
  const std::vector<std::pair<int, int>>& jacobian_entries() const { return jacobian_entries_; }

  const std::vector<Relation>& relations() const { return relations_; }
  const expr::Program& roots() const { return roots_; }        // outputs: root of each relation
  // The relations that need root finding (time_direction == 0, not discrete), indices
  // into relations(), and their roots in that order.
  const std::vector<uint32_t>& searched_relations() const { return searched_relations_; }
  const expr::Program& searched_roots() const { return searched_roots_; }
  // The relations with time_direction != 0, indices into relations().
  const std::vector<uint32_t>& scheduled_relations() const { return scheduled_relations_; }
  // The time point of each scheduled relation for a run whose fixed values
  // (parameters, compartments, ... that no event assigns) are those of
  // `workspace`: the first time, to the last bit, at which the relation's
  // root has reached or passed zero in its direction, so that the relation
  // has its new truth value (or is at zero) there. NaN or infinite values
  // mean "never". Output i belongs to scheduled_relations()[i].
  std::vector<double> TimePoints(const double* workspace) const;
  const expr::Program& triggers() const { return triggers_; }  // outputs: trigger of each event
  // outputs: delay and priority of each event (2 per event; 0 when absent).
  const expr::Program& event_timing() const { return event_timing_; }
  // outputs: truth value of each model constraint (model().constraints order).
  const expr::Program& constraints() const { return constraints_; }
  const std::vector<CompiledEvent>& events() const { return events_; }

  // Algebraic rules: slots of the variables they determine (one per rule),
  // the residual of each rule, and the dense Jacobian d residual_i / d z_j
  // (column-major). Empty when the model has no algebraic rules.
  const std::vector<uint32_t>& algebraic_slots() const { return algebraic_slots_; }
  const std::vector<DelayInfo>& delays() const { return delays_; }
  const expr::Program& algebraic_residuals() const { return algebraic_residuals_; }
  const expr::Program& algebraic_jacobian() const { return algebraic_jacobian_; }

  // Fast reactions in rapid equilibrium (all empty without them). The
  // species they change are algebraic slots; each conserved combination of
  // them (a moiety, L S with L N = 0) is an ODE state.
  struct FastReactions {
    std::vector<uint32_t> species_slots;  // amounts of the fast species
    // N: d amount_j / d extent_k of fast reaction k (conversion factors
    // included), column-major, species x reactions.
    std::vector<double> stoichiometry;
    expr::Program rates;          // outputs: the kinetic law of each fast reaction
    expr::Program rate_jacobian;  // d law_k / d amount_j, column-major, reactions x species
    std::vector<std::string> reaction_ids;
    expr::Program slow_rates;  // outputs: d amount_j / dt from slow reactions
    struct Moiety {
      uint32_t slot;                      // its state slot
      std::vector<double> coefficients;   // over species_slots
      // Where events set stoichiometries: the slots holding the
      // coefficients (recomputed from N after events), else empty.
      std::vector<uint32_t> coefficient_slots;
    };
    // Entries of N that events change: N[index] = stoichiometry[index] +
    // scale * value of slot.
    struct VariableEntry {
      uint32_t index;
      double scale;
      uint32_t slot;
    };
    std::vector<VariableEntry> variable_stoichiometry;
    std::vector<Moiety> moieties;
    // A fast reaction whose kinetic law can vanish whatever the amounts (a
    // rate constant that events set to 0, or declared 0) holds nothing in
    // place while it does: it is switched off. Its equilibrium condition
    // (law = 0) is then replaced by "extent = c . amounts", where c is the
    // reaction's row of N's pseudo-inverse (c . N = unit vector of the
    // reaction) and the extent is an ODE state driven by the slow reactions
    // (c . slow flow), so the species follow the slow reactions along the
    // direction the reaction no longer holds. FastEquilibrium decides which
    // reactions are off at the start and after each event, and sets the
    // extents from the amounts. Only reactions whose laws depend on an
    // event-assigned or zero-valued symbol have a switch; others are
    // checked by FastEquilibrium::CheckDetermined as before.
    struct Switch {
      size_t reaction;                   // index into reaction_ids
      uint32_t off_slot;                 // 1 while switched off, else 0
      uint32_t extent_slot;              // its state slot
      std::vector<double> coefficients;  // c, over species_slots
    };
    std::vector<Switch> switches;
  };
  const FastReactions& fast_reactions() const { return fast_reactions_; }

 private:
  friend class ModelCompiler;
  CompiledModel() = default;
  Result<std::vector<expr::NodeId>> OutputNodes(const std::vector<OutputVariable>& vars) const;

  model::Model model_;
  expr::Graph graph_;
  size_t num_states_ = 0;
  size_t num_slots_ = 0;
  std::vector<SymbolInfo> symbols_;
  std::unordered_map<std::string, size_t> symbol_index_;
  std::vector<int32_t> slot_symbol_;  // slot -> index into symbols_, -1 for none
  std::vector<std::string> state_names_;
  std::vector<double> declared_;  // declared values per slot (NaN: none)
  std::vector<std::pair<uint32_t, expr::NodeId>> initial_nodes_;  // slot -> initial stored value
  expr::Program initial_;         // outputs follow initial_nodes_

  expr::Program rhs_;
  std::vector<expr::NodeId> rhs_nodes_;  // the outputs of rhs_: d y_i / dt
  expr::Program jacobian_;
  solvers::SparsePattern jacobian_pattern_;
  std::vector<std::pair<int, int>> jacobian_entries_;  // (row, col)
  std::vector<Relation> relations_;
  expr::Program roots_;
  std::vector<uint32_t> searched_relations_;
  expr::Program searched_roots_;
  std::vector<uint32_t> scheduled_relations_;
  expr::Program time_points_;  // outputs: the time point of each scheduled relation
  expr::Program triggers_;
  expr::Program event_timing_;
  expr::Program constraints_;
  std::vector<CompiledEvent> events_;
  std::vector<uint32_t> algebraic_slots_;
  std::vector<DelayInfo> delays_;
  expr::Program algebraic_residuals_;
  std::vector<expr::NodeId> algebraic_residual_nodes_;  // the outputs of algebraic_residuals_
  expr::Program algebraic_jacobian_;
  FastReactions fast_reactions_;
};

}  // namespace soma::sim
