// CompiledModel::CompileSensitivities: the forward sensitivity equations
// built symbolically on a copy of the model's expression graph.

#include "sim/sensitivity_program.h"

#include <unordered_set>

#include "sim/compiled_model.h"

namespace soma::sim {

namespace {

using expr::GOp;
using expr::NodeId;

Status CheckParameter(const CompiledModel& cm, const std::string& id, const SymbolInfo* s) {
  if (s == nullptr) return InvalidArgument("sensitivity parameter '" + id + "': no such symbol in model '" + cm.model().id + "'");
  if (s->role == SymbolRole::kAssigned) {
    return InvalidArgument("sensitivity parameter '" + id +
                           "' is defined by an assignment rule or is a reaction: it has no declared value to vary");
  }
  if (s->role == SymbolRole::kAlgebraic) {
    return InvalidArgument("sensitivity parameter '" + id + "' is determined by an algebraic rule");
  }
  if (cm.model().FindInitialAssignment(id) != nullptr) {
    return InvalidArgument("sensitivity parameter '" + id +
                           "' has an initial assignment, which overrides its declared value: vary a symbol the "
                           "initial assignment reads instead");
  }
  return Status::Ok();
}

}  // namespace

Result<SensitivityProgram> CompiledModel::CompileSensitivities(const std::vector<std::string>& parameters,
                                                               const std::vector<OutputVariable>& outputs,
                                                               const SensitivityCompileOptions& options) const {
  const std::string where = "sensitivities of model '" + model_.id + "'";
  // Fast reactions: their species are algebraic variables (each moiety
  // keeps its value, each fast kinetic law is 0), so their sensitivities
  // come from the implicit function theorem like those of algebraic rules.
  // Stoichiometries that events change would change the moieties.
  if (!fast_reactions_.variable_stoichiometry.empty()) {
    return Unsupported(where + ": events change the stoichiometry of a fast reaction, which is not supported");
  }
  if (!delays_.empty()) return Unsupported(where + ": the model uses delay(), which is not supported");
  if (parameters.empty()) return InvalidArgument(where + ": no parameters given");

  SensitivityProgram sp;
  sp.num_slots = num_slots_;
  sp.num_states = num_states_;
  sp.num_outputs = outputs.size();
  std::unordered_set<std::string> seen;
  for (const std::string& id : parameters) {
    if (!seen.insert(id).second) return InvalidArgument(where + ": parameter '" + id + "' is given twice");
    const SymbolInfo* s = FindSymbol(id);
    SOMA_RETURN_IF_ERROR(CheckParameter(*this, id, s));
    sp.parameters.push_back(id);
    sp.parameter_slots.push_back(s->slot);
    sp.declared_values.push_back(declared_[s->slot]);
  }
  SOMA_ASSIGN_OR_RETURN(std::vector<NodeId> out_nodes, OutputNodes(outputs));

  // Derivatives add nodes. This model is immutable and shared between
  // threads, so they are built on a private copy of the graph (node ids stay
  // valid in the copy) rather than on a mutable graph behind a mutex.
  expr::Graph g = graph_;
  const size_t np = parameters.size();

  // Initial sensitivities; a slot is "live" when its sensitivity can be
  // nonzero: states, slots whose initial value depends on a parameter, and
  // event targets.
  std::vector<bool> live(num_slots_, false);
  for (size_t i = 0; i < num_states_; ++i) live[1 + i] = true;
  std::vector<NodeId> initial(initial_nodes_.size() * np);
  for (size_t i = 0; i < initial_nodes_.size(); ++i) sp.initial_slots.push_back(initial_nodes_[i].first);
  for (size_t k = 0; k < np; ++k) {
    for (size_t i = 0; i < initial_nodes_.size(); ++i) {
      NodeId d = g.Derivative(initial_nodes_[i].second, sp.parameter_slots[k]);
      initial[i + k * initial_nodes_.size()] = d;
      auto c = g.ConstantValue(d);
      if (!c || *c != 0.0) live[initial_nodes_[i].first] = true;
    }
  }
  sp.initial = expr::Program::Compile(g, initial);
  for (const CompiledEvent& ev : events_) {
    for (uint32_t t : ev.targets) live[t] = true;
  }
  for (uint32_t slot : sp.parameter_slots) live[slot] = true;
  std::vector<bool> algebraic(num_slots_, false);
  for (uint32_t z : algebraic_slots_) live[z] = algebraic[z] = true;
  // Initial values computed from an algebraic variable would need its
  // initial sensitivity before the algebraic system is solved. A moiety of
  // fast species is the exception: its initial node combines the species'
  // initial-value nodes over their declared values (ModelCompiler::
  // InitStored), so its derivatives are complete; so does the extent of a
  // fast reaction with a switch (used only while it is switched off, which
  // the run refuses: SensitivitySystem::UpdateAlgebraicSensitivities).
  for (size_t i = 0; i < initial_nodes_.size(); ++i) {
    if (!SlotRole(initial_nodes_[i].first).empty()) continue;
    for (uint32_t v : g.Variables(initial_nodes_[i].second)) {
      if (v < num_slots_ && algebraic[v] && initial_nodes_[i].first != v) {
        auto name_of = [this](uint32_t slot) {
          const SymbolInfo* s = SymbolAtSlot(slot);
          return s != nullptr ? s->id : "slot " + std::to_string(slot);
        };
        return Unsupported(where + ": the initial value of '" + name_of(initial_nodes_[i].first) +
                           "' is computed from '" + name_of(v) +
                           "', which an algebraic rule determines; not supported");
      }
    }
  }
  // An event with a delay executes at its trigger time plus the delay. With
  // a delay that does not change with time, the state or the parameters
  // (checked here), the execution time moves exactly as the trigger time
  // does: fixed, or by the same d tau / dp, where the run applies the
  // jump of a moving time at the execution too (sim/sensitivity.cpp).
  for (const CompiledEvent& ev : events_) {
    if (!ev.has_delay) continue;
    for (uint32_t v : g.Variables(ev.delay_node)) {
      if (v >= num_slots_ || (v != 0 && !live[v])) continue;
      auto c = g.ConstantValue(g.Derivative(ev.delay_node, v));
      if (c && *c == 0.0) continue;
      return Unsupported(where + ": the delay of event '" + ev.id +
                         "' changes with time, the state or the parameters; sensitivities across such events are "
                         "not supported");
    }
  }

  sp.continuous_switches = options.assume_continuous_switches;

  // floor, ceiling, quotient and rem jump where their argument crosses an
  // integer. The simulator needs no root for that (the step size control
  // steps over the jump), but where the argument follows the state, or time
  // scaled by a parameter, the jump's time moves with the parameters, and
  // the sensitivities would need a jump there that nothing finds. Refused,
  // naming the state whose rate contains it.
  {
    std::vector<bool> varied(num_slots_, false);
    for (uint32_t slot : sp.parameter_slots) varied[slot] = true;
    auto moving_jump = [&](NodeId id) -> const char* {  // "the state", "time scaled by a parameter" or null
      const expr::Node& node = g.node(id);
      if (node.op != GOp::kFloor && node.op != GOp::kCeil && node.op != GOp::kQuotient && node.op != GOp::kRem) {
        return nullptr;
      }
      bool on_state = false, on_time = false, on_parameter = false;
      for (NodeId arg : {node.a, node.b}) {
        for (uint32_t v : g.Variables(arg)) {
          on_time = on_time || v == 0;
          on_state = on_state || (v >= 1 && v <= num_states_);
          on_parameter = on_parameter || (v < num_slots_ && varied[v]);
        }
        if (node.arity < 2) break;
      }
      if (on_state) return "the state";
      return on_time && on_parameter ? "time scaled by a parameter" : nullptr;
    };
    // One pass over the whole right-hand side; the state is looked up only
    // for the message.
    for (NodeId id : g.TopologicalOrder(rhs_nodes_)) {
      const char* what = moving_jump(id);
      if (what == nullptr) continue;
      const GOp op = g.node(id).op;
      const char* name = op == GOp::kFloor ? "floor" : op == GOp::kCeil ? "ceiling" : op == GOp::kQuotient ? "quotient" : "rem";
      std::string state = "a state";
      for (size_t i = 0; i < rhs_nodes_.size() && state == "a state"; ++i) {
        for (NodeId n : g.TopologicalOrder(std::span<const NodeId>(&rhs_nodes_[i], 1))) {
          if (n == id) state = "'" + state_names_[i] + "'";
        }
      }
      return Unsupported(where + ": the rate of " + state + " contains " + name + "() of " + what +
                         ", which jumps at times that move with the parameters; sensitivities across such jumps are "
                         "not supported");
    }
  }

  // sum over live slots v read by f of (d f / d w_v) * s_v,k.
  // The live slots v that f reads with d f / d w_v, where that is not
  // identically 0, in the order of g.Variables(f).
  auto partials_of = [&](NodeId f) {
    std::vector<std::pair<uint32_t, NodeId>> out;
    for (uint32_t v : g.Variables(f)) {
      if (v == 0 || v >= num_slots_ || !live[v]) continue;
      NodeId d = g.Derivative(f, v);
      auto c = g.ConstantValue(d);
      if (c && *c == 0.0) continue;
      out.emplace_back(v, d);
    }
    return out;
  };
  auto propagate = [&](NodeId f, std::vector<NodeId>& out_k /* one per k */) {
    out_k.assign(np, g.Constant(0.0));
    for (const auto& [v, d] : partials_of(f)) {
      for (size_t k = 0; k < np; ++k) out_k[k] = g.Add(out_k[k], g.Mul(d, g.Variable(sp.SensitivitySlot(v, k))));
    }
  };
  if (!algebraic_slots_.empty()) {
    const size_t nz = algebraic_slots_.size();
    std::vector<NodeId> b(nz * np, g.Constant(0.0));
    for (size_t i = 0; i < nz; ++i) {
      for (const auto& [v, d] : partials_of(algebraic_residual_nodes_[i])) {
        if (algebraic[v]) continue;
        for (size_t k = 0; k < np; ++k) b[i + k * nz] = g.Add(b[i + k * nz], g.Mul(d, g.Variable(sp.SensitivitySlot(v, k))));
      }
    }
    sp.algebraic_slots = algebraic_slots_;
    sp.algebraic_rhs = expr::Program::Compile(g, b);
  }
  auto compile = [&](const std::vector<NodeId>& fs) {
    std::vector<NodeId> nodes(fs.size() * np);
    std::vector<NodeId> per_k;
    for (size_t i = 0; i < fs.size(); ++i) {
      propagate(fs[i], per_k);
      for (size_t k = 0; k < np; ++k) nodes[i + k * fs.size()] = per_k[k];
    }
    return expr::Program::Compile(g, nodes);
  };
  {
    // The states' sensitivity equations in product form
    // (SensitivityProgram::ProductRhs): the partial derivatives of f_i and
    // the columns of the sensitivities they multiply.
    std::vector<NodeId> partials;
    std::vector<int64_t> column_of(num_slots_, -1);
    sp.rhs_entry_begin.push_back(0);
    for (NodeId f : rhs_nodes_) {
      for (const auto& [v, d] : partials_of(f)) {
        partials.push_back(d);
        if (column_of[v] < 0) {
          column_of[v] = static_cast<int64_t>(sp.sensitivity_columns.size());
          sp.sensitivity_columns.push_back(v);
        }
        sp.rhs_entry_column.push_back(static_cast<uint32_t>(column_of[v]));
      }
      sp.rhs_entry_begin.push_back(static_cast<uint32_t>(partials.size()));
    }
    sp.rhs_partials = expr::Program::Compile(g, partials);
  }
  sp.outputs = compile(out_nodes);
  for (const CompiledEvent& ev : events_) sp.event_assignments.push_back(compile(ev.assignment_nodes));

  // d f / dt along the trajectory: d f / d time + sum over the states f reads
  // of d f / d y_i * f_i.
  auto rate = [&](NodeId f) {
    NodeId d = g.Derivative(f, 0);
    for (uint32_t v : g.Variables(f)) {
      if (v == 0 || v > num_states_) continue;
      NodeId dv = g.Derivative(f, v);
      auto c = g.ConstantValue(dv);
      if (c && *c == 0.0) continue;
      d = g.Add(d, g.Mul(dv, rhs_nodes_[v - 1]));
    }
    return d;
  };
  std::vector<NodeId> roots, root_rates;
  for (const Relation& r : relations_) {
    roots.push_back(r.root);
    root_rates.push_back(rate(r.root));
  }
  sp.num_relations = roots.size();
  sp.relation_sensitivities = compile(roots);
  sp.relation_rates = expr::Program::Compile(g, root_rates);
  for (const CompiledEvent& ev : events_) {
    std::vector<NodeId> rates;
    for (NodeId a : ev.assignment_nodes) rates.push_back(rate(a));
    sp.event_assignment_rates.push_back(expr::Program::Compile(g, rates));
  }
  return sp;
}

SensitivityProgram::ProductScratch SensitivityProgram::NewProductScratch() const {
  ProductScratch p;
  const size_t np = parameters.size();
  p.program = rhs_partials.NewScratch();
  p.partials.resize(rhs_partials.num_outputs());
  p.gathered.resize(sensitivity_columns.size() * np);
  p.sums.resize(num_states * np);
  return p;
}

namespace {

// The loops over parameters are also built for AVX2 where the CPU has it
// (no FMA: the same products and sums on both paths).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SOMA_SENS_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SOMA_SENS_CLONES
#endif

// sums[i * np + k] = sum over entries e of state i of d[e] * gathered[column[e] * np + k].
SOMA_SENS_CLONES void ProductSums(size_t n, size_t np, const uint32_t* begin, const uint32_t* column, const double* d,
                                  const double* gathered, double* sums) {
  for (size_t i = 0; i < n; ++i) {
    double* out = sums + i * np;
    const uint32_t b = begin[i], e = begin[i + 1];
    if (b == e) {
      for (size_t k = 0; k < np; ++k) out[k] = 0.0;
      continue;
    }
    const double* g = gathered + static_cast<size_t>(column[b]) * np;
    const double d0 = d[b];
    for (size_t k = 0; k < np; ++k) out[k] = d0 * g[k];
    for (uint32_t j = b + 1; j < e; ++j) {
      const double* gj = gathered + static_cast<size_t>(column[j]) * np;
      const double dj = d[j];
      for (size_t k = 0; k < np; ++k) out[k] += dj * gj[k];
    }
  }
}

}  // namespace

void SensitivityProgram::ProductRhs(const double* ws, const double* const* s, double* out,
                                    ProductScratch& scratch) const {
  const size_t n = num_states, np = parameters.size();
  rhs_partials.Run(ws, scratch.partials.data(), scratch.program.data());
  for (size_t c = 0; c < sensitivity_columns.size(); ++c) {
    const uint32_t v = sensitivity_columns[c];
    double* g = scratch.gathered.data() + c * np;
    if (v >= 1 && v <= n) {
      for (size_t k = 0; k < np; ++k) g[k] = s[k][v - 1];
    } else {
      for (size_t k = 0; k < np; ++k) g[k] = ws[SensitivitySlot(v, k)];
    }
  }
  ProductSums(n, np, rhs_entry_begin.data(), rhs_entry_column.data(), scratch.partials.data(),
              scratch.gathered.data(), scratch.sums.data());
  for (size_t k = 0; k < np; ++k)
    for (size_t i = 0; i < n; ++i) out[i + k * n] = scratch.sums[i * np + k];
}

}  // namespace soma::sim
