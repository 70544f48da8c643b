#pragma once
// Forward sensitivity equations of a CompiledModel, compiled to bytecode by
// CompiledModel::CompileSensitivities.
//
// Parameters. A parameter is the value a model *declares* for a symbol held
// in a workspace slot: a global parameter's value, a compartment's size, a
// species' initialAmount or initialConcentration (as written in the model),
// a species reference's stoichiometry, a reaction-local parameter (named
// "reaction.local"). Initial assignments and assignment rules that read the
// declared value are differentiated through, so d y(0) / d p follows from the
// initial-value nodes: for a species' own initial value it is the unit
// vector (times the compartment size where a concentration is declared and
// an amount is stored).
//
// Equations. With w the workspace (time, states y, discrete values z) and
// s_k = d w / d p_k, the states' sensitivities obey
//     d s_y,k / dt = sum over slots v read by f of (d f / d w_v) s_v,k,
// where discrete values keep their sensitivities between events (the
// parameter's own slot starts at 1). This is J s_k + df/dp_k without a dense
// matrix: each equation reads only what f_i reads. Output j has sensitivity
// sum over v of (d out_j / d w_v) s_v,k. An event that executes at a time
// independent of the parameters replaces the sensitivities of its targets by
// those of the assigned values (d h / d w) s_k; others keep theirs.
//
// Extended workspace: the model's workspace (num_slots values, see
// compiled_model.h) followed by one block of num_slots values per parameter:
// SensitivitySlot(v, k) = num_slots * (1 + k) + v holds d w_v / d p_k. Every
// program here reads this extended array (the initial one excepted).
//
// Errors of CompileSensitivities:
// * InvalidArgument: no parameters, a repeated parameter, an unknown id, a
//   symbol without a slot of its own (assignment rule, reaction), or one
//   whose declared value is overridden by an initial assignment (it would
//   have no effect); unknown outputs.
// * Unsupported, naming the element: stoichiometries of fast reactions that
//   events change, delay(), events whose
//   delay changes with time, the state or the parameters,
//   floor/ceiling/quotient/rem of the state (or of time scaled by a
//   parameter) in a rate, an initial value computed from a variable an
//   algebraic rule determines. Events and right-hand side switches whose
//   time moves with the state or the parameters are supported: the jump
//   s+ = (dh/dy) s- + dh/dp + (dh/dt- - f+) dtau/dp of the CVODES guide
//   (Hindmarsh & Serban, forward sensitivity analysis with discontinuities;
//   h = identity for a switch) is applied where one such condition crosses;
//   several at the same moving time are reported as Unsupported when they
//   happen.
//
// Thread safety: immutable after compilation; programs may be run from many
// threads, each with its own scratch buffers.

#include <string>
#include <vector>

#include "expr/program.h"

namespace soma::sim {

struct SensitivityProgram {
  std::vector<std::string> parameters;     // ids, in the order given
  std::vector<uint32_t> parameter_slots;   // slot of each parameter's value
  std::vector<double> declared_values;     // declared value of each (NaN: none)
  size_t num_slots = 0;                    // the model's workspace size
  size_t num_states = 0;
  size_t num_outputs = 0;

  uint32_t SensitivitySlot(uint32_t slot, size_t k) const {
    return static_cast<uint32_t>(num_slots * (1 + k) + slot);
  }
  size_t workspace_size() const { return num_slots * (1 + parameters.size()); }

  // Run on CompiledModel::DeclaredWorkspace(t0): output i + k * n_init is
  // d w_v(t0) / d p_k for v = initial_slots[i] (n_init = initial_slots.size()).
  std::vector<uint32_t> initial_slots;
  expr::Program initial;
  // The states' sensitivity equations in product form (ProductRhs):
  // rhs_partials computes d f_i / d w_v for the entries
  // [rhs_entry_begin[i], rhs_entry_begin[i + 1]) of state i; entry e
  // multiplies the sensitivities in column rhs_entry_column[e] of the
  // gathered matrix, whose columns are the slots sensitivity_columns. The
  // sums over entries run as loops over the parameters, not as one bytecode
  // operation per term (nnz x parameters of them).
  expr::Program rhs_partials;
  std::vector<uint32_t> rhs_entry_begin;   // num_states + 1
  std::vector<uint32_t> rhs_entry_column;  // per entry
  std::vector<uint32_t> sensitivity_columns;  // slot of each column
  // Buffers of ProductRhs; one per thread.
  struct ProductScratch {
    std::vector<double> program, partials, gathered, sums;
  };
  ProductScratch NewProductScratch() const;
  // out[i + k * num_states] = d/dt of d y_i / d p_k:
  // `ws` is the extended workspace with time, states and the discrete
  // values (and the sensitivities of live slots other than the states), s[k]
  // the states' sensitivities to parameter k.
  void ProductRhs(const double* ws, const double* const* s, double* out, ProductScratch& scratch) const;
  // Output j + k * num_outputs: d out_j / d p_k.
  expr::Program outputs;
  // Per event (CompiledModel::events() order), run when its assignment values
  // are computed: output a + k * targets.size() is the sensitivity of the
  // value assigned to targets[a].
  std::vector<expr::Program> event_assignments;
  // For the jump at an event whose time moves with the parameters (a state
  // event, or time >= t_dose with t_dose varied): per relation
  // (CompiledModel::relations() order), output r + k * num_relations of
  // relation_sensitivities is d g_r / d p_k at fixed time (g_r the
  // relation's root function), and output r of relation_rates is d g_r / dt
  // along the trajectory; d tau / d p_k = -(d g_r / d p_k) / (d g_r / dt).
  size_t num_relations = 0;
  bool continuous_switches = false;  // SensitivityCompileOptions::assume_continuous_switches
  expr::Program relation_sensitivities;
  expr::Program relation_rates;
  // Per event: output a is d h_a / dt along the trajectory, h_a the value
  // assigned to targets[a] (its explicit time derivative plus
  // sum_i d h_a / d y_i * f_i).
  std::vector<expr::Program> event_assignment_rates;

  // Algebraic rules r(w) = 0 determine the slots z (CompiledModel::
  // algebraic_slots) given the rest, so their sensitivities follow from the
  // others': d r / d z s_z = -b, b_k = sum over the other live slots v of
  // (d r / d w_v) s_v,k. Output i + k * nz of algebraic_rhs is b_ik (on the
  // extended workspace); the matrix is CompiledModel::algebraic_jacobian.
  std::vector<uint32_t> algebraic_slots;
  expr::Program algebraic_rhs;
};

}  // namespace soma::sim
