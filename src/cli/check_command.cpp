#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "formats/sbml/sbml_import.h"
#include "sim/compiled_model.h"

namespace soma::cli {

namespace {

struct CheckArgs {
  std::string model;
  bool json = false;
};

int RunCheck(const CheckArgs& a) {
  formats::SbmlCheckReport report = formats::CheckSbmlFile(a.model);
  // Beyond validity: can Soma simulate it? Unsupported constructs are named.
  std::string simulation = "ok";
  bool simulable = report.errors == 0;
  if (simulable) {
    auto imported = formats::LoadSbmlFile(a.model);
    Status s = imported.ok() ? sim::CompiledModel::Compile(imported->model).status() : imported.status();
    if (!s.ok()) {
      simulable = false;
      simulation = s.ToString();
    }
  } else {
    simulation = "not attempted: the document has errors";
  }
  if (a.json) {
    nlohmann::json j;
    j["file"] = a.model;
    j["errors"] = report.errors;
    j["warnings"] = report.warnings;
    j["simulation"] = simulation;
    j["diagnostics"] = nlohmann::json::array();
    for (const auto& d : report.diagnostics) {
      j["diagnostics"].push_back({{"severity", std::string(formats::SeverityName(d.severity))},
                                  {"line", d.line},
                                  {"column", d.column},
                                  {"category", d.category},
                                  {"message", d.message}});
    }
    std::cout << j.dump(1) << "\n";
  } else {
    for (const auto& d : report.diagnostics) std::cout << a.model << ":" << d.ToString() << "\n";
    std::cout << a.model << ": " << report.errors << " error(s), " << report.warnings
              << " warning(s); simulation: " << simulation << "\n";
  }
  return report.errors == 0 && simulable ? 0 : 1;
}

}  // namespace

void AddCheckCommand(CLI::App& app) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* cmd = app.add_subcommand("check", "Validate an SBML model (libSBML checks, units) and report what Soma cannot simulate");
  cmd->add_option("model", args->model, "SBML file")->required()->check(CLI::ExistingFile);
  cmd->add_flag("--json", args->json, "Machine-readable report");
  cmd->callback([args] { SetExitCode(RunCheck(*args)); });
}

}  // namespace soma::cli
