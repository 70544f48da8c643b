#include "sim/model_compiler.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <Eigen/Dense>
#include <limits>

namespace soma::sim {

using expr::Expr;
using expr::GOp;
using expr::NodeId;
using expr::Op;
using model::RuleKind;
using model::SymbolKind;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool IsRelation(GOp op) {
  switch (op) {
    case GOp::kEq: case GOp::kNeq: case GOp::kLt: case GOp::kLe: case GOp::kGt: case GOp::kGe:
      return true;
    default:
      return false;
  }
}

std::string LocalKey(const model::Reaction& r, const std::string& local) { return r.id + "." + local; }

}  // namespace

Status ModelCompiler::Run() {
  out_->model_ = m_;
  SOMA_RETURN_IF_ERROR(CheckSupported());
  SOMA_RETURN_IF_ERROR(Classify());
  SOMA_RETURN_IF_ERROR(BuildSymbolNodes());
  SOMA_RETURN_IF_ERROR(BuildRhsAndJacobian());
  SOMA_RETURN_IF_ERROR(BuildEvents());
  SOMA_RETURN_IF_ERROR(FinishRelations());
  SOMA_RETURN_IF_ERROR(BuildAlgebraic());
  std::vector<NodeId> constraints;
  for (const model::Constraint& c : m_.constraints) {
    auto n = Translate(c.math, Mode::kDynamic, nullptr);
    if (!n.ok()) return n.status().WithContext("constraint at line " + std::to_string(c.where.line));
    constraints.push_back(*n);
  }
  out_->constraints_ = expr::Program::Compile(g_, constraints);
  for (DelayInfo& d : out_->delays_) {
    std::vector<NodeId> x = {d.x}, tau = {d.tau}, x_before = {d.x_before_start};
    d.value = expr::Program::Compile(g_, x);
    d.value_before_start = expr::Program::Compile(g_, x_before);
    d.delay = expr::Program::Compile(g_, tau);
  }
  SOMA_RETURN_IF_ERROR(BuildInitialValues());
  out_->rhs_nodes_ = derivatives_;  // for sensitivities (CompileSensitivities)
  return Status::Ok();
}

Status ModelCompiler::CheckSupported() const { return Status::Ok(); }

SymbolInfo* ModelCompiler::Info(std::string_view id) {
  auto it = out_->symbol_index_.find(std::string(id));
  return it == out_->symbol_index_.end() ? nullptr : &out_->symbols_[it->second];
}

double ModelCompiler::DeclaredValue(const SymbolInfo& s) const {
  switch (s.kind) {
    case SymbolKind::kCompartment: {
      const auto* c = m_.FindCompartment(s.id);
      return c->size ? *c->size : kNaN;
    }
    case SymbolKind::kSpecies: {
      const auto* sp = m_.FindSpecies(s.id);
      if (sp->initial_amount) return *sp->initial_amount;
      if (sp->initial_concentration) return *sp->initial_concentration;
      return kNaN;
    }
    case SymbolKind::kParameter: {
      if (const auto* p = m_.FindParameter(s.id)) return p->value ? *p->value : kNaN;
      for (const auto& r : m_.reactions) {
        for (const auto& lp : r.local_parameters) {
          if (LocalKey(r, lp.id) == s.id && lp.value) return *lp.value;
        }
      }
      return kNaN;
    }
    case SymbolKind::kSpeciesReference: {
      const auto* sr = m_.FindSpeciesReference(s.id);
      return sr->stoichiometry_math ? kNaN : sr->stoichiometry;
    }
    default:
      return kNaN;
  }
}

