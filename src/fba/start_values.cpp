#include "fba/start_values.h"

#include <cmath>

#include "sim/compiled_model.h"

namespace soma::fba::internal {
namespace {

// True when the declared value of `id` is not its value at the start.
bool DefinedByMath(const model::Model& m, const std::string& id) {
  if (m.FindInitialAssignment(id) != nullptr || m.FindRuleFor(id) != nullptr) return true;
  if (const model::Parameter* p = m.FindParameter(id)) return !p->value.has_value();
  if (const model::SpeciesReference* sr = m.FindSpeciesReference(id)) return sr->stoichiometry_math.has_value();
  return false;
}

Result<std::vector<double>> Evaluate(const model::Model& m, const std::vector<std::string>& ids) {
  auto compiled = sim::CompiledModel::Compile(m);
  if (!compiled.ok()) return compiled.status().WithContext("evaluating initial values for flux balance analysis");
  std::vector<sim::OutputVariable> vars;
  for (const std::string& id : ids) vars.push_back({id, sim::SpeciesQuantity::kDefault});
  SOMA_ASSIGN_OR_RETURN(expr::Program program, (*compiled)->CompileOutputs(vars));
  std::vector<double> in = (*compiled)->InitialWorkspace(0.0);
  in.resize(std::max(in.size(), program.num_inputs()), NAN);
  std::vector<double> scratch = program.NewScratch();
  std::vector<double> out(ids.size(), NAN);
  program.Run(in.data(), out.data(), scratch.data());
  return out;
}

}  // namespace

Result<std::unordered_map<std::string, double>> StartValues(const model::Model& m,
                                                           const std::vector<std::string>& ids) {
  bool evaluate = false;
  for (const std::string& id : ids) {
    if (m.FindParameter(id) == nullptr && m.FindSpeciesReference(id) == nullptr) {
      return InvalidModel("'" + id + "' is not a parameter or species reference");
    }
    evaluate = evaluate || DefinedByMath(m, id);
  }
  std::vector<double> values(ids.size(), NAN);
  if (evaluate) {
    SOMA_ASSIGN_OR_RETURN(values, Evaluate(m, ids));
  } else {
    for (size_t i = 0; i < ids.size(); ++i) {
      if (const model::Parameter* p = m.FindParameter(ids[i])) {
        values[i] = *p->value;
      } else {
        values[i] = m.FindSpeciesReference(ids[i])->stoichiometry;
      }
    }
  }
  std::unordered_map<std::string, double> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (std::isnan(values[i])) return InvalidModel("'" + ids[i] + "' has no value at the start");
    out[ids[i]] = values[i];
  }
  return out;
}

}  // namespace soma::fba::internal
