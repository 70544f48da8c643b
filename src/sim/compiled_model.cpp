#include "sim/compiled_model.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace soma::sim {

const SymbolInfo* CompiledModel::FindSymbol(std::string_view id) const {
  auto it = symbol_index_.find(std::string(id));
  return it == symbol_index_.end() ? nullptr : &symbols_[it->second];
}

const SymbolInfo* CompiledModel::SymbolAtSlot(uint32_t slot) const {
  if (slot >= slot_symbol_.size() || slot_symbol_[slot] < 0) return nullptr;
  return &symbols_[static_cast<size_t>(slot_symbol_[slot])];
}

std::vector<double> CompiledModel::InitialWorkspace(
    double t0, const std::vector<std::pair<uint32_t, double>>& overrides) const {
  std::vector<double> in, values, scratch;
  InitialWorkspaceInto(t0, overrides, in, values, scratch);
  return in;
}

void CompiledModel::InitialWorkspaceInto(double t0, const std::vector<std::pair<uint32_t, double>>& overrides,
                                         std::vector<double>& in, std::vector<double>& values,
                                         std::vector<double>& scratch) const {
  in.assign(declared_.begin(), declared_.end());
  in[0] = t0;
  for (const auto& [slot, value] : overrides) in[slot] = value;
  values.resize(initial_.num_outputs());
  if (scratch.empty()) scratch = initial_.NewScratch();
  initial_.Run(in.data(), values.data(), scratch.data());
  for (size_t i = 0; i < initial_nodes_.size(); ++i) in[initial_nodes_[i].first] = values[i];
}

Status CompiledModel::CheckInitialState(const std::vector<double>& in) const {
  for (const SymbolInfo& s : symbols_) {
    if (s.role == SymbolRole::kState && !std::isfinite(in[s.slot])) {
      return InvalidModel("the initial value of '" + s.id + "' is " + std::to_string(in[s.slot]) +
                          ": give it a value, an initial assignment or an assignment rule");
    }
  }
  return Status::Ok();
}

Result<std::vector<std::pair<uint32_t, double>>> CompiledModel::ResolveOverrides(
    const std::vector<std::pair<std::string, double>>& overrides) const {
  std::vector<std::pair<uint32_t, double>> slots;
  slots.reserve(overrides.size());
  for (const auto& [id, value] : overrides) {
    const SymbolInfo* s = FindSymbol(id);
    if (s == nullptr) return NotFound("override of '" + id + "': no such symbol in model '" + model_.id + "'");
    const std::string what = "override of '" + id + "': ";
    if (s->role == SymbolRole::kAssigned || model_.FindRuleFor(id) != nullptr) {
      return InvalidArgument(what + "its value is defined by a rule");
    }
    if (model_.FindInitialAssignment(id) != nullptr) {
      return InvalidArgument(what + "its initial value is defined by an initial assignment");
    }
    switch (s->kind) {
      case model::SymbolKind::kParameter:
      case model::SymbolKind::kCompartment:
      case model::SymbolKind::kSpeciesReference:
        break;
      case model::SymbolKind::kSpecies: {
        const model::Species* sp = model_.FindSpecies(id);
        if (sp == nullptr || (!sp->initial_amount && !sp->initial_concentration)) {
          return InvalidArgument(what + "the species declares no initial amount or concentration to replace");
        }
        break;
      }
      default:
        return InvalidArgument(what + "only parameters, compartments, species and species references have values");
    }
    slots.push_back({s->slot, value});
  }
  return slots;
}

std::vector<double> CompiledModel::TimePoints(const double* workspace) const {
  std::vector<double> points(scheduled_relations_.size());
  if (points.empty()) return points;
  std::vector<double> scratch = time_points_.NewScratch();
  time_points_.Run(workspace, points.data(), scratch.data());
  // -offset / slope may round to a time just before the root reaches zero;
  // the root itself decides: move up by single bits until it has (a few at
  // most; the limit only guards against a root that rounding keeps off zero).
  std::vector<double> in(workspace, workspace + num_slots_);
  std::vector<double> roots(relations_.size());
  std::vector<double> roots_scratch = roots_.NewScratch();
  for (size_t i = 0; i < points.size(); ++i) {
    const int direction = relations_[scheduled_relations_[i]].time_direction;
    for (int bit = 0; bit < 64 && std::isfinite(points[i]); ++bit) {
      in[0] = points[i];
      roots_.Run(in.data(), roots.data(), roots_scratch.data());
      if (!(direction * roots[scheduled_relations_[i]] < 0.0)) break;
      points[i] = std::nextafter(points[i], std::numeric_limits<double>::infinity());
    }
  }
  return points;
}