Status ModelCompiler::Classify() {
  std::unordered_set<std::string> assigned, rate_ruled, reacting;
  for (const model::Rule& r : m_.rules) {
    if (r.kind == RuleKind::kAssignment) assigned.insert(r.variable);
    if (r.kind == RuleKind::kRate) rate_ruled.insert(r.variable);
  }
  for (const model::Reaction& r : m_.reactions) {
    for (const auto* list : {&r.reactants, &r.products}) {
      for (const model::SpeciesReference& sr : *list) reacting.insert(sr.species);
    }
  }

  std::vector<SymbolInfo> syms;
  auto add = [&](const std::string& id, SymbolKind kind) -> Status {
    if (id.empty()) return Status::Ok();
    if (out_->symbol_index_.count(id)) return InvalidModel("duplicate id '" + id + "'");
    SymbolInfo s;
    s.id = id;
    s.kind = kind;
    if (kind == SymbolKind::kReaction || assigned.count(id)) {
      s.role = SymbolRole::kAssigned;
    } else if (rate_ruled.count(id)) {
      s.role = SymbolRole::kState;
    } else if (kind == SymbolKind::kSpecies) {
      const model::Species* sp = m_.FindSpecies(id);
      bool changes = reacting.count(id) && !sp->boundary_condition && !sp->constant;
      s.role = changes ? SymbolRole::kState : SymbolRole::kDiscrete;
      s.stores_amount = true;
    } else {
      s.role = SymbolRole::kDiscrete;
    }
    out_->symbol_index_[id] = syms.size();
    syms.push_back(std::move(s));
    return Status::Ok();
  };
  for (const auto& c : m_.compartments) SOMA_RETURN_IF_ERROR(add(c.id, SymbolKind::kCompartment));
  for (const auto& s : m_.species) SOMA_RETURN_IF_ERROR(add(s.id, SymbolKind::kSpecies));
  for (const auto& p : m_.parameters) SOMA_RETURN_IF_ERROR(add(p.id, SymbolKind::kParameter));
  for (const auto& r : m_.reactions) {
    SOMA_RETURN_IF_ERROR(add(r.id, SymbolKind::kReaction));
    for (const auto* list : {&r.reactants, &r.products}) {
      for (const model::SpeciesReference& sr : *list) {
        if (!sr.id.empty()) SOMA_RETURN_IF_ERROR(add(sr.id, SymbolKind::kSpeciesReference));
      }
    }
  }
  // Reaction-local parameters become discrete values named "reaction.local".
  for (const auto& r : m_.reactions) {
    for (const model::Parameter& p : r.local_parameters) {
      SOMA_RETURN_IF_ERROR(add(LocalKey(r, p.id), SymbolKind::kParameter));
    }
  }
  for (const std::string& v : assigned) {
    if (!out_->symbol_index_.count(v)) return InvalidModel("assignment rule for unknown symbol '" + v + "'");
  }
  for (const std::string& v : rate_ruled) {
    if (!out_->symbol_index_.count(v)) return InvalidModel("rate rule for unknown symbol '" + v + "'");
  }

  SOMA_RETURN_IF_ERROR(SetUpFastReactions(syms));
  SOMA_RETURN_IF_ERROR(MatchAlgebraicRules(syms));

  // Slots: time, states, then discrete and algebraic values.
  uint32_t next = 1;
  for (SymbolInfo& s : syms) {
    if (s.role == SymbolRole::kState) {
      s.slot = next++;
      out_->state_names_.push_back(s.id);
      state_slots_.push_back(s.slot);
      // A species with a rate rule is integrated as its symbol's value.
      if (s.kind == SymbolKind::kSpecies && rate_ruled.count(s.id)) s.stores_amount = false;
    }
  }
  out_->num_states_ = next - 1;
  for (SymbolInfo& s : syms) {
    if (s.role == SymbolRole::kDiscrete || s.role == SymbolRole::kAlgebraic) s.slot = next++;
  }
  out_->num_slots_ = next;
  out_->symbols_ = std::move(syms);

  out_->declared_.assign(next, kNaN);
  for (const SymbolInfo& s : out_->symbols_) {
    if (s.role != SymbolRole::kAssigned) out_->declared_[s.slot] = DeclaredValue(s);
  }
  derivative_memo_.assign(out_->num_states_, Memo{});
  return Status::Ok();
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
  std::unordered_set<std::string> event_targets;
  for (const model::Event& ev : m_.events) {
    for (const model::EventAssignment& ea : ev.assignments) event_targets.insert(ea.variable);
  }
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
    const auto& row = moiety_rows_[index];
    NodeId g = g_.Neg(g_.Variable(Info(id)->slot));
    for (size_t j = 0; j < fast_species_.size(); ++j) {
      if (row[j] != 0.0) g = g_.Add(g, g_.Mul(g_.Constant(row[j]), g_.Variable(Info(fast_species_[j])->slot)));
    }
    residuals.push_back(g);
  }
  for (const model::Reaction* r : fast_reactions_) {
    SOMA_ASSIGN_OR_RETURN(NodeId rate, Value(r->id));
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
  out_->algebraic_jacobian_ = expr::Program::Compile(g_, jac);
  return Status::Ok();
}

