#pragma once
// Small helpers shared by the validation protocols of the bundled models:
// loading a bundled model, setting a parameter of a model IR, the
// |x - ref| <= abs + rel |ref| comparison, and simulating one model.

#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "sim/input_schedule.h"
#include "sim/options.h"

namespace soma::validation {

// models/<file> of the source tree.
std::filesystem::path BundledModel(const std::string& file);

// Imports an SBML file (comp flattened). Errors: those of the import.
Result<model::Model> LoadModel(const std::filesystem::path& path);

// Sets the value of parameter `id` (constant or not). Errors: kNotFound.
Status SetParameter(model::Model& model, const std::string& id, double value);
// The declared value of parameter `id`. Errors: kNotFound, or no value.
Result<double> ParameterValue(const model::Model& model, const std::string& id);

// |x - ref| <= abs + rel |ref|, the SBML Test Suite's rule.
inline bool Within(double x, double ref, double abs, double rel) {
  const double d = x > ref ? x - ref : ref - x;
  return d <= abs + rel * (ref < 0 ? -ref : ref);
}

// Applies `inputs` over [options.start, options.end] to a copy of `model`,
// compiles and simulates it with `outputs`.
Result<sim::SimulationResult> SimulateWith(const model::Model& model, const std::vector<sim::InputChange>& inputs,
                                           const sim::SimulationOptions& options,
                                           const std::vector<sim::OutputVariable>& outputs);

// Column index of `id` in a result (0 is time). Errors: kNotFound.
Result<size_t> Column(const sim::SimulationResult& r, const std::string& id);

}  // namespace soma::validation
