// `soma steady-state MODEL`: one header line of variable ids and one row of
// their values at the steady state (the columns of `simulate` without time);
// how it was found (method, largest rate, stability) goes to stderr.

#include <CLI/CLI.hpp>

#include <cmath>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/validators.h"
#include "cli/model_loading.h"
#include "cli/output.h"
#include "sim/steady_state.h"

namespace soma::cli {

namespace {

struct SteadyStateArgs {
  std::string model;
  std::vector<std::string> vars, amount, concentration;
  double abs_tol = 1e-9;
  double rel_tol = 1e-6;
  std::string method = "auto";
  double max_time = 1e9;
  std::string format = "csv";
  std::string output;
  bool summary = false;
};

nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string FormatSteadyStateJson(const sim::SteadyStateResult& r) {
  nlohmann::json j;
  j["columns"] = r.ids;
  nlohmann::json values = nlohmann::json::array();
  for (double v : r.values) values.push_back(Number(v));
  j["values"] = std::move(values);
  const sim::SteadyStateSummary& s = r.summary;
  j["summary"] = {{"method", std::string(sim::RouteName(s.route))},
                  {"newton_rejected", s.newton_rejected},
                  {"newton_iterations", s.newton.iterations},
                  {"integrator_steps", s.integrator.steps},
                  {"integrated_time", s.integrated_time},
                  {"time", s.time},
                  {"max_rate", Number(s.max_rate)},
                  {"max_scaled_rate", Number(s.max_scaled_rate)},
                  {"stability", s.stability.Describe()},
                  {"max_real_eigenvalue", Number(s.stability.max_real_part)},
                  {"zero_eigenvalues", s.stability.zero_eigenvalues},
                  {"seconds", s.seconds}};
  return j.dump(1) + "\n";
}

int RunSteadyState(const SteadyStateArgs& a) {
  auto compiled = LoadAndCompile(a.model);
  if (!compiled.ok()) return ReportError(compiled.status());
  sim::SteadyStateOptions opt;
  opt.abs_tol = a.abs_tol;
  opt.rel_tol = a.rel_tol;
  opt.max_time = a.max_time;
  opt.method = a.method == "newton"        ? sim::SteadyStateMethod::kNewton
               : a.method == "integration" ? sim::SteadyStateMethod::kIntegration
                                           : sim::SteadyStateMethod::kAuto;
  auto result = sim::FindSteadyState(**compiled, opt, OutputVariables(a.vars, a.amount, a.concentration));
  if (!result.ok()) return ReportError(result.status().WithContext(a.model));
  std::string text;
  if (a.format == "json") {
    text = FormatSteadyStateJson(*result);
  } else {
    sim::SimulationResult table;  // one row, no time column
    table.columns = result->ids;
    table.values = result->values;
    table.rows = 1;
    text = FormatCsv(table);
  }
  Status written = WriteOutput(a.output, text);
  if (!written.ok()) return ReportError(written);
  if (a.summary) {
    std::cerr << result->summary.FullReport();
  } else {
    std::cerr << "soma: steady state by " << result->summary.BriefReport() << "\n";
  }
  return 0;
}

}  // namespace

void AddSteadyStateCommand(CLI::App& app) {
  auto args = std::make_shared<SteadyStateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "steady-state", "Find a steady state (Newton, else integration until the rates vanish); events are ignored");
  cmd->add_option("model", args->model, "SBML file (Level 1-3, comp flattened)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--vars", args->vars,
                  "Columns: species, compartments, parameters, species references, reactions (= rate); "
                  "default every species and every non-constant compartment and parameter")->delimiter(',');
  cmd->add_option("--amount", args->amount, "Species reported as amounts")->delimiter(',');
  cmd->add_option("--concentration", args->concentration, "Species reported as concentrations")->delimiter(',');
  cmd->add_option("--abs", args->abs_tol, "Converged when |dy/dt| <= abs + rel |y| for every state")
      ->capture_default_str()->check(Positive());
  cmd->add_option("--rel", args->rel_tol, "See --abs (per model time unit)")->capture_default_str()
      ->check(Positive());
  cmd->add_option("--method", args->method, "auto (Newton, else integration), newton or integration")
      ->capture_default_str()->check(CLI::IsMember({"auto", "newton", "integration"}));
  cmd->add_option("--max-time", args->max_time, "Model time after which integration gives up")
      ->capture_default_str()->check(Positive());
  cmd->add_option("--format", args->format, "csv or json")->capture_default_str()->check(CLI::IsMember({"csv", "json"}));
  cmd->add_option("-o,--output", args->output, "Write to this file instead of standard output");
  cmd->add_flag("--summary", args->summary, "Print the full steady-state summary to standard error");
  cmd->callback([args] { SetExitCode(RunSteadyState(*args)); });
}

}  // namespace soma::cli