Result<NodeId> ModelCompiler::CompartmentSize(const model::Species& sp, Mode mode) {
  const model::Compartment* c = m_.FindCompartment(sp.compartment);
  if (c == nullptr) {
    return InvalidModel("species '" + sp.id + "' is in unknown compartment '" + sp.compartment + "'");
  }
  // SBML L3V2 dropped the special meaning of 0-D compartments: they have a
  // size like any other. A 0-D compartment given no size at all comes from
  // L1/L2, where its species have no concentration: the symbol is the amount.
  if (c->spatial_dimensions == 0 && !c->size && !m_.FindInitialAssignment(c->id) && !m_.FindRuleFor(c->id)) {
    return g_.Constant(1.0);
  }
  return mode == Mode::kDynamic ? Value(c->id) : InitValue(c->id);
}

Result<NodeId> ModelCompiler::Value(const std::string& id) {
  Memo& memo = value_memo_[id];
  if (memo.p == Progress::kDone) return memo.node;
  if (memo.p == Progress::kBusy) return InvalidModel("'" + id + "' is defined in terms of itself (a cycle of rules)");
  SymbolInfo* s = Info(id);
  if (s == nullptr) return NotFound("unknown symbol '" + id + "'");
  memo.p = Progress::kBusy;
  NodeId node = 0;
  if (s->kind == SymbolKind::kReaction) {
    SOMA_ASSIGN_OR_RETURN(node, ReactionRate(*m_.FindReaction(id), Mode::kDynamic));
  } else if (s->role == SymbolRole::kAssigned) {
    const model::Rule* rule = m_.FindRuleFor(id);
    auto r = Translate(rule->math, Mode::kDynamic, nullptr);
    if (!r.ok()) return r.status().WithContext("assignment rule for '" + id + "'");
    node = *r;
  } else if (s->kind == SymbolKind::kSpecies && s->stores_amount) {
    const model::Species* sp = m_.FindSpecies(id);
    node = g_.Variable(s->slot);
    if (!sp->has_only_substance_units) {
      SOMA_ASSIGN_OR_RETURN(NodeId v, CompartmentSize(*sp, Mode::kDynamic));
      node = g_.Div(node, v);
    }
  } else {
    node = g_.Variable(s->slot);
  }
  Memo& done = value_memo_[id];  // the map may have rehashed
  done.p = Progress::kDone;
  done.node = node;
  return node;
}

Result<NodeId> ModelCompiler::InitValue(const std::string& id) {
  Memo& memo = init_memo_[id];
  if (memo.p == Progress::kDone) return memo.node;
  if (memo.p == Progress::kBusy) {
    return InvalidModel("the initial value of '" + id + "' is defined in terms of itself");
  }
  SymbolInfo* s = Info(id);
  if (s == nullptr) return NotFound("unknown symbol '" + id + "'");
  memo.p = Progress::kBusy;
  NodeId node = 0;
  const model::InitialAssignment* ia = m_.FindInitialAssignment(id);
  const model::Rule* rule = m_.FindRuleFor(id);
  if (ia != nullptr) {
    auto r = Translate(ia->math, Mode::kInitial, nullptr);
    if (!r.ok()) return r.status().WithContext("initial assignment for '" + id + "'");
    node = *r;
  } else if (rule != nullptr && rule->kind == RuleKind::kAssignment) {
    auto r = Translate(rule->math, Mode::kInitial, nullptr);
    if (!r.ok()) return r.status().WithContext("assignment rule for '" + id + "'");
    node = *r;
  } else if (s->kind == SymbolKind::kReaction) {
    SOMA_ASSIGN_OR_RETURN(node, ReactionRate(*m_.FindReaction(id), Mode::kInitial));
  } else if (s->kind == SymbolKind::kSpecies) {
    const model::Species* sp = m_.FindSpecies(id);
    node = g_.Variable(s->slot);  // the declared amount or concentration
    bool declared_amount = sp->initial_amount.has_value();
    bool declared_conc = !declared_amount && sp->initial_concentration.has_value();
    SOMA_ASSIGN_OR_RETURN(NodeId v, CompartmentSize(*sp, Mode::kInitial));
    if (declared_amount && !sp->has_only_substance_units) node = g_.Div(node, v);
    if (declared_conc && sp->has_only_substance_units) node = g_.Mul(node, v);
  } else {
    node = g_.Variable(s->slot);
  }
  Memo& done = init_memo_[id];
  done.p = Progress::kDone;
  done.node = node;
  return node;
}

