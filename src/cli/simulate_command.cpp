#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/validators.h"
#include "cli/model_loading.h"
#include "cli/output.h"
#include "expr/jit.h"
#include "sim/simulator.h"

namespace soma::cli {

namespace {

int g_exit_code = 0;

struct SimulateArgs {
  std::string model;
  double start = 0.0;
  double end = 10.0;
  int steps = 100;
  std::vector<std::string> vars, amount, concentration;
  double abs_tol = 1e-12;
  double rel_tol = 1e-6;
  std::string method = "auto";
  std::string linear_solver = "auto";
  std::string format = "csv";
  std::string output;
  bool summary = false;
  bool native_code = false;
};

int RunSimulate(const SimulateArgs& a) {
  LoadTimes times;
  if (a.native_code && !expr::JitAvailable()) {
    std::cerr << "soma: warning: --native-code: this build has no LLVM JIT; the model is interpreted\n";
  }
  auto compiled = LoadAndCompile(a.model, &times, {.native_code = a.native_code});
  if (!compiled.ok()) return ReportError(compiled.status());
  sim::SimulationOptions opt;
  opt.start = a.start;
  opt.end = a.end;
  opt.steps = a.steps;
  opt.integrator = sim::IntegratorOptionsForAccuracy(a.abs_tol, a.rel_tol);
  auto method = sim::ParseOdeMethod(a.method);
  if (!method.ok()) return ReportError(method.status());
  opt.integrator.method = *method;
  opt.integrator.linear_solver = a.linear_solver == "dense"    ? solvers::LinearSolverKind::kDense
                                 : a.linear_solver == "sparse" ? solvers::LinearSolverKind::kSparse
                                                               : solvers::LinearSolverKind::kAuto;
  sim::Simulator simulator(*compiled);
  auto result = simulator.Simulate(opt, OutputVariables(a.vars, a.amount, a.concentration));
  if (!result.ok()) return ReportError(result.status().WithContext(a.model));
  std::string text = a.format == "json" ? FormatJson(*result) : FormatCsv(*result);
  Status written = WriteOutput(a.output, text);
  if (!written.ok()) return ReportError(written);
  if (a.summary) {
    // Modules of machine code LLVM compiled, and taken from the on-disk cache (expr/jit.h).
    const expr::NativeCodeCounts modules = expr::NativeCodeCount();
    std::cerr << "  SBML import time (s)           " << times.import_seconds << "\n"
              << "  compile time (s)               " << times.compile_seconds << "\n"
              << "  expression evaluation          "
              << ((*compiled)->native_code()
                      ? "native code (LLVM; modules compiled: " + std::to_string(modules.compiled) +
                            ", from the cache: " + std::to_string(modules.from_cache) + ")"
                      : std::string("bytecode interpreter"))
              << "\n"
              << result->summary.FullReport();
  }
  for (const std::string& v : result->summary.constraint_violations) {
    if (!a.summary) std::cerr << "soma: warning: constraint violated at " << v << "\n";
  }
  for (const std::string& v : result->summary.undefined_outputs) {
    if (!a.summary) std::cerr << "soma: warning: " << v << "\n";
  }
  return 0;
}

}  // namespace

int ExitCode() { return g_exit_code; }
void SetExitCode(int code) { g_exit_code = code; }

void AddSimulateCommand(CLI::App& app) {
  auto args = std::make_shared<SimulateArgs>();
  CLI::App* cmd = app.add_subcommand("simulate", "Simulate an SBML model and print a time course");
  cmd->add_option("model", args->model, "SBML file (Level 1-3, comp flattened)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--start", args->start, "Model time of the first row")->capture_default_str();
  cmd->add_option("--end", args->end, "Model time of the last row")->capture_default_str();
  cmd->add_option("--steps", args->steps, "Number of intervals; steps + 1 rows on a uniform grid")
      ->capture_default_str()->check(Positive());
  cmd->add_option("--vars", args->vars,
                  "Columns: species, compartments, parameters, species references, reactions (= rate); "
                  "default every species and every non-constant compartment and parameter")->delimiter(',');
  cmd->add_option("--amount", args->amount, "Species reported as amounts")->delimiter(',');
  cmd->add_option("--concentration", args->concentration, "Species reported as concentrations")->delimiter(',');
  cmd->add_option("--abs", args->abs_tol, "Absolute accuracy wanted in the output")->capture_default_str()
      ->check(Positive());
  cmd->add_option("--rel", args->rel_tol, "Relative accuracy wanted in the output")->capture_default_str()
      ->check(Positive());
  cmd->add_option("--method", args->method,
                  "auto (Adams while non-stiff, BDF once stiffness is detected, as LSODA), bdf (stiff), "
                  "adams (non-stiff) or rk45 (explicit Runge-Kutta, Dormand-Prince 5(4): non-stiff models "
                  "with frequent events or doses)")
      ->capture_default_str()->check(CLI::IsMember({"auto", "bdf", "adams", "rk45"}));
  cmd->add_option("--linear-solver", args->linear_solver,
                  "auto (sparse KLU for large models), dense or sparse")
      ->capture_default_str()->check(CLI::IsMember({"auto", "dense", "sparse"}));
  cmd->add_option("--format", args->format, "csv or json")->capture_default_str()->check(CLI::IsMember({"csv", "json"}));
  cmd->add_option("-o,--output", args->output, "Write to this file instead of standard output");
  cmd->add_flag("--summary", args->summary, "Print the simulation summary to standard error");
  cmd->add_flag("--native-code", args->native_code,
                "Compile the right-hand side, Jacobian and root functions to native code with LLVM (same "
                "numbers; about 15 ms to load LLVM plus milliseconds per model, faster long runs)");
  cmd->callback([args] { SetExitCode(RunSimulate(*args)); });
}

}  // namespace soma::cli
