#include "sim/model_compiler.h"

#include "expr/jit.h"

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
  out_->slot_symbol_.assign(next, -1);
  for (size_t i = 0; i < out_->symbols_.size(); ++i) {
    const SymbolInfo& s = out_->symbols_[i];
    if (s.role != SymbolRole::kAssigned) out_->slot_symbol_[s.slot] = static_cast<int32_t>(i);
  }

  out_->declared_.assign(next, kNaN);
  for (const SymbolInfo& s : out_->symbols_) {
    if (s.role != SymbolRole::kAssigned) out_->declared_[s.slot] = DeclaredValue(s);
  }
  derivative_memo_.assign(out_->num_states_, Memo{});
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
  if (auto e = extent_index_.find(s.id); e != extent_index_.end()) {
    return FastCombination(fast_switches_[e->second].coefficients,
                           [&](size_t j) { return InitStored(*Info(fast_species_[j])); });
  }
  if (auto c = coefficient_value_.find(s.id); c != coefficient_value_.end()) return g_.Constant(c->second);
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
    for (size_t j = 0; j < fast_species_.size(); ++j) {
      auto c = MoietyCoefficient(moiety->second, j);
      if (!c) continue;
      SOMA_ASSIGN_OR_RETURN(NodeId rate, SlowSpeciesRate(fast_species_[j]));
      node = g_.Add(node, g_.Mul(*c, rate));
    }
  } else if (auto e = extent_index_.find(id); e != extent_index_.end()) {
    // A switched-off fast reaction's extent follows the slow reactions; while
    // the reaction is on, the extent is not used and stays put.
    const FastSwitch& sw = fast_switches_[e->second];
    SOMA_ASSIGN_OR_RETURN(NodeId flow, FastCombination(sw.coefficients, [&](size_t j) {
      return SlowSpeciesRate(fast_species_[j]);
    }));
    node = g_.Select(g_.Variable(Info(sw.off_id)->slot), flow, g_.Constant(0.0));
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
          if (const SymbolInfo* s = out_->SymbolAtSlot(slot)) {
            SOMA_ASSIGN_OR_RETURN(NodeId init, InitStored(*s));
            at_start[slot] = init;
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
          d.text = expr::ToString(leaf);
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
  const std::vector<bool> steady = SteadySlots();
  out_->rhs_ = expr::Program::Compile(g_, derivatives_, steady);

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
  out_->jacobian_ = expr::Program::Compile(g_, entries, steady);
  return Status::Ok();
}

std::vector<bool> ModelCompiler::SteadySlots() const {
  std::vector<bool> steady(out_->num_slots_, false);
  for (const SymbolInfo& s : out_->symbols_) {
    if (s.role == SymbolRole::kDiscrete && s.slot != 0 && s.slot < steady.size()) steady[s.slot] = true;
  }
  return steady;
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

Result<std::shared_ptr<const CompiledModel>> CompiledModel::Compile(const model::Model& m,
                                                                   const CompileOptions& options) {
  std::shared_ptr<CompiledModel> cm(new CompiledModel());
  ModelCompiler compiler(m, cm.get());
  SOMA_RETURN_IF_ERROR(compiler.Run());
  if (options.native_code && expr::JitAvailable()) {
    std::vector<expr::Program*> hot;
    FastReactions& fast = cm->fast_reactions_;
    for (expr::Program* p : {&cm->rhs_, &cm->jacobian_, &cm->roots_, &cm->searched_roots_, &cm->triggers_,
                             &cm->algebraic_residuals_, &cm->algebraic_jacobian_, &fast.rates, &fast.rate_jacobian,
                             &fast.slow_rates}) {
      if (p->num_outputs() > 0 || p == &cm->rhs_) hot.push_back(p);
    }
    SOMA_RETURN_IF_ERROR(expr::CompileNative(hot));
  }
  if (options.native_lanes > 0 && expr::JitAvailable() && cm->num_states() > 0 && cm->algebraic_slots().empty() &&
      cm->delays().empty() && cm->fast_reactions().species_slots.empty()) {
    expr::Program* rhs[] = {&cm->rhs_};
    SOMA_RETURN_IF_ERROR(expr::CompileNativeLanes(rhs, options.native_lanes, options.lane_math));
  }
  return std::shared_ptr<const CompiledModel>(std::move(cm));
}

}  // namespace soma::sim
