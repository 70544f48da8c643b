// `soma sensitivities`: a time course with d(output)/d(parameter) columns.

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/validators.h"
#include "cli/model_loading.h"
#include "cli/output.h"
#include "sim/sensitivity.h"

namespace soma::cli {

namespace {

struct SensitivityArgs {
  std::string model;
  std::vector<std::string> params, vars;
  double start = 0.0;
  double end = 10.0;
  int steps = 100;
  double abs_tol = 1e-12;
  double rel_tol = 1e-6;
  std::string method = "staggered";
  std::string format = "csv";
  std::string output;
  bool summary = false;
  bool continuous_switches = false;
};

int RunSensitivities(const SensitivityArgs& a) {
  auto compiled = LoadAndCompile(a.model);
  if (!compiled.ok()) return ReportError(compiled.status());
  sim::SimulationOptions opt;
  opt.start = a.start;
  opt.end = a.end;
  opt.steps = a.steps;
  opt.integrator = sim::IntegratorOptionsForAccuracy(a.abs_tol, a.rel_tol);
  const std::vector<sim::OutputVariable> outputs = OutputVariables(a.vars, {}, {});
  solvers::SensitivityOptions so;
  so.method = a.method == "simultaneous" ? solvers::SensitivityMethod::kSimultaneous
                                         : solvers::SensitivityMethod::kStaggered;
  sim::SensitivityCompileOptions compile;
  compile.assume_continuous_switches = a.continuous_switches;
  auto plan = sim::PlanSensitivities(*compiled, outputs, a.params, compile);
  if (!plan.ok()) return ReportError(plan.status().WithContext(a.model));
  auto result = sim::SimulateWithSensitivities(**plan, opt, so);
  if (!result.ok()) return ReportError(result.status().WithContext(a.model));
  sim::SimulationResult table = result->Table();
  std::string text = a.format == "json" ? FormatJson(table) : FormatCsv(table);
  Status written = WriteOutput(a.output, text);
  if (!written.ok()) return ReportError(written);
  if (a.summary) {
    std::cerr << result->trajectory.summary.FullReport() << "  sensitivity rhs evaluations    "
              << result->sensitivity_rhs_evaluations << "\n";
  }
  return 0;
}

}  // namespace

void AddSensitivityCommand(CLI::App& app) {
  auto args = std::make_shared<SensitivityArgs>();
  CLI::App* cmd = app.add_subcommand(
      "sensitivities", "Time course with forward sensitivities: columns time, outputs, then d<output>/d<param>");
  cmd->add_option("model", args->model, "SBML file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--params", args->params,
                  "Parameters: declared values of parameters, compartments, species (initial values), "
                  "reaction-local parameters as reaction.local")
      ->required()->delimiter(',');
  cmd->add_option("--vars", args->vars, "Output symbols; default every species")->delimiter(',');
  cmd->add_option("--start", args->start, "Model time of the first row")->capture_default_str();
  cmd->add_option("--end", args->end, "Model time of the last row")->capture_default_str();
  cmd->add_option("--steps", args->steps, "Number of intervals; steps + 1 rows")
      ->capture_default_str()->check(Positive());
  cmd->add_option("--abs", args->abs_tol, "Absolute accuracy wanted in the output")->capture_default_str()
      ->check(Positive());
  cmd->add_option("--rel", args->rel_tol, "Relative accuracy wanted in the output")->capture_default_str()
      ->check(Positive());
  cmd->add_flag("--assume-continuous-switches", args->continuous_switches,
                "Assert that the right-hand side is continuous where it switches on a state crossing a "
                "threshold (e.g. max(x, 0)), so the sensitivities skip the jump (f- - f+) dtau/dp there; "
                "without it the jump is computed at each crossing");
  cmd->add_option("--method", args->method, "CVODES sensitivity corrector: staggered or simultaneous")
      ->capture_default_str()->check(CLI::IsMember({"staggered", "simultaneous"}));
  cmd->add_option("--format", args->format, "csv or json")->capture_default_str()->check(CLI::IsMember({"csv", "json"}));
  cmd->add_option("-o,--output", args->output, "Write to this file instead of standard output");
  cmd->add_flag("--summary", args->summary, "Print the simulation summary to standard error");
  cmd->callback([args] { SetExitCode(RunSensitivities(*args)); });
}

}  // namespace soma::cli
