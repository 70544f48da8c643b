#include "cli/model_loading.h"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "formats/sbml/sbml_import.h"

namespace soma::cli {

Result<std::shared_ptr<const sim::CompiledModel>> LoadAndCompile(const std::string& path, LoadTimes* times,
                                                                 const sim::CompileOptions& options) {
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  auto imported = formats::LoadSbmlFile(path);
  auto t1 = Clock::now();
  if (!imported.ok()) return imported.status().WithContext(path);
  for (const formats::Diagnostic& d : imported->diagnostics) {
    if (d.severity != formats::Severity::kInfo) std::cerr << "soma: " << path << ": " << d.ToString() << "\n";
  }
  auto compiled = sim::CompiledModel::Compile(imported->model, options);
  if (times != nullptr) {
    times->import_seconds = std::chrono::duration<double>(t1 - t0).count();
    times->compile_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  }
  if (!compiled.ok()) return compiled.status().WithContext(path);
  return compiled;
}

std::vector<sim::OutputVariable> OutputVariables(const std::vector<std::string>& vars,
                                                 const std::vector<std::string>& amount,
                                                 const std::vector<std::string>& concentration) {
  std::vector<sim::OutputVariable> out;
  auto set = [&](const std::string& id, sim::SpeciesQuantity q) {
    for (auto& v : out) {
      if (v.id == id) {
        if (q != sim::SpeciesQuantity::kDefault) v.quantity = q;
        return;
      }
    }
    out.push_back({id, q});
  };
  for (const std::string& id : vars) set(id, sim::SpeciesQuantity::kDefault);
  for (const std::string& id : amount) set(id, sim::SpeciesQuantity::kAmount);
  for (const std::string& id : concentration) set(id, sim::SpeciesQuantity::kConcentration);
  return out;
}

int ReportError(const Status& s) {
  std::cerr << "soma: " << s.ToString() << "\n";
  return 1;
}

}  // namespace soma::cli
