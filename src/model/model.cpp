#include "model/model.h"

namespace soma::model {

namespace {
template <typename T>
const T* FindById(const std::vector<T>& v, std::string_view id) {
  for (const T& x : v) {
    if (x.id == id) return &x;
  }
  return nullptr;
}
}  // namespace

const Compartment* Model::FindCompartment(std::string_view id) const { return FindById(compartments, id); }
const Species* Model::FindSpecies(std::string_view id) const { return FindById(species, id); }
const Parameter* Model::FindParameter(std::string_view id) const { return FindById(parameters, id); }
const Reaction* Model::FindReaction(std::string_view id) const { return FindById(reactions, id); }

const SpeciesReference* Model::FindSpeciesReference(std::string_view id) const {
  if (id.empty()) return nullptr;
  for (const Reaction& r : reactions) {
    for (const auto* list : {&r.reactants, &r.products}) {
      for (const SpeciesReference& sr : *list) {
        if (sr.id == id) return &sr;
      }
    }
  }
  return nullptr;
}

const Rule* Model::FindRuleFor(std::string_view variable) const {
  for (const Rule& r : rules) {
    if (r.kind != RuleKind::kAlgebraic && r.variable == variable) return &r;
  }
  return nullptr;
}

const InitialAssignment* Model::FindInitialAssignment(std::string_view symbol) const {
  for (const InitialAssignment& ia : initial_assignments) {
    if (ia.symbol == symbol) return &ia;
  }
  return nullptr;
}

SymbolKind KindOf(const Model& m, std::string_view id) {
  if (m.FindSpecies(id)) return SymbolKind::kSpecies;
  if (m.FindCompartment(id)) return SymbolKind::kCompartment;
  if (m.FindParameter(id)) return SymbolKind::kParameter;
  if (m.FindReaction(id)) return SymbolKind::kReaction;
  if (m.FindSpeciesReference(id)) return SymbolKind::kSpeciesReference;
  return SymbolKind::kNone;
}

}  // namespace soma::model