Result<NodeId> ModelCompiler::InitStored(const SymbolInfo& s) {
  if (auto moiety = moiety_index_.find(s.id); moiety != moiety_index_.end()) {
    const auto& row = moiety_rows_[moiety->second];
    NodeId total = g_.Constant(0.0);
    for (size_t j = 0; j < fast_species_.size(); ++j) {
      if (row[j] == 0.0) continue;
      SOMA_ASSIGN_OR_RETURN(NodeId amount, InitStored(*Info(fast_species_[j])));
      total = g_.Add(total, g_.Mul(g_.Constant(row[j]), amount));
    }
    return total;
  }
  if (s.kind == SymbolKind::kSpecies && s.stores_amount && m_.FindSpecies(s.id)->initial_amount &&
      !m_.FindInitialAssignment(s.id)) {
    return g_.Variable(s.slot);  // the declared amount, even where the size is not known yet
  }
  SOMA_ASSIGN_OR_RETURN(NodeId v, InitValue(s.id));
  if (s.kind == SymbolKind::kSpecies && s.stores_amount) {
    const model::Species* sp = m_.FindSpecies(s.id);
    if (!sp->has_only_substance_units) {
      SOMA_ASSIGN_OR_RETURN(NodeId size, CompartmentSize(*sp, Mode::kInitial));
      return g_.Mul(v, size);
    }
  }
  return v;
}

Result<NodeId> ModelCompiler::Stoichiometry(const model::SpeciesReference& sr) {
  if (!sr.id.empty()) return Value(sr.id);
  if (sr.stoichiometry_math) return Translate(*sr.stoichiometry_math, Mode::kDynamic, nullptr);
  return g_.Constant(sr.stoichiometry);
}

Result<NodeId> ModelCompiler::ReactionRate(const model::Reaction& r, Mode mode) {
  if (!r.kinetic_law) return g_.Constant(0.0);
  auto rate = Translate(*r.kinetic_law, mode, &r);
  if (!rate.ok()) return rate.status().WithContext("kinetic law of reaction '" + r.id + "'");
  return rate;
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
        bool variable = sr.stoichiometry_math.has_value();
        if (!sr.id.empty()) {
          variable = variable || m_.FindRuleFor(sr.id) != nullptr || m_.FindInitialAssignment(sr.id) != nullptr;
          for (const model::Event& ev : m_.events) {
            for (const model::EventAssignment& ea : ev.assignments) variable = variable || ea.variable == sr.id;
          }
        }
        if (variable) {
          return Unsupported("fast reaction '" + r->id + "' with a stoichiometry set by math ('" +
                             (sr.id.empty() ? sr.species : sr.id) + "')");
        }
        if (std::find(species.begin(), species.end(), sp->id) == species.end()) species.push_back(sp->id);
      }
    }
  }
  const long ns = static_cast<long>(species.size()), nf = static_cast<long>(fast.size());
  Eigen::MatrixXd n = Eigen::MatrixXd::Zero(ns, nf);
  for (long k = 0; k < nf; ++k) {
    for (int side = 0; side < 2; ++side) {
      for (const model::SpeciesReference& sr : side == 0 ? fast[k]->reactants : fast[k]->products) {
        auto it = std::find(species.begin(), species.end(), sr.species);
        if (it == species.end()) continue;
        n(it - species.begin(), k) += side == 0 ? -sr.stoichiometry : sr.stoichiometry;
      }
    }
  }
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
  }
  for (const std::string& id : species) {
    SymbolInfo& s = syms[out_->symbol_index_[id]];
    s.role = SymbolRole::kAlgebraic;
    s.stores_amount = true;
  }
  return Status::Ok();
}

