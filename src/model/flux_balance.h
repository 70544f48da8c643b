#pragma once
// Constraint-based (flux balance) data of a model: bounds on reaction fluxes
// and linear objectives over them, as SBML's `fbc` package (Versions 1 and 2)
// states them, in Soma's own types. Included by model/model.h; a model
// without such data has no FluxBalance (Model::flux_balance unset), and a
// time-course simulation ignores it either way.
//
// Meaning (fba/flux_balance.h solves it): find fluxes v, one per reaction, in
// the model's substance per time units, that satisfy S v = 0 over the
// species that are not boundary species, every bound below, and optimise the
// active objective sum(coefficient * v[reaction]).
//
// Thread safety: plain values.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace soma::model {

// One side of a reaction's flux range. At most one of `parameter` and
// `value` is set; neither means unbounded on that side (-inf or +inf).
struct FluxLimit {
  // fbc v2 (fbc:lowerFluxBound / fbc:upperFluxBound): the id of a parameter
  // whose value at the start (after initial assignments and assignment
  // rules) is the limit. May be +-INF.
  std::string parameter;
  // fbc v1 (fbc:fluxBound with a value): the limit itself. May be +-INF.
  std::optional<double> value;

  bool IsSet() const { return !parameter.empty() || value.has_value(); }
};

// The flux range of one reaction: lower <= v <= upper.
struct FluxBounds {
  std::string reaction;
  FluxLimit lower;
  FluxLimit upper;
};

enum class ObjectiveSense { kMaximize, kMinimize };

// One term of an objective: coefficient * flux of `reaction`.
struct FluxObjective {
  std::string reaction;
  double coefficient = 1.0;
};

struct Objective {
  std::string id;                    // SBML id; names the objective value in results
  std::string name;
  ObjectiveSense sense = ObjectiveSense::kMaximize;
  std::vector<FluxObjective> terms;
};

struct FluxBalance {
  int fbc_version = 2;               // of the source document, informational
  // fbc v2 fbc:strict: bounds are constant parameters with finite-or-INF
  // values, no initial assignments to them (informational; not enforced).
  bool strict = false;
  // At most one entry per reaction; a reaction without one is unbounded.
  // fbc v1 bounds (several per reaction, operations lessEqual, greaterEqual,
  // equal) are merged into one entry by the importer (tightest values).
  std::vector<FluxBounds> bounds;
  std::vector<Objective> objectives;
  std::string active_objective;      // id of one of `objectives`; empty if none

  // nullptr when absent.
  const FluxBounds* FindBounds(std::string_view reaction) const;
  const Objective* FindObjective(std::string_view id) const;
};

}  // namespace soma::model