Result<std::vector<double>> CompiledModel::StartWorkspace(const SimulationOptions& options) const {
  SOMA_ASSIGN_OR_RETURN(auto slots, ResolveOverrides(options.overrides));
  std::vector<double> in = InitialWorkspace(options.start, slots);
  if (!options.initial_state.empty()) {
    if (options.initial_state.size() != num_states_) {
      return InvalidArgument("initial_state has " + std::to_string(options.initial_state.size()) +
                             " values; model '" + model_.id + "' has " + std::to_string(num_states_) + " states");
    }
    std::copy(options.initial_state.begin(), options.initial_state.end(), in.begin() + 1);
  }
  SOMA_RETURN_IF_ERROR(CheckInitialState(in));
  return in;
}

std::vector<double> CompiledModel::DeclaredWorkspace(double t0) const {
  std::vector<double> in = declared_;
  in[0] = t0;
  return in;
}

Result<expr::Program> CompiledModel::CompileOutputs(const std::vector<OutputVariable>& vars) const {
  SOMA_ASSIGN_OR_RETURN(std::vector<expr::NodeId> nodes, OutputNodes(vars));
  return expr::Program::Compile(graph_, nodes);
}

Result<std::vector<expr::NodeId>> CompiledModel::OutputNodes(const std::vector<OutputVariable>& vars) const {
  std::vector<expr::NodeId> nodes;
  for (const OutputVariable& v : vars) {
    const SymbolInfo* s = FindSymbol(v.id);
    if (s == nullptr) return NotFound("no symbol '" + v.id + "' in model '" + model_.id + "'");
    if (v.quantity != SpeciesQuantity::kDefault && s->kind != model::SymbolKind::kSpecies) {
      return InvalidArgument("'" + v.id + "' is not a species: it has no amount or concentration");
    }
    switch (v.quantity) {
      case SpeciesQuantity::kDefault: nodes.push_back(s->value); break;
      case SpeciesQuantity::kAmount: nodes.push_back(s->amount); break;
      case SpeciesQuantity::kConcentration: nodes.push_back(s->concentration); break;
    }
  }
  return nodes;
}

std::vector<OutputVariable> CompiledModel::DefaultOutputs() const {
  std::vector<OutputVariable> out;
  for (const auto& sp : model_.species) out.push_back({sp.id, SpeciesQuantity::kDefault});
  auto varies = [&](const std::string& id, bool constant) {
    const SymbolInfo* s = FindSymbol(id);
    return !constant || (s != nullptr && s->role != SymbolRole::kDiscrete);
  };
  for (const auto& c : model_.compartments) {
    if (varies(c.id, c.constant)) out.push_back({c.id, SpeciesQuantity::kDefault});
  }
  for (const auto& p : model_.parameters) {
    if (varies(p.id, p.constant)) out.push_back({p.id, SpeciesQuantity::kDefault});
  }
  return out;
}

std::string CompiledModel::SlotRole(uint32_t slot) const {
  for (const auto& m : fast_reactions_.moieties) {
    if (m.slot == slot) return "a conserved total of the species of fast reactions";
  }
  for (const auto& sw : fast_reactions_.switches) {
    if (sw.extent_slot == slot) {
      return "the extent of fast reaction '" + fast_reactions_.reaction_ids[sw.reaction] + "' while it is switched off";
    }
  }
  return {};
}

std::string CompiledModel::DescribeState(size_t i) const {
  std::string role = SlotRole(static_cast<uint32_t>(i + 1));
  return "'" + state_names_[i] + "'" + (role.empty() ? std::string() : " (" + role + ")");
}

}  // namespace soma::sim