Result<NodeId> ModelCompiler::StateDerivative(size_t i) {
  Memo& memo = derivative_memo_[i];
  if (memo.p == Progress::kDone) return memo.node;
  const std::string& id = out_->state_names_[i];
  if (memo.p == Progress::kBusy) return InvalidModel("the rate of change of '" + id + "' depends on itself through rateOf");
  memo.p = Progress::kBusy;
  NodeId node = g_.Constant(0.0);
  if (const model::Rule* rule = m_.FindRuleFor(id); rule != nullptr && rule->kind == RuleKind::kRate) {
    auto r = Translate(rule->math, Mode::kDynamic, nullptr);
    if (!r.ok()) return r.status().WithContext("rate rule for '" + id + "'");
    node = *r;
  } else if (auto moiety = moiety_index_.find(id); moiety != moiety_index_.end()) {
    // A conserved combination of fast species changes only through slow reactions.
    const auto& row = moiety_rows_[moiety->second];
    for (size_t j = 0; j < fast_species_.size(); ++j) {
      if (row[j] == 0.0) continue;
      SOMA_ASSIGN_OR_RETURN(NodeId rate, SlowSpeciesRate(fast_species_[j]));
      node = g_.Add(node, g_.Mul(g_.Constant(row[j]), rate));
    }
  } else {
    SOMA_ASSIGN_OR_RETURN(node, SlowSpeciesRate(id));
  }
  derivative_memo_[i] = Memo{Progress::kDone, node};
  return node;
}

Result<NodeId> ModelCompiler::RateOf(const std::string& id) {
  Memo& memo = rate_of_memo_[id];
  if (memo.p == Progress::kDone) return memo.node;
  if (memo.p == Progress::kBusy) return InvalidModel("rateOf(" + id + ") depends on itself");
  memo.p = Progress::kBusy;
  SOMA_ASSIGN_OR_RETURN(NodeId v, Value(id));
  // d v / dt = sum_j dv/dy_j * f_j + dv/dt (explicit time dependence).
  NodeId rate = g_.Derivative(v, 0);
  for (uint32_t slot : g_.Variables(v)) {
    if (slot == 0 || slot > out_->num_states_) continue;
    SOMA_ASSIGN_OR_RETURN(NodeId f, StateDerivative(slot - 1));
    rate = g_.Add(rate, g_.Mul(g_.Derivative(v, slot), f));
  }
  rate_of_memo_[id] = Memo{Progress::kDone, rate};
  return rate;
}

Result<NodeId> ModelCompiler::Translate(const Expr& e, Mode mode, const model::Reaction* scope) {
  expr::Graph::Resolver resolve = [&](const Expr& leaf) -> Result<NodeId> {
    switch (leaf.op) {
      case Op::kTime:
        return g_.Variable(0);
      case Op::kSymbol: {
        if (scope != nullptr) {
          for (const model::Parameter& p : scope->local_parameters) {
            if (p.id == leaf.name) {
              return g_.Variable(Info(LocalKey(*scope, p.id))->slot);  // constant: same at t0
            }
          }
        }
        if (Info(leaf.name) == nullptr) return InvalidModel("unknown symbol '" + leaf.name + "'");
        return mode == Mode::kInitial ? InitValue(leaf.name) : Value(leaf.name);
      }
      case Op::kRateOf: {
        if (leaf.args.size() != 1 || leaf.args[0].op != Op::kSymbol) {
          return InvalidModel("rateOf takes exactly one symbol");
        }
        const std::string& target = leaf.args[0].name;
        if (mode == Mode::kBeforeStart) return g_.Constant(0.0);
        if (scope != nullptr) {
          for (const model::Parameter& p : scope->local_parameters) {
            if (p.id == target) return g_.Constant(0.0);  // local parameters are constant
          }
        }
        if (Info(target) == nullptr) return InvalidModel("rateOf of unknown symbol '" + target + "'");
        SOMA_ASSIGN_OR_RETURN(NodeId rate, RateOf(target));
        if (mode == Mode::kDynamic) return rate;
        // At t0: substitute every stored value by its initial value.
        std::unordered_map<uint32_t, NodeId> at_start;
        for (uint32_t slot : g_.Variables(rate)) {
          if (slot == 0) continue;
          for (const SymbolInfo& s : out_->symbols_) {
            if (s.role != SymbolRole::kAssigned && s.slot == slot) {
              SOMA_ASSIGN_OR_RETURN(NodeId init, InitStored(s));
              at_start[slot] = init;
            }
          }
        }
        return g_.Substitute(rate, at_start);
      }
      case Op::kDelay:
        if (mode == Mode::kInitial && !leaf.args.empty()) {
          // Before t0 the history is the initial state.
          return Translate(leaf.args[0], mode, scope);
        }
        if (leaf.args.size() != 2) return InvalidModel("delay takes two arguments (expression, delay)");
        {
          // delay(x, tau) reads slot k, which the simulator fills before each
          // evaluation with x evaluated on the state history at time - tau.
          if (mode == Mode::kBeforeStart) return Translate(leaf.args[0], mode, scope);
          SOMA_ASSIGN_OR_RETURN(NodeId x, Translate(leaf.args[0], mode, scope));
          SOMA_ASSIGN_OR_RETURN(NodeId tau, Translate(leaf.args[1], mode, scope));
          for (const DelayInfo& d : out_->delays_) {
            if (d.x == x && d.tau == tau) return g_.Variable(d.slot);
          }
          SOMA_ASSIGN_OR_RETURN(NodeId x_before, Translate(leaf.args[0], Mode::kBeforeStart, scope));
          DelayInfo d;
          d.x = x;
          d.x_before_start = x_before;
          d.tau = tau;
          d.slot = static_cast<uint32_t>(out_->num_slots_++);
          out_->declared_.resize(out_->num_slots_, kNaN);
          out_->delays_.push_back(d);
          return g_.Variable(d.slot);
        }
      default:
        return Internal("unexpected leaf handed to the resolver: " + std::string(expr::OpName(leaf.op)));
    }
  };
  return g_.FromTree(e, resolve);
}

