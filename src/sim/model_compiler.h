#pragma once
// Builds a CompiledModel from a model::Model (see compiled_model.h for the
// workspace layout). Internal to soma::sim.

#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "sim/compiled_model.h"

namespace soma::sim {

class ModelCompiler {
 public:
  ModelCompiler(const model::Model& m, CompiledModel* out) : m_(m), out_(out), g_(out->graph_) {}
  Status Run();

 private:
  // kDynamic: values during the simulation; kInitial: at t0 over declared
  // values; kBeforeStart: the past before t0 seen by delays (states frozen,
  // so rates of change are 0).
  enum class Mode { kDynamic, kInitial, kBeforeStart };

  Status CheckSupported() const;
  Status Classify();
  Status BuildSymbolNodes();
  Status BuildRhsAndJacobian();
  Status BuildEvents();
  Status BuildInitialValues();
  Status MatchAlgebraicRules(std::vector<SymbolInfo>& syms);
  Status SetUpFastReactions(std::vector<SymbolInfo>& syms);
  Result<expr::NodeId> SlowSpeciesRate(const std::string& id);
  Result<double> FastStoichiometry(const model::Reaction& r, const model::SpeciesReference& sr);
  bool FastLawMaySwitchOff(const model::Reaction& r) const;
  // The ids that event assignments set.
  std::unordered_set<std::string> EventTargets() const;
  Status BuildAlgebraic();
  Status FinishRelations();
  // Slots that hold their value between events (discrete values: parameters,
  // constant compartments and species, local parameters), for hoisting in
  // the programs the integrator runs (expr::Program::Compile). Event-changed
  // ones count: a change only costs a recomputation.
  std::vector<bool> SteadySlots() const;

  SymbolInfo* Info(std::string_view id);
  double DeclaredValue(const SymbolInfo& s) const;
  Result<expr::NodeId> Value(const std::string& id);
  Result<expr::NodeId> InitValue(const std::string& id);
  Result<expr::NodeId> InitStored(const SymbolInfo& s);
  Result<expr::NodeId> StateDerivative(size_t state);
  Result<expr::NodeId> ReactionRate(const model::Reaction& r, Mode mode);
  Result<expr::NodeId> Stoichiometry(const model::SpeciesReference& sr);
  Result<expr::NodeId> CompartmentSize(const model::Species& sp, Mode mode);
  Result<expr::NodeId> RateOf(const std::string& id);
  Result<expr::NodeId> Translate(const expr::Expr& e, Mode mode, const model::Reaction* scope);

  // Replaces relation nodes inside `n` by their truth-value slots.
  expr::NodeId RewriteRelations(expr::NodeId n, std::unordered_map<expr::NodeId, expr::NodeId>& memo);
  // The Relation for a relation node (root, and the time point of a
  // relation between time and a constant).
  Relation MakeRelation(expr::NodeId relation);
  void CollectRelations(expr::NodeId n, std::unordered_set<expr::NodeId>& seen, std::vector<expr::NodeId>& found) const;

  const model::Model& m_;
  CompiledModel* out_;
  expr::Graph& g_;

  enum class Progress : uint8_t { kNone, kBusy, kDone };
  struct Memo { Progress p = Progress::kNone; expr::NodeId node = 0; };
  std::unordered_map<std::string, Memo> value_memo_, init_memo_, rate_of_memo_;
  std::unordered_map<std::string, Memo> reaction_memo_;
  std::vector<Memo> derivative_memo_;
  std::unordered_map<std::string, size_t> local_slot_;   // "reaction\x1flocal" -> slot
  std::unordered_map<expr::NodeId, size_t> event_relation_index_;
  std::vector<uint32_t> state_slots_;
  std::vector<expr::NodeId> derivatives_;
  std::vector<const model::Rule*> algebraic_rules_;
  std::vector<int> algebraic_rule_of_;
  // Fast reactions: the species they change, conserved combinations (rows
  // over fast_species_) and the moiety state ids.
  std::vector<const model::Reaction*> fast_reactions_;
  std::vector<std::string> fast_species_;
  std::vector<std::vector<double>> moiety_rows_;
  std::unordered_map<std::string, size_t> moiety_index_;
  std::unordered_map<const model::SpeciesReference*, double> fast_stoichiometry_;
  std::vector<double> fast_n_;  // N over fast_species_ x fast_reactions_, column-major
  std::vector<double> fast_factor_;  // conversion factor of each fast species
  // Fast-reaction stoichiometries that events set, and then the slots of
  // the moieties' coefficients (per moiety, per fast species) with their
  // initial values.
  std::unordered_set<const model::SpeciesReference*> event_stoichiometry_;
  std::vector<std::vector<std::string>> moiety_coefficient_ids_;
  std::unordered_map<std::string, double> coefficient_value_;
  // Coefficient of fast species j in a moiety: a constant (nullopt for 0) or
  // the slot's value when events may change it.
  std::optional<expr::NodeId> MoietyCoefficient(size_t moiety, size_t j);
  // Fast reactions whose kinetic law events or a zero value may make vanish
  // whatever the amounts (see CompiledModel::FastReactions::Switch): per
  // such reaction, its index in fast_reactions_, the ids of its switch slot
  // and extent state, and its extent's coefficients over fast_species_.
  struct FastSwitch {
    size_t reaction;
    std::string off_id, extent_id;
    std::vector<double> coefficients;
  };
  std::vector<FastSwitch> fast_switches_;
  std::unordered_map<std::string, size_t> extent_index_;  // extent state id -> fast_switches_
  // Sum over fast species j of c[j] * f(species j).
  Result<expr::NodeId> FastCombination(const std::vector<double>& c,
                                       const std::function<Result<expr::NodeId>(size_t)>& f);
};

}  // namespace soma::sim
