#pragma once
// The model intermediate representation (IR): compartments, species,
// parameters, reactions, rules, events and constraints of one flat model, in
// Soma's own types. Format importers (formats/sbml) fill it; the simulator
// (sim/) compiles it. Nothing downstream of the IR sees a format library's
// types.
//
// Semantics are SBML's (Level 3 Version 2 core), which subsume Levels 1-2:
// * A species symbol in math means its concentration (amount / compartment
//   size) unless has_only_substance_units is true, in which case it means its
//   amount.
// * Reactions change species amounts: d(amount)/dt = sum over reactions of
//   stoichiometry * rate * conversion factor (the species' own, else the
//   model's, else 1). Reaction rates are in substance per time.
// * Hierarchical models (SBML comp) are flattened by the importer; the IR is
//   always flat.
// * Flux bounds and objectives (SBML fbc) are kept in flux_balance
//   (model/flux_balance.h) for flux balance analysis; simulation ignores them.
//
// Every element keeps its SBML id; ids are unique across the model except for
// reaction-local parameters, which shadow global ids inside their kinetic law.
//
// Thread safety: a Model is a plain value.

#include <optional>
#include <string>
#include <vector>

#include "expr/expr.h"
#include "model/flux_balance.h"

namespace soma::model {

using expr::Expr;

// Where an element came from, for messages ("line 42").
struct SourceLocation {
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;
};

struct Compartment {
  std::string id;
  std::string name;
  double spatial_dimensions = 3;     // 0 means a dimensionless compartment
  std::optional<double> size;        // unset: must come from an initial assignment or rule
  bool constant = true;
  std::string units;                 // unit id as written in the source, for display
  SourceLocation where;
};

struct Species {
  std::string id;
  std::string name;
  std::string compartment;
  // At most one of these is set by the source; neither may be set when an
  // initial assignment or assignment rule defines the species.
  std::optional<double> initial_amount;
  std::optional<double> initial_concentration;
  bool has_only_substance_units = false;
  bool boundary_condition = false;
  bool constant = false;
  std::string conversion_factor;     // parameter id, empty if none
  std::string substance_units;       // for display
  SourceLocation where;
};

struct Parameter {
  std::string id;
  std::string name;
  std::optional<double> value;       // unset: defined by an initial assignment or rule
  bool constant = true;
  std::string units;
  SourceLocation where;
};

struct SpeciesReference {
  std::string id;                    // optional; if set it is a model symbol
  std::string species;
  double stoichiometry = 1.0;        // used when stoichiometry_math is unset
  bool constant = true;              // L3: stoichiometry cannot change
  // SBML L2 stoichiometryMath: the stoichiometry is this expression,
  // re-evaluated continuously.
  std::optional<Expr> stoichiometry_math;
};

struct ModifierReference {
  std::string species;
};

struct Reaction {
  std::string id;
  std::string name;
  std::vector<SpeciesReference> reactants;
  std::vector<SpeciesReference> products;
  std::vector<ModifierReference> modifiers;
  std::optional<Expr> kinetic_law;   // unset: the reaction does not proceed
  std::vector<Parameter> local_parameters;  // shadow model ids inside kinetic_law
  bool reversible = true;
  bool fast = false;
  std::string compartment;           // L3 attribute, informational
  SourceLocation where;
};

enum class RuleKind { kAssignment, kRate, kAlgebraic };

struct Rule {
  RuleKind kind = RuleKind::kAssignment;
  std::string variable;              // empty for algebraic rules
  Expr math;                         // value, rate of change, or residual (= 0)
  SourceLocation where;
};

struct InitialAssignment {
  std::string symbol;
  Expr math;
  SourceLocation where;
};

struct EventAssignment {
  std::string variable;
  Expr math;
};

struct Event {
  std::string id;                    // may be empty (L2); a display id is made then
  std::string name;
  Expr trigger;                      // boolean
  bool trigger_initial_value = true; // value of the trigger just before t0
  bool persistent = true;            // stays scheduled if the trigger turns false
  std::optional<Expr> delay;         // time from trigger to execution
  std::optional<Expr> priority;      // larger executes first; unset = lowest
  bool use_values_from_trigger_time = true;
  std::vector<EventAssignment> assignments;
  SourceLocation where;
};

struct Constraint {
  Expr math;                         // must stay true during simulation
  std::string message;               // plain text from the source
  SourceLocation where;
};

// Unit of a model-level quantity, kept as text for display (e.g. "second").
struct ModelUnits {
  std::string time;
  std::string substance;
  std::string volume;
  std::string extent;
};

struct Model {
  std::string id;
  std::string name;
  int sbml_level = 3;                // the source's level/version, informational
  int sbml_version = 2;
  std::vector<Compartment> compartments;
  std::vector<Species> species;
  std::vector<Parameter> parameters;
  std::vector<Reaction> reactions;
  std::vector<InitialAssignment> initial_assignments;
  std::vector<Rule> rules;
  std::vector<Event> events;
  std::vector<Constraint> constraints;
  std::string conversion_factor;     // model-wide species conversion factor (parameter id)
  ModelUnits units;
  std::optional<FluxBalance> flux_balance;  // set when the source declares fbc

  // Lookups by id; nullptr when absent. Linear scans: for building, not for
  // hot loops.
  const Compartment* FindCompartment(std::string_view id) const;
  const Species* FindSpecies(std::string_view id) const;
  const Parameter* FindParameter(std::string_view id) const;
  const Reaction* FindReaction(std::string_view id) const;
  // A species reference with this id, in any reaction.
  const SpeciesReference* FindSpeciesReference(std::string_view id) const;
  const Rule* FindRuleFor(std::string_view variable) const;
  const InitialAssignment* FindInitialAssignment(std::string_view symbol) const;
};

// What kind of thing a model symbol names.
enum class SymbolKind { kNone, kCompartment, kSpecies, kParameter, kSpeciesReference, kReaction };
SymbolKind KindOf(const Model& m, std::string_view id);

}  // namespace soma::model