Status ModelCompiler::BuildSymbolNodes() {
  for (size_t i = 0; i < out_->symbols_.size(); ++i) {
    const std::string id = out_->symbols_[i].id;
    auto v = Value(id);
    if (!v.ok()) return v.status();
    SymbolInfo& s = out_->symbols_[i];
    s.value = *v;
    s.amount = s.concentration = s.value;
    if (s.kind == SymbolKind::kSpecies) {
      const model::Species* sp = m_.FindSpecies(id);
      SOMA_ASSIGN_OR_RETURN(NodeId size, CompartmentSize(*sp, Mode::kDynamic));
      if (s.stores_amount) {
        s.amount = g_.Variable(s.slot);
      } else if (!sp->has_only_substance_units) {
        s.amount = g_.Mul(s.value, size);
      }
      s.concentration = sp->has_only_substance_units ? g_.Div(s.amount, size) : s.value;
    }
  }
  return Status::Ok();
}

Status ModelCompiler::BuildRhsAndJacobian() {
  const size_t n = out_->num_states_;
  derivatives_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    SOMA_ASSIGN_OR_RETURN(derivatives_[i], StateDerivative(i));
  }
  out_->rhs_ = expr::Program::Compile(g_, derivatives_);

  // Analytic Jacobian: differentiate each f_i only by the states it reads.
  std::vector<std::vector<std::pair<int, NodeId>>> by_column(n);
  for (size_t i = 0; i < n; ++i) {
    for (uint32_t slot : g_.Variables(derivatives_[i])) {
      if (slot == 0 || slot > n) continue;
      NodeId d = g_.Derivative(derivatives_[i], slot);
      auto c = g_.ConstantValue(d);
      if (c && *c == 0.0) continue;
      by_column[slot - 1].push_back({static_cast<int>(i), d});
    }
  }
  // The diagonal is always in the pattern: CVODES forms I - gamma J in place,
  // and a missing diagonal entry would force a reallocation (and a new
  // symbolic factorisation) at every linear solver setup.
  for (size_t j = 0; j < n; ++j) {
    auto& col = by_column[j];
    bool has_diagonal = std::any_of(col.begin(), col.end(), [&](const auto& e) { return e.first == static_cast<int>(j); });
    if (!has_diagonal) col.push_back({static_cast<int>(j), g_.Constant(0.0)});
  }
  std::vector<NodeId> entries;
  auto& pattern = out_->jacobian_pattern_;
  pattern.column_starts.assign(1, 0);
  for (size_t j = 0; j < n; ++j) {
    auto& col = by_column[j];
    std::sort(col.begin(), col.end());
    for (auto& [row, node] : col) {
      pattern.row_indices.push_back(row);
      out_->jacobian_entries_.push_back({row, static_cast<int>(j)});
      entries.push_back(node);
    }
    pattern.column_starts.push_back(static_cast<int64_t>(pattern.row_indices.size()));
  }
  out_->jacobian_ = expr::Program::Compile(g_, entries);
  return Status::Ok();
}

