#include "cli/model_loading.h"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "formats/sbml/sbml_import.h"

namespace soma::cli {

Result<std::shared_ptr<const sim::CompiledModel>> LoadAndCompile(const std::string& path, LoadTimes* times) {
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  auto imported = formats::LoadSbmlFile(path);
  auto t1 = Clock::now();
  if (!imported.ok()) return imported.status().WithContext(path);
  for (const formats::Diagnostic& d : imported->diagnostics) {
    if (d.severity != formats::Severity::kInfo) std::cerr << "soma: " << path << ": " << d.ToString() << "\n";
  }
  auto compiled = sim::CompiledModel::Compile(imported->model);
  if (times != nullptr) {
    times->import_seconds = std::chrono::duration<double>(t1 - t0).count();
    times->compile_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  }
  if (!compiled.ok()) return compiled.status().WithContext(path);
  return compiled;
}

int ReportError(const Status& s) {
  std::cerr << "soma: " << s.ToString() << "\n";
  return 1;
}

}  // namespace soma::cli
