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
  auto is_time = [&](NodeId x) {
    const expr::Node& n = g_.node(x);
    return n.op == GOp::kVar && n.slot == 0;
  };
  const std::optional<double> ca = g_.ConstantValue(rn.a), cb = g_.ConstantValue(rn.b);
  if (is_time(rn.a) && cb && std::isfinite(*cb)) {
    rel.time_point = *cb;
    rel.time_direction = 1;
  } else if (is_time(rn.b) && ca && std::isfinite(*ca)) {
    rel.time_point = *ca;
    rel.time_direction = -1;
  }
  return rel;
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
  std::vector<NodeId> roots, searched;
  for (size_t k = 0; k < out_->relations_.size(); ++k) {
    const Relation& r = out_->relations_[k];
    roots.push_back(r.root);
    if (r.time_direction != 0) continue;
    out_->searched_relations_.push_back(static_cast<uint32_t>(k));
    searched.push_back(r.root);
  }
  out_->roots_ = expr::Program::Compile(g_, roots);
  out_->searched_roots_ = expr::Program::Compile(g_, searched);
  return Status::Ok();
}

}  // namespace soma::sim