void ModelCompiler::CollectRelations(NodeId root, std::unordered_set<NodeId>& seen,
                                     std::vector<NodeId>& found) const {
  std::vector<NodeId> stack = {root};
  while (!stack.empty()) {
    NodeId n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    const expr::Node& node = g_.node(n);
    if (IsRelation(node.op)) found.push_back(n);
    if (node.arity > 0) stack.push_back(node.a);
    if (node.arity > 1) stack.push_back(node.b);
    if (node.arity > 2) stack.push_back(node.c);
  }
}

NodeId ModelCompiler::RewriteRelations(NodeId n, std::unordered_map<NodeId, NodeId>& memo) {
  if (auto it = memo.find(n); it != memo.end()) return it->second;
  const expr::Node node = g_.node(n);
  NodeId result = n;
  if (auto it = event_relation_index_.find(n); it != event_relation_index_.end()) {
    result = g_.Variable(out_->relations_[it->second].slot);
  } else if (node.arity == 1) {
    result = g_.Unary(node.op, RewriteRelations(node.a, memo));
  } else if (node.arity == 2) {
    NodeId a = RewriteRelations(node.a, memo);
    NodeId b = RewriteRelations(node.b, memo);
    result = g_.Binary(node.op, a, b);
  } else if (node.arity == 3) {
    NodeId a = RewriteRelations(node.a, memo);
    NodeId b = RewriteRelations(node.b, memo);
    NodeId c = RewriteRelations(node.c, memo);
    result = g_.Select(a, b, c);
  }
  memo[n] = result;
  return result;
}

