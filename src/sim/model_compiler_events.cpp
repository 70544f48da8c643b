// ModelCompiler, part 2: events and the relations their triggers test
// (root functions), and discontinuity roots for conditions in the
// right-hand side. See model_compiler.cpp for the rest.

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "sim/model_compiler.h"

namespace soma::sim {

using expr::GOp;
using expr::NodeId;
using model::SymbolKind;

namespace {

bool IsRelation(GOp op) {
  switch (op) {
    case GOp::kEq: case GOp::kNeq: case GOp::kLt: case GOp::kLe: case GOp::kGt: case GOp::kGe:
      return true;
    default:
      return false;
  }
}

}  // namespace

Relation ModelCompiler::MakeRelation(NodeId relation) {
  const expr::Node rn = g_.node(relation);  // a copy: adding nodes may move the table
  Relation rel;
  rel.op = rn.op;
  rel.root = g_.Sub(rn.a, rn.b);
  return rel;  // time_direction: FinishRelations, once the events are known
}

namespace {

// f = slope * time + offset, with slope a number and offset reading only
// slots that stay fixed through a run.
struct LinearInTime {
  double slope = 0.0;
  NodeId offset = 0;
};

// Recognises f = slope * time + offset through +, -, negation, and products
// and quotients with numbers; anything else in time (floor(time), time^2,
// time * k with k a parameter) is not linear here. `fixed` is indexed by slot.
std::optional<LinearInTime> Linearise(expr::Graph& g, NodeId f, const std::vector<bool>& fixed, int depth) {
  if (depth > 64) return std::nullopt;
  const expr::Node n = g.node(f);  // a copy: adding nodes may move the table
  if (n.op == GOp::kVar && n.slot == 0) return LinearInTime{1.0, g.Constant(0.0)};
  if (!g.DependsOn(f, 0)) {
    for (uint32_t slot : g.Variables(f)) {
      if (slot >= fixed.size() || !fixed[slot]) return std::nullopt;
    }
    return LinearInTime{0.0, f};
  }
  auto a = n.arity >= 1 ? Linearise(g, n.a, fixed, depth + 1) : std::nullopt;
  if (!a) return std::nullopt;
  if (n.op == GOp::kNeg) return LinearInTime{-a->slope, g.Neg(a->offset)};
  auto b = n.arity == 2 ? Linearise(g, n.b, fixed, depth + 1) : std::nullopt;
  if (!b) return std::nullopt;
  switch (n.op) {
    case GOp::kAdd: return LinearInTime{a->slope + b->slope, g.Add(a->offset, b->offset)};
    case GOp::kSub: return LinearInTime{a->slope - b->slope, g.Sub(a->offset, b->offset)};
    case GOp::kMul: {
      // One factor must be a number (the other may hold time).
      if (auto k = g.ConstantValue(n.b); k && a->slope != 0.0) return LinearInTime{a->slope * *k, g.Mul(a->offset, n.b)};
      if (auto k = g.ConstantValue(n.a); k && b->slope != 0.0) return LinearInTime{b->slope * *k, g.Mul(n.a, b->offset)};
      return std::nullopt;
    }
    case GOp::kDiv: {
      auto k = g.ConstantValue(n.b);
      if (!k || *k == 0.0 || b->slope != 0.0) return std::nullopt;
      return LinearInTime{a->slope / *k, g.Div(a->offset, n.b)};
    }
    default: return std::nullopt;
  }
}

}  // namespace

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
      Relation rel = MakeRelation(r);
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
      ce.delay_node = delay;
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
    out_->relations_.push_back(MakeRelation(r));
  }
  // Slots that keep their value through a run: discrete values (parameters,
  // constant compartments and species, local parameters) that no event
  // assigns. States, algebraic values, delays and truth-value slots change.
  const std::vector<bool> steady = SteadySlots();
  std::vector<bool> fixed = steady;
  for (const CompiledEvent& e : out_->events_) {
    for (uint32_t slot : e.targets) fixed[slot] = false;
  }
  // Relations over discrete values alone (no time, no state, no algebraic,
  // assigned-from-states or delayed value) change only when an event assigns
  // one of those values, and every event execution refreshes the relations
  // (EventRunner::Execute): between events there is nothing to search for.
  // T1D: the meal event's meal_rate > 0 (8 relations on states stay
  // searched there, so the run time did not change measurably; a model whose
  // relations are all discrete evaluates no root function at all).
  auto only_discrete = [&](NodeId root) {
    for (uint32_t slot : g_.Variables(root)) {
      const SymbolInfo* s = slot == 0 ? nullptr : out_->SymbolAtSlot(slot);
      if (s == nullptr || s->role != SymbolRole::kDiscrete) return false;
    }
    return true;
  };
  std::vector<NodeId> roots, searched, time_points;
  for (size_t k = 0; k < out_->relations_.size(); ++k) {
    Relation& r = out_->relations_[k];
    roots.push_back(r.root);
    if (only_discrete(r.root)) {
      r.time_direction = 0;
      r.discrete = true;
      continue;
    }
    auto lin = Linearise(g_, r.root, fixed, 0);
    if (lin && lin->slope != 0.0 && std::isfinite(lin->slope)) {
      // slope * t + offset = 0 at t = -offset / slope.
      r.time_direction = lin->slope > 0 ? 1 : -1;
      out_->scheduled_relations_.push_back(static_cast<uint32_t>(k));
      time_points.push_back(g_.Div(g_.Neg(lin->offset), g_.Constant(lin->slope)));
      continue;
    }
    r.time_direction = 0;
    out_->searched_relations_.push_back(static_cast<uint32_t>(k));
    searched.push_back(r.root);
  }
  out_->roots_ = expr::Program::Compile(g_, roots, steady);
  out_->searched_roots_ = expr::Program::Compile(g_, searched, steady);
  out_->time_points_ = expr::Program::Compile(g_, time_points);
  return Status::Ok();
}

}  // namespace soma::sim
