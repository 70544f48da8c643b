// `soma fba MODEL`: flux balance analysis of an SBML fbc model. Prints the
// reaction fluxes and the objective value as one row (CSV or JSON); the
// outcome (optimal, infeasible, unbounded) goes to standard error. A
// non-optimal outcome is a result, not an error: the row then holds NaN
// (objective +-inf when unbounded) and the exit code is still 0.

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_loading.h"
#include "cli/output.h"
#include "fba/flux_balance.h"
#include "formats/sbml/sbml_import.h"

namespace soma::cli {
namespace {

struct FbaArgs {
  std::string model;
  std::string objective;
  std::string format = "csv";
  std::string output;
};

std::string Number(double v) {
  std::string s;
  AppendCsvNumber(s, v);
  return s;
}

std::string FormatFbaCsv(const fba::FbaResult& r) {
  std::string header, row;
  for (size_t j = 0; j < r.reactions.size(); ++j) {
    header += r.reactions[j] + ",";
    row += Number(r.fluxes[j]) + ",";
  }
  return header + r.objective_id + "\n" + row + Number(r.objective_value) + "\n";
}

std::string FormatFbaJson(const fba::FbaResult& r) {
  // JSON has no NaN/Inf: they become null.
  auto value = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json fluxes = nlohmann::json::object();
  for (size_t j = 0; j < r.reactions.size(); ++j) fluxes[r.reactions[j]] = value(r.fluxes[j]);
  nlohmann::json j;
  j["status"] = fba::FbaStatusName(r.status());
  j["objective"] = {{"id", r.objective_id},
                    {"sense", r.sense == model::ObjectiveSense::kMaximize ? "maximize" : "minimize"},
                    {"value", value(r.objective_value)}};
  j["fluxes"] = std::move(fluxes);
  j["summary"] = {{"message", r.summary.message},
                  {"reactions", r.summary.reactions},
                  {"balanced_species", r.summary.balanced_species},
                  {"iterations", r.summary.iterations},
                  {"seconds", r.summary.seconds}};
  return j.dump(2) + "\n";
}

int RunFba(const FbaArgs& a) {
  auto imported = formats::LoadSbmlFile(a.model);
  if (!imported.ok()) return ReportError(imported.status().WithContext(a.model));
  for (const formats::Diagnostic& d : imported->diagnostics) {
    if (d.severity != formats::Severity::kInfo) std::cerr << "soma: " << a.model << ": " << d.ToString() << "\n";
  }
  fba::FbaOptions options;
  options.objective = a.objective;
  auto result = fba::SolveFluxBalance(imported->model, options);
  if (!result.ok()) return ReportError(result.status().WithContext(a.model));
  std::string text = a.format == "json" ? FormatFbaJson(*result) : FormatFbaCsv(*result);
  Status written = WriteOutput(a.output, text);
  if (!written.ok()) return ReportError(written);
  std::cerr << "soma: fba: " << result->summary.BriefReport() << "\n";
  return 0;
}

}  // namespace

void AddFbaCommand(CLI::App& app) {
  auto args = std::make_shared<FbaArgs>();
  CLI::App* cmd = app.add_subcommand(
      "fba", "Flux balance analysis of an SBML fbc model: one row of reaction fluxes and the objective value");
  cmd->add_option("model", args->model, "SBML file with the fbc package (Version 1 or 2)")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--objective", args->objective, "Objective id to optimise (default: the active objective)");
  cmd->add_option("--format", args->format, "csv or json")->capture_default_str()->check(CLI::IsMember({"csv", "json"}));
  cmd->add_option("-o,--output", args->output, "Write to this file instead of standard output");
  cmd->callback([args] { SetExitCode(RunFba(*args)); });
}

}  // namespace soma::cli