Status ModelCompiler::BuildEvents() {
  std::vector<NodeId> triggers, timing;
  for (size_t k = 0; k < m_.events.size(); ++k) {
    const model::Event& ev = m_.events[k];
    CompiledEvent ce;
    ce.id = ev.id.empty() ? "event" + std::to_string(k + 1) : ev.id;
    const std::string where = "event '" + ce.id + "'";
    ce.initial_value = ev.trigger_initial_value;
    ce.persistent = ev.persistent;
    ce.use_values_from_trigger_time = ev.use_values_from_trigger_time;
    auto trig = Translate(ev.trigger, Mode::kDynamic, nullptr);
    if (!trig.ok()) return trig.status().WithContext(where + ": trigger");
    // Each relation the trigger tests gets a root function and a truth slot.
    std::unordered_set<NodeId> seen;
    std::vector<NodeId> rels;
    CollectRelations(*trig, seen, rels);
    for (NodeId r : rels) {
      if (event_relation_index_.count(r)) continue;
      const expr::Node& rn = g_.node(r);
      Relation rel;
      rel.op = rn.op;
      rel.root = g_.Sub(rn.a, rn.b);
      rel.slot = static_cast<uint32_t>(out_->num_slots_++);
      rel.for_event = true;
      event_relation_index_[r] = out_->relations_.size();
      out_->relations_.push_back(rel);
    }
    std::unordered_map<NodeId, NodeId> memo;
    triggers.push_back(RewriteRelations(*trig, memo));

    NodeId delay = g_.Constant(0.0), priority = g_.Constant(0.0);
    if (ev.delay) {
      auto d = Translate(*ev.delay, Mode::kDynamic, nullptr);
      if (!d.ok()) return d.status().WithContext(where + ": delay");
      delay = *d;
      ce.has_delay = true;
    }
    if (ev.priority) {
      auto p = Translate(*ev.priority, Mode::kDynamic, nullptr);
      if (!p.ok()) return p.status().WithContext(where + ": priority");
      priority = *p;
      ce.has_priority = true;
    }
    timing.push_back(delay);
    timing.push_back(priority);

    std::vector<NodeId> values;
    for (const model::EventAssignment& ea : ev.assignments) {
      SymbolInfo* s = Info(ea.variable);
      if (s == nullptr) return InvalidModel(where + ": assignment to unknown symbol '" + ea.variable + "'");
      if (s->role == SymbolRole::kAssigned) {
        return InvalidModel(where + ": assignment to '" + ea.variable + "', which an assignment rule defines");
      }
      auto v = Translate(ea.math, Mode::kDynamic, nullptr);
      if (!v.ok()) return v.status().WithContext(where + ": assignment to '" + ea.variable + "'");
      NodeId stored = *v;
      if (s->kind == SymbolKind::kSpecies && s->stores_amount) {
        const model::Species* sp = m_.FindSpecies(s->id);
        if (!sp->has_only_substance_units) {
          SOMA_ASSIGN_OR_RETURN(NodeId size, CompartmentSize(*sp, Mode::kDynamic));
          stored = g_.Mul(stored, size);
        }
      }
      ce.targets.push_back(s->slot);
      values.push_back(stored);
    }
    // Species amounts are conserved when an event resizes their compartment.
    // Species integrated as concentrations (rate rules) are rescaled to match.
    for (size_t a = 0; a < ev.assignments.size(); ++a) {
      const model::Compartment* c = m_.FindCompartment(ev.assignments[a].variable);
      if (c == nullptr) continue;
      for (const model::Species& sp : m_.species) {
        const SymbolInfo* s = Info(sp.id);
        if (sp.compartment != c->id || s->stores_amount || sp.has_only_substance_units ||
            s->role == SymbolRole::kAssigned) {
          continue;
        }
        SOMA_ASSIGN_OR_RETURN(NodeId old_size, Value(c->id));
        // A concentration assigned in the same event is read in the old volume
        // (SBML Test Suite cases 1506, 1779).
        auto same = std::find_if(ev.assignments.begin(), ev.assignments.end(),
                                 [&](const model::EventAssignment& x) { return x.variable == sp.id; });
        if (same != ev.assignments.end()) {
          size_t k = static_cast<size_t>(same - ev.assignments.begin());
          values[k] = g_.Div(g_.Mul(values[k], old_size), values[a]);
          continue;
        }
        ce.targets.push_back(s->slot);
        values.push_back(g_.Div(g_.Mul(g_.Variable(s->slot), old_size), values[a]));
      }
    }
    ce.assignments = expr::Program::Compile(g_, values);
    ce.assignment_nodes = values;
    out_->events_.push_back(std::move(ce));
  }
  out_->triggers_ = expr::Program::Compile(g_, triggers);
  out_->event_timing_ = expr::Program::Compile(g_, timing);
  out_->declared_.resize(out_->num_slots_, 0.0);
  return Status::Ok();
}

Status ModelCompiler::FinishRelations() {
  // Conditions inside the right-hand side (piecewise) are discontinuities: a
  // root function for each makes the integrator stop and restart there.
  std::unordered_set<NodeId> seen;
  std::vector<NodeId> rels;
  for (NodeId f : derivatives_) CollectRelations(f, seen, rels);
  for (NodeId r : rels) {
    if (event_relation_index_.count(r)) continue;
    const expr::Node& rn = g_.node(r);
    Relation rel;
    rel.op = rn.op;
    rel.root = g_.Sub(rn.a, rn.b);
    out_->relations_.push_back(rel);
  }
  std::vector<NodeId> roots;
  for (const Relation& r : out_->relations_) roots.push_back(r.root);
  out_->roots_ = expr::Program::Compile(g_, roots);
  return Status::Ok();
}

Status ModelCompiler::BuildInitialValues() {
  std::vector<NodeId> nodes;
  for (const SymbolInfo& s : out_->symbols_) {
    if (s.role == SymbolRole::kAssigned) continue;
    auto init = InitStored(s);
    if (!init.ok()) return init.status();
    out_->initial_nodes_.push_back({s.slot, *init});
    nodes.push_back(*init);
  }
  out_->initial_ = expr::Program::Compile(g_, nodes);
  return Status::Ok();
}

Result<std::shared_ptr<const CompiledModel>> CompiledModel::Compile(const model::Model& m) {
  std::shared_ptr<CompiledModel> cm(new CompiledModel());
  ModelCompiler compiler(m, cm.get());
  SOMA_RETURN_IF_ERROR(compiler.Run());
  return std::shared_ptr<const CompiledModel>(std::move(cm));
}

}  // namespace soma::sim
