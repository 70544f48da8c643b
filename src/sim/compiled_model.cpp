#include "sim/compiled_model.h"

#include <cmath>

namespace soma::sim {

const SymbolInfo* CompiledModel::FindSymbol(std::string_view id) const {
  auto it = symbol_index_.find(std::string(id));
  return it == symbol_index_.end() ? nullptr : &symbols_[it->second];
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

}  // namespace soma::sim
