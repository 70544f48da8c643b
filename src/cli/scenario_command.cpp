// `soma scenario run SCENARIO.json --model MODEL` and
// `soma scenario compare A.json B.json ... --model MODEL`: therapy scenarios
// (scenario/scenario.h) on one model, trajectories and outcome tables.

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/validators.h"
#include "cli/model_loading.h"
#include "cli/output.h"
#include "core/files.h"
#include "formats/sbml/sbml_import.h"
#include "scenario/scenario.h"

namespace soma::cli {
namespace {

struct ScenarioArgs {
  std::string model;
  std::vector<std::string> scenarios;
  std::string format = "csv";
  std::string output;
  double abs_tol = 1e-6;
  double rel_tol = 1e-6;
  bool summary = false;
};

Result<scenario::Scenario> ReadScenario(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status().WithContext("scenario");
  auto s = scenario::ParseScenarioText(*text);
  if (!s.ok()) return s.status().WithContext(path);
  return s;
}

Result<model::Model> ReadModel(const std::string& path) {
  auto imported = formats::LoadSbmlFile(path);
  if (!imported.ok()) return imported.status().WithContext(path);
  return std::move(imported->model);
}

sim::SimulationOptions Accuracy(const ScenarioArgs& a) {
  sim::SimulationOptions o;
  o.integrator = sim::IntegratorOptionsForAccuracy(a.abs_tol, a.rel_tol);
  return o;
}

std::string Number(double v) {
  if (!std::isfinite(v)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

int RunScenarioCommand(const ScenarioArgs& a) {
  auto model = ReadModel(a.model);
  if (!model.ok()) return ReportError(model.status());
  auto s = ReadScenario(a.scenarios[0]);
  if (!s.ok()) return ReportError(s.status());
  auto run = scenario::RunScenario(*s, *model, Accuracy(a));
  if (!run.ok()) return ReportError(run.status());
  std::string text = a.format == "json" ? scenario::ToJson(*run).dump(1) + "\n" : FormatCsv(run->trajectory);
  Status written = WriteOutput(a.output, text);
  if (!written.ok()) return ReportError(written);
  if (a.format == "csv") {
    for (const auto& [name, v] : run->outcomes) std::cerr << "outcome " << name << " = " << Number(v) << "\n";
  }
  if (a.summary) std::cerr << run->trajectory.summary.FullReport();
  return 0;
}

int RunCompare(const ScenarioArgs& a) {
  auto model = ReadModel(a.model);
  if (!model.ok()) return ReportError(model.status());
  std::vector<scenario::ScenarioRun> runs;
  for (const std::string& path : a.scenarios) {
    auto s = ReadScenario(path);
    if (!s.ok()) return ReportError(s.status());
    auto run = scenario::RunScenario(*s, *model, Accuracy(a));
    if (!run.ok()) return ReportError(run.status());
    runs.push_back(std::move(*run));
  }
  // Outcomes in the first scenario's order; a scenario lacking one shows n/a.
  std::vector<std::string> names;
  for (const auto& run : runs) {
    for (const auto& [n, v] : run.outcomes) {
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
  }
  auto value = [](const scenario::ScenarioRun& run, const std::string& n) {
    for (const auto& [m, v] : run.outcomes) {
      if (m == n) return v;
    }
    return std::nan("");
  };
  std::string text;
  if (a.format == "json") {
    nlohmann::json j = {{"baseline", runs[0].name}, {"scenarios", nlohmann::json::array()}};
    for (const auto& run : runs) {
      nlohmann::json o = nlohmann::json::object(), d = nlohmann::json::object();
      for (const std::string& n : names) {
        double v = value(run, n), b = value(runs[0], n);
        o[n] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
        d[n] = std::isfinite(v - b) ? nlohmann::json(v - b) : nlohmann::json(nullptr);
      }
      j["scenarios"].push_back({{"name", run.name}, {"outcomes", o}, {"difference_from_baseline", d}});
    }
    text = j.dump(1) + "\n";
  } else {
    // outcome,<s1>,<s2>,<s2 - s1>,...
    text = "outcome";
    for (size_t i = 0; i < runs.size(); ++i) {
      text += "," + runs[i].name;
      if (i > 0) text += "," + runs[i].name + " - " + runs[0].name;
    }
    text += "\n";
    for (const std::string& n : names) {
      text += n;
      for (size_t i = 0; i < runs.size(); ++i) {
        text += "," + Number(value(runs[i], n));
        if (i > 0) text += "," + Number(value(runs[i], n) - value(runs[0], n));
      }
      text += "\n";
    }
  }
  Status written = WriteOutput(a.output, text);
  if (!written.ok()) return ReportError(written);
  return 0;
}

void AddCommon(CLI::App* cmd, ScenarioArgs* args) {
  cmd->add_option("--model", args->model, "SBML model the scenario runs on")->required()->check(CLI::ExistingFile);
  cmd->add_option("--abs", args->abs_tol, "Absolute accuracy wanted")->capture_default_str()->check(Positive());
  cmd->add_option("--rel", args->rel_tol, "Relative accuracy wanted")->capture_default_str()->check(Positive());
  cmd->add_option("-o,--output", args->output, "Write to this file instead of standard output");
}

}  // namespace

void AddScenarioCommand(CLI::App& app) {
  CLI::App* group = app.add_subcommand("scenario", "Therapy scenarios: interventions over time on a model");
  group->require_subcommand(1);
  auto run_args = std::make_shared<ScenarioArgs>();
  CLI::App* run = group->add_subcommand("run", "Run one scenario; trajectory to stdout (CSV) and outcomes to stderr, or all as JSON");
  run->add_option("scenario", run_args->scenarios, "Scenario JSON (docs/scenarios.md)")->required()->expected(1)
      ->check(CLI::ExistingFile);
  run->add_option("--format", run_args->format, "csv or json")->capture_default_str()->check(CLI::IsMember({"csv", "json"}));
  AddCommon(run, run_args.get());
  run->add_flag("--summary", run_args->summary,
                "Print the simulation summary (steps, evaluations, events, restarts, method switches) to stderr");
  run->callback([run_args] { SetExitCode(RunScenarioCommand(*run_args)); });

  auto cmp_args = std::make_shared<ScenarioArgs>();
  cmp_args->format = "table";
  CLI::App* cmp = group->add_subcommand("compare", "Run scenarios side by side; outcome table with differences from the first");
  cmp->add_option("scenarios", cmp_args->scenarios, "Scenario JSON files; the first is the baseline")->required()
      ->check(CLI::ExistingFile);
  cmp->add_option("--format", cmp_args->format, "table (CSV) or json")->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));
  AddCommon(cmp, cmp_args.get());
  cmp->callback([cmp_args] { SetExitCode(RunCompare(*cmp_args)); });
}

}  // namespace soma::cli
