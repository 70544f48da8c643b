#include "model_util.h"

#include "formats/sbml/sbml_import.h"
#include "sim/compiled_model.h"
#include "sim/simulator.h"

namespace soma::validation {

std::filesystem::path BundledModel(const std::string& file) {
  return std::filesystem::path(SOMA_SOURCE_DIR) / "models" / file;
}

Result<model::Model> LoadModel(const std::filesystem::path& path) {
  auto imported = formats::LoadSbmlFile(path);
  if (!imported.ok()) return imported.status();
  return std::move(imported->model);
}

Status SetParameter(model::Model& model, const std::string& id, double value) {
  for (model::Parameter& p : model.parameters) {
    if (p.id == id) {
      p.value = value;
      return Status::Ok();
    }
  }
  return NotFound("no parameter '" + id + "' in model '" + model.id + "'");
}

Result<double> ParameterValue(const model::Model& model, const std::string& id) {
  for (const model::Parameter& p : model.parameters) {
    if (p.id == id) {
      if (!p.value) return NotFound("parameter '" + id + "' has no declared value");
      return *p.value;
    }
  }
  return NotFound("no parameter '" + id + "' in model '" + model.id + "'");
}

Result<sim::SimulationResult> SimulateWith(const model::Model& model, const std::vector<sim::InputChange>& inputs,
                                           const sim::SimulationOptions& options,
                                           const std::vector<sim::OutputVariable>& outputs) {
  model::Model m = model;
  if (!inputs.empty()) {
    Status s = sim::ApplyInputSchedule(inputs, {options.start, options.end}, m);
    if (!s.ok()) return s;
  }
  auto compiled = sim::CompiledModel::Compile(m);
  if (!compiled.ok()) return compiled.status();
  return sim::Simulator(*compiled).Simulate(options, outputs);
}

Result<size_t> Column(const sim::SimulationResult& r, const std::string& id) {
  for (size_t i = 0; i < r.columns.size(); ++i) {
    if (r.columns[i] == id) return i;
  }
  return NotFound("no column '" + id + "'");
}

}  // namespace soma::validation
