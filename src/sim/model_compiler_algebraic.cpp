// ModelCompiler, part 3: algebraic rules (which variable each determines)
// and fast reactions in rapid equilibrium (conserved moieties and
// equilibrium constraints). See model_compiler.cpp for the rest.

#include <algorithm>
#include <cmath>
#include <functional>

#include <Eigen/Dense>

#include "sim/model_compiler.h"

namespace soma::sim {

using expr::NodeId;
using model::RuleKind;
using model::SymbolKind;

std::unordered_set<std::string> ModelCompiler::EventTargets() const {
  std::unordered_set<std::string> targets;
  for (const model::Event& ev : m_.events) {
    for (const model::EventAssignment& ea : ev.assignments) targets.insert(ea.variable);
  }
  return targets;
}

// Each algebraic rule determines one variable that nothing else determines
// (not constant, no other rule, not changed by reactions). Which one is a
// bipartite matching between rules and the free variables they mention,
// found with augmenting paths (Kuhn's algorithm).
Status ModelCompiler::MatchAlgebraicRules(std::vector<SymbolInfo>& syms) {
  std::vector<const model::Rule*> rules;
  for (const model::Rule& r : m_.rules) {
    if (r.kind == RuleKind::kAlgebraic) rules.push_back(&r);
  }
  if (rules.empty()) return Status::Ok();
  auto is_free = [&](const SymbolInfo& s) {
    if (s.role != SymbolRole::kDiscrete) return false;
    switch (s.kind) {
      case SymbolKind::kCompartment: return !m_.FindCompartment(s.id)->constant;
      case SymbolKind::kSpecies: return !m_.FindSpecies(s.id)->constant;
      case SymbolKind::kParameter: {
        const model::Parameter* p = m_.FindParameter(s.id);
        return p != nullptr && !p->constant;
      }
      case SymbolKind::kSpeciesReference: return !m_.FindSpeciesReference(s.id)->constant;
      default: return false;
    }
  };
  std::vector<std::vector<size_t>> candidates(rules.size());
  for (size_t k = 0; k < rules.size(); ++k) {
    expr::ForEachSymbol(rules[k]->math, [&](const std::string& name) {
      auto it = out_->symbol_index_.find(name);
      if (it == out_->symbol_index_.end() || !is_free(syms[it->second])) return;
      auto& c = candidates[k];
      if (std::find(c.begin(), c.end(), it->second) == c.end()) c.push_back(it->second);
    });
  }
  // Where several variables could be determined, prefer the one the model
  // leaves open: no declared value, not set by events, not a boundary species.
  const std::unordered_set<std::string> event_targets = EventTargets();
  auto openness = [&](size_t v) {
    const SymbolInfo& s = syms[v];
    int score = 0;
    if (!std::isnan(DeclaredValue(s))) score += 4;
    if (event_targets.count(s.id)) score += 2;
    if (s.kind == SymbolKind::kSpecies && m_.FindSpecies(s.id)->boundary_condition) score += 1;
    return score;
  };
  for (auto& c : candidates) {
    std::stable_sort(c.begin(), c.end(), [&](size_t a, size_t b) { return openness(a) < openness(b); });
  }
  std::unordered_map<size_t, size_t> owner;  // symbol index -> rule
  std::function<bool(size_t, std::vector<bool>&)> augment = [&](size_t k, std::vector<bool>& seen) {
    for (size_t v : candidates[k]) {
      if (seen[v]) continue;
      seen[v] = true;
      auto it = owner.find(v);
      if (it == owner.end() || augment(it->second, seen)) {
        owner[v] = k;
        return true;
      }
    }
    return false;
  };
  for (size_t k = 0; k < rules.size(); ++k) {
    std::vector<bool> seen(syms.size(), false);
    if (!augment(k, seen)) {
      return InvalidModel("algebraic rule 0 = " + expr::ToString(rules[k]->math) + " (line " +
                          std::to_string(rules[k]->where.line) +
                          ") has no variable left to determine: the model is overdetermined");
    }
  }
  algebraic_rule_of_.assign(syms.size(), -1);
  for (auto& [v, k] : owner) {
    syms[v].role = SymbolRole::kAlgebraic;
    algebraic_rule_of_[v] = static_cast<int>(k);
  }
  algebraic_rules_ = std::move(rules);
  return Status::Ok();
}

Status ModelCompiler::BuildAlgebraic() {
  if (algebraic_rules_.empty() && fast_reactions_.empty()) return Status::Ok();
  std::vector<NodeId> residuals;
  for (const model::Rule* r : algebraic_rules_) {
    auto g = Translate(r->math, Mode::kDynamic, nullptr);
    if (!g.ok()) return g.status().WithContext("algebraic rule at line " + std::to_string(r->where.line));
    residuals.push_back(*g);
  }
  // Rapid equilibrium: each moiety keeps its value, each fast kinetic law is 0.
  for (const auto& [id, index] : moiety_index_) {
    NodeId g = g_.Neg(g_.Variable(Info(id)->slot));
    for (size_t j = 0; j < fast_species_.size(); ++j) {
      if (auto c = MoietyCoefficient(index, j)) g = g_.Add(g, g_.Mul(*c, g_.Variable(Info(fast_species_[j])->slot)));
    }
    residuals.push_back(g);
  }
  for (size_t k = 0; k < fast_reactions_.size(); ++k) {
    SOMA_ASSIGN_OR_RETURN(NodeId rate, Value(fast_reactions_[k]->id));
    auto sw = std::find_if(fast_switches_.begin(), fast_switches_.end(),
                           [&](const FastSwitch& f) { return f.reaction == k; });
    if (sw != fast_switches_.end()) {
      // Switched off: the extent state fixes the reaction's direction.
      SOMA_ASSIGN_OR_RETURN(NodeId extent, FastCombination(sw->coefficients, [&](size_t j) -> Result<NodeId> {
        return g_.Variable(Info(fast_species_[j])->slot);
      }));
      extent = g_.Sub(extent, g_.Variable(Info(sw->extent_id)->slot));
      rate = g_.Select(g_.Variable(Info(sw->off_id)->slot), extent, rate);
    }
    residuals.push_back(rate);
  }
  for (size_t i = 0; i < out_->symbols_.size(); ++i) {
    if (out_->symbols_[i].role == SymbolRole::kAlgebraic) out_->algebraic_slots_.push_back(out_->symbols_[i].slot);
  }
  if (residuals.size() != out_->algebraic_slots_.size()) {
    return Internal("algebraic system with " + std::to_string(residuals.size()) + " equations for " +
                    std::to_string(out_->algebraic_slots_.size()) + " unknowns");
  }
  std::vector<NodeId> jac;
  for (uint32_t slot : out_->algebraic_slots_) {
    for (NodeId g : residuals) jac.push_back(g_.Derivative(g, slot));
  }
  out_->algebraic_residuals_ = expr::Program::Compile(g_, residuals);
  out_->algebraic_residual_nodes_ = residuals;
  out_->algebraic_jacobian_ = expr::Program::Compile(g_, jac);

  if (fast_reactions_.empty()) return Status::Ok();
  CompiledModel::FastReactions& fast = out_->fast_reactions_;
  std::vector<NodeId> slow_rates;
  for (const std::string& id : fast_species_) {
    fast.species_slots.push_back(Info(id)->slot);
    SOMA_ASSIGN_OR_RETURN(NodeId slow, SlowSpeciesRate(id));
    slow_rates.push_back(slow);
  }
  fast.slow_rates = expr::Program::Compile(g_, slow_rates);
  for (const model::Reaction* r : fast_reactions_) fast.reaction_ids.push_back(r->id);
  fast.stoichiometry = fast_n_;
  std::vector<NodeId> rates, rate_jac;
  for (const model::Reaction* r : fast_reactions_) {
    SOMA_ASSIGN_OR_RETURN(NodeId rate, Value(r->id));
    rates.push_back(rate);
  }
  for (uint32_t slot : fast.species_slots) {
    for (NodeId rate : rates) rate_jac.push_back(g_.Derivative(rate, slot));
  }
  fast.rates = expr::Program::Compile(g_, rates);
  fast.rate_jacobian = expr::Program::Compile(g_, rate_jac);
  for (size_t index = 0; index < moiety_rows_.size(); ++index) {  // kernel column order
    const std::string id = "fast_moiety_" + std::to_string(index + 1);
    CompiledModel::FastReactions::Moiety moiety{Info(id)->slot, moiety_rows_[index], {}};
    if (!moiety_coefficient_ids_.empty()) {
      for (const std::string& c : moiety_coefficient_ids_[index]) moiety.coefficient_slots.push_back(Info(c)->slot);
    }
    fast.moieties.push_back(std::move(moiety));
  }
  for (const FastSwitch& sw : fast_switches_) {
    fast.switches.push_back({sw.reaction, Info(sw.off_id)->slot, Info(sw.extent_id)->slot, sw.coefficients});
  }
  // Stoichiometries that events set: N's entry = constant part + scale * slot.
  const long ns = static_cast<long>(fast_species_.size());
  for (size_t k = 0; k < fast_reactions_.size(); ++k) {
    for (int side = 0; side < 2; ++side) {
      for (const model::SpeciesReference& sr : side == 0 ? fast_reactions_[k]->reactants : fast_reactions_[k]->products) {
        if (!event_stoichiometry_.count(&sr)) continue;
        auto it = std::find(fast_species_.begin(), fast_species_.end(), sr.species);
        if (it == fast_species_.end()) continue;
        const long j = it - fast_species_.begin();
        const double scale = (side == 0 ? -1.0 : 1.0) * fast_factor_[static_cast<size_t>(j)];
        const size_t index = static_cast<size_t>(j + static_cast<long>(k) * ns);
        fast.stoichiometry[index] -= scale * fast_stoichiometry_.at(&sr);
        fast.variable_stoichiometry.push_back({static_cast<uint32_t>(index), scale, Info(sr.id)->slot});
      }
    }
  }
  return Status::Ok();
}

Result<NodeId> ModelCompiler::FastCombination(const std::vector<double>& c,
                                               const std::function<Result<NodeId>(size_t)>& f) {
  NodeId sum = g_.Constant(0.0);
  for (size_t j = 0; j < fast_species_.size(); ++j) {
    if (c[j] == 0.0) continue;
    SOMA_ASSIGN_OR_RETURN(NodeId x, f(j));
    sum = g_.Add(sum, g_.Mul(g_.Constant(c[j]), x));
  }
  return sum;
}

// Whether fast reaction r's kinetic law may vanish whatever the amounts at
// some time: it depends (directly, through assignment rules or as a
// function's argument) on a symbol other than a fast species that events
// assign, that has an initial assignment, or whose declared value is 0 (a
// parameter, a local parameter, a species that is constant or on the
// boundary). Such a reaction gets a switch (CompiledModel::FastReactions::
// Switch). Needs fast_species_.
bool ModelCompiler::FastLawMaySwitchOff(const model::Reaction& r) const {
  const std::unordered_set<std::string> event_targets = EventTargets();
  std::vector<const expr::Expr*> todo = {&*r.kinetic_law};
  std::unordered_set<std::string> seen;
  bool found = false;
  while (!todo.empty() && !found) {
    const expr::Expr* e = todo.back();
    todo.pop_back();
    expr::ForEachSymbol(*e, [&](const std::string& name) {
      if (found || !seen.insert(name).second) return;
      // The fast species are the unknowns: their values never switch a law off.
      if (std::find(fast_species_.begin(), fast_species_.end(), name) != fast_species_.end()) return;
      for (const model::Parameter& lp : r.local_parameters) {
        if (lp.id != name) continue;
        found = lp.value && *lp.value == 0.0;
        return;
      }
      if (event_targets.count(name) || m_.FindInitialAssignment(name) != nullptr) {
        found = true;
        return;
      }
      if (const model::Parameter* p = m_.FindParameter(name)) {
        if (p->value && *p->value == 0.0) found = true;
      } else if (const model::Species* sp = m_.FindSpecies(name); sp && (sp->constant || sp->boundary_condition)) {
        const std::optional<double>& v = sp->initial_amount ? sp->initial_amount : sp->initial_concentration;
        if (v && *v == 0.0) found = true;
      }
      const model::Rule* rule = m_.FindRuleFor(name);
      if (rule != nullptr && rule->kind == RuleKind::kAssignment) todo.push_back(&rule->math);
    });
  }
  return found;
}

Result<NodeId> ModelCompiler::SlowSpeciesRate(const std::string& id) {
  const model::Species* sp = m_.FindSpecies(id);
  NodeId node = g_.Constant(0.0);
  for (const model::Reaction& r : m_.reactions) {
    if (r.fast) continue;  // fast reactions act through the equilibrium constraints
    for (int side = 0; side < 2; ++side) {
      const auto& list = side == 0 ? r.reactants : r.products;
      for (const model::SpeciesReference& sr : list) {
        if (sr.species != id) continue;
        SOMA_ASSIGN_OR_RETURN(NodeId stoich, Stoichiometry(sr));
        SOMA_ASSIGN_OR_RETURN(NodeId rate, Value(r.id));
        NodeId term = g_.Mul(stoich, rate);
        node = side == 0 ? g_.Sub(node, term) : g_.Add(node, term);
      }
    }
  }
  std::string cf = !sp->conversion_factor.empty() ? sp->conversion_factor : m_.conversion_factor;
  if (!cf.empty()) {
    SOMA_ASSIGN_OR_RETURN(NodeId f, Value(cf));
    node = g_.Mul(node, f);
  }
  return node;
}

// Fast reactions (SBML L2/L3V1 `fast`) are in rapid equilibrium: their
// kinetic laws are held at 0 and their fluxes are whatever keeps them there.
// With N the stoichiometry of the species they change (the fast species) in
// them, the combinations L S with L N = 0 change only through slow
// reactions and become ODE states ("moieties"); the fast species themselves
// are solved at every evaluation from L S = w and kinetic law = 0 by the
// algebraic solver.
// The moieties of fast reactions need numeric stoichiometries: a number, or
// math (initial assignment, assignment rule, stoichiometryMath) that folds
// to a constant, or one that only events change (then the moieties'
// coefficients are values that FastEquilibrium recomputes after events).
// Stoichiometries that change continuously are unsupported.
Result<double> ModelCompiler::FastStoichiometry(const model::Reaction& r, const model::SpeciesReference& sr) {
  const std::string name = sr.id.empty() ? sr.species : sr.id;
  auto unsupported = [&] {
    return Unsupported("fast reaction '" + r.id + "' with a stoichiometry ('" + name +
                       "') that is not a constant: rapid equilibrium needs fixed stoichiometries");
  };
  const expr::Expr* math = sr.stoichiometry_math ? &*sr.stoichiometry_math : nullptr;
  if (!sr.id.empty()) {
    // Set by events: constant between them. Its initial value is taken here;
    // the moieties follow the events at run time (FastEquilibrium).
    for (const model::Event& ev : m_.events) {
      for (const model::EventAssignment& ea : ev.assignments) {
        if (ea.variable == sr.id) event_stoichiometry_.insert(&sr);
      }
    }
    const model::Rule* rule = m_.FindRuleFor(sr.id);
    if (rule != nullptr && rule->kind != RuleKind::kAssignment) return unsupported();
    if (rule != nullptr) math = &rule->math;
    else if (const model::InitialAssignment* ia = m_.FindInitialAssignment(sr.id)) math = &ia->math;
  }
  if (math == nullptr) return sr.stoichiometry;
  expr::Graph scratch;
  auto folded = scratch.FromTree(*math, [](const expr::Expr&) -> Result<NodeId> {
    return Unsupported("not a constant");
  });
  if (!folded.ok()) return unsupported();
  auto value = scratch.ConstantValue(*folded);
  if (!value) return unsupported();
  return *value;
}

std::optional<NodeId> ModelCompiler::MoietyCoefficient(size_t moiety, size_t j) {
  if (!moiety_coefficient_ids_.empty()) return g_.Variable(Info(moiety_coefficient_ids_[moiety][j])->slot);
  const double c = moiety_rows_[moiety][j];
  if (c == 0.0) return std::nullopt;
  return g_.Constant(c);
}

Status ModelCompiler::SetUpFastReactions(std::vector<SymbolInfo>& syms) {
  std::vector<const model::Reaction*> fast;
  for (const model::Reaction& r : m_.reactions) {
    if (r.fast) fast.push_back(&r);
  }
  if (fast.empty()) return Status::Ok();
  std::vector<std::string> species;
  for (const model::Reaction* r : fast) {
    if (!r->kinetic_law) return InvalidModel("fast reaction '" + r->id + "' has no kinetic law");
    for (const auto* list : {&r->reactants, &r->products}) {
      for (const model::SpeciesReference& sr : *list) {
        const model::Species* sp = m_.FindSpecies(sr.species);
        if (sp == nullptr) return InvalidModel("reaction '" + r->id + "' refers to unknown species '" + sr.species + "'");
        if (sp->boundary_condition || sp->constant) continue;
        if (m_.FindRuleFor(sp->id) != nullptr) {
          return Unsupported("species '" + sp->id + "' is changed by fast reaction '" + r->id + "' and by a rule");
        }
        auto stoich = FastStoichiometry(*r, sr);
        if (!stoich.ok()) return stoich.status();
        fast_stoichiometry_[&sr] = *stoich;
        if (std::find(species.begin(), species.end(), sp->id) == species.end()) species.push_back(sp->id);
      }
    }
  }
  // Conversion factors scale how the fast fluxes change each species.
  std::vector<double> factor(species.size(), 1.0);
  for (size_t j = 0; j < species.size(); ++j) {
    const model::Species* sp = m_.FindSpecies(species[j]);
    const std::string& cf = !sp->conversion_factor.empty() ? sp->conversion_factor : m_.conversion_factor;
    if (cf.empty()) continue;
    const model::Parameter* p = m_.FindParameter(cf);
    if (p == nullptr || !p->constant || !p->value || m_.FindInitialAssignment(cf) != nullptr) {
      return Unsupported("conversion factor '" + cf + "' of species '" + sp->id +
                         "' in a fast reaction must be a constant parameter with a value");
    }
    factor[j] = *p->value;
  }
  const long ns = static_cast<long>(species.size()), nf = static_cast<long>(fast.size());
  Eigen::MatrixXd n = Eigen::MatrixXd::Zero(ns, nf);
  for (long k = 0; k < nf; ++k) {
    for (int side = 0; side < 2; ++side) {
      for (const model::SpeciesReference& sr : side == 0 ? fast[k]->reactants : fast[k]->products) {
        auto it = std::find(species.begin(), species.end(), sr.species);
        if (it == species.end()) continue;
        const double v = fast_stoichiometry_.at(&sr) * factor[it - species.begin()];
        n(it - species.begin(), k) += side == 0 ? -v : v;
      }
    }
  }
  fast_n_.assign(n.data(), n.data() + n.size());
  fast_factor_ = factor;
  Eigen::FullPivLU<Eigen::MatrixXd> lu(n.transpose());
  if (lu.rank() < nf) {
    return Unsupported("the fast reactions' stoichiometries are linearly dependent; their equilibrium is not determined");
  }
  const long moieties = ns - lu.rank();
  Eigen::MatrixXd kernel = lu.kernel();  // ns x moieties (a zero column when moieties == 0)
  fast_species_ = species;
  fast_reactions_ = fast;
  for (long i = 0; i < moieties; ++i) {
    std::vector<double> row(species.size());
    double scale = kernel.col(i).cwiseAbs().maxCoeff();
    for (long j = 0; j < ns; ++j) {
      double v = kernel(j, i) / scale;
      row[j] = std::abs(v) < 1e-14 ? 0.0 : v;
    }
    std::string id = "fast_moiety_" + std::to_string(i + 1);
    moiety_index_[id] = moiety_rows_.size();
    moiety_rows_.push_back(row);
    SymbolInfo s;
    s.id = id;
    s.kind = SymbolKind::kNone;
    s.role = SymbolRole::kState;
    out_->symbol_index_[id] = syms.size();
    syms.push_back(s);
    if (!event_stoichiometry_.empty()) {
      // Coefficients that events may change: values in slots.
      std::vector<std::string> ids;
      for (long j = 0; j < ns; ++j) {
        SymbolInfo c;
        c.id = id + "_coefficient_" + std::to_string(j + 1);
        c.kind = SymbolKind::kNone;
        c.role = SymbolRole::kDiscrete;
        out_->symbol_index_[c.id] = syms.size();
        syms.push_back(c);
        coefficient_value_[c.id] = row[j];
        ids.push_back(c.id);
      }
      moiety_coefficient_ids_.push_back(ids);
    }
  }
  // Switches (CompiledModel::FastReactions::Switch), where the law may
  // vanish and the stoichiometries are fixed (c is computed once).
  if (event_stoichiometry_.empty()) {
    const Eigen::MatrixXd pinv = n.completeOrthogonalDecomposition().pseudoInverse();  // nf x ns
    for (long k = 0; k < nf; ++k) {
      if (!FastLawMaySwitchOff(*fast[k])) continue;
      FastSwitch sw{static_cast<size_t>(k), "fast_off_" + fast[k]->id, "fast_extent_" + fast[k]->id, {}};
      for (long j = 0; j < ns; ++j) {
        const double v = pinv(k, j);
        sw.coefficients.push_back(std::abs(v) < 1e-14 * pinv.row(k).cwiseAbs().maxCoeff() ? 0.0 : v);
      }
      for (std::string* id : {&sw.off_id, &sw.extent_id}) {
        while (out_->symbol_index_.count(*id)) *id += "_";  // never a model's own id
        SymbolInfo s;
        s.id = *id;
        s.kind = SymbolKind::kNone;
        s.role = id == &sw.off_id ? SymbolRole::kDiscrete : SymbolRole::kState;
        out_->symbol_index_[*id] = syms.size();
        syms.push_back(s);
      }
      coefficient_value_[sw.off_id] = 0.0;  // on, until FastEquilibrium decides
      extent_index_[sw.extent_id] = fast_switches_.size();
      fast_switches_.push_back(std::move(sw));
    }
  }
  for (const std::string& id : species) {
    SymbolInfo& s = syms[out_->symbol_index_[id]];
    s.role = SymbolRole::kAlgebraic;
    s.stores_amount = true;
  }
  return Status::Ok();
}

}  // namespace soma::sim
