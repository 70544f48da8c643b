// `soma petab simulate|fit PROBLEM.yaml`: PEtab v1 problems (see
// formats/petab/petab.h). Both print the negative log-likelihood as their
// last line of standard output, "nllh: VALUE".

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

#include <glog/logging.h>

#include "cli/commands.h"
#include "cli/model_loading.h"
#include "formats/petab/petab.h"
#include "infer/estimate.h"

namespace soma::cli {
namespace {

struct PetabArgs {
  std::string problem;
  std::string output;
  int starts = 10;
  int threads = 1;
  uint64_t seed = 1;
  int max_iterations = 200;
  double rel_tol = 1e-8;
  double abs_tol = 1e-10;
  // Nominal simulations are compared with other tools' tables: tighter
  // (Crauste_CellSystems2017 needs rel 1e-10 to agree to 0.1%).
  double sim_rel_tol = 1e-10;
  double sim_abs_tol = 1e-12;
};

infer::EstimationOptions Options(const PetabArgs& a) {
  infer::EstimationOptions o;
  o.starts = a.starts;
  o.threads = a.threads;
  o.seed = a.seed;
  o.max_iterations = a.max_iterations;
  o.rel_tol = a.rel_tol;
  o.abs_tol = a.abs_tol;
  return o;
}

void PrintNllh(double nllh) { std::printf("nllh: %.12g\n", nllh); }

int RunSimulate(const PetabArgs& a) {
  auto imp = formats::petab::LoadPetab(a.problem);
  if (!imp.ok()) return ReportError(imp.status().WithContext(a.problem));
  infer::EstimationOptions o = Options(a);
  o.rel_tol = a.sim_rel_tol;
  o.abs_tol = a.sim_abs_tol;
  auto ev = infer::Evaluate(imp->problem, imp->problem.NominalValues(), o);
  if (!ev.ok()) return ReportError(ev.status().WithContext(a.problem));
  if (!a.output.empty()) {
    Status s = formats::petab::WriteTsv(a.output, formats::petab::SimulationTable(*imp, *ev));
    if (!s.ok()) return ReportError(s);
  }
  std::printf("measurements: %zu, experiments: %zu, estimated parameters: %zu\n", imp->problem.num_measurements(),
              imp->problem.experiments.size(), imp->problem.parameters.size());
  if (ev->neg_log_prior != 0.0 && imp->prior_status.ok()) std::printf("neg. log prior: %.12g\n", ev->neg_log_prior);
  PrintNllh(ev->nllh);
  return 0;
}

int RunFit(const PetabArgs& a) {
  // Ceres logs each start that fails at its first point through glog; the
  // report says the same, so only fatal messages go to standard error.
  FLAGS_minloglevel = google::GLOG_FATAL;
  auto imp = formats::petab::LoadPetab(a.problem);
  if (!imp.ok()) return ReportError(imp.status().WithContext(a.problem));
  if (!imp->prior_status.ok()) return ReportError(imp->prior_status.WithContext(a.problem));
  infer::EstimationOptions o = Options(a);
  const int total = o.starts;
  o.progress = [total](const infer::StartResult& s) {
    if (s.error.ok()) {
      std::fprintf(stderr, "start %d/%d: objective %.10g, %d iterations, %.2f s%s\n", s.index + 1, total,
                   s.objective, s.iterations, s.seconds, s.converged ? "" : " (not converged)");
    } else {
      std::fprintf(stderr, "start %d/%d: failed: %s\n", s.index + 1, total, s.error.ToString().c_str());
    }
  };
  auto summary = infer::Estimate(imp->problem, o);
  if (!summary.ok()) return ReportError(summary.status().WithContext(a.problem));
  std::cout << summary->FullReport() << std::flush;
  if (summary->best_start < 0) {
    std::fprintf(stderr, "error: %s\n", summary->termination.c_str());
    return 1;
  }
  PrintNllh(summary->nllh);
  return 0;
}

}  // namespace

void AddPetabCommand(CLI::App& app) {
  auto args = std::make_shared<PetabArgs>();
  CLI::App* cmd = app.add_subcommand("petab", "PEtab v1 parameter estimation problems");
  cmd->require_subcommand(1);
  auto add_common = [&](CLI::App* sub, double* rel, double* abs) {
    sub->add_option("problem", args->problem, "PEtab YAML file")->required()->check(CLI::ExistingFile);
    sub->add_option("--rel", *rel, "CVODES relative tolerance")->capture_default_str()->check(CLI::PositiveNumber);
    sub->add_option("--abs", *abs, "CVODES absolute tolerance")->capture_default_str()->check(CLI::PositiveNumber);
  };
  CLI::App* sim = cmd->add_subcommand(
      "simulate", "Simulate at the nominal parameters; write the simulation table; print nllh last");
  add_common(sim, &args->sim_rel_tol, &args->sim_abs_tol);
  sim->add_option("-o,--output", args->output, "Simulation table (TSV) to write");
  sim->callback([args] { SetExitCode(RunSimulate(*args)); });


  CLI::App* fit = cmd->add_subcommand(
      "fit", "Maximum a posteriori fit (multi-start Levenberg-Marquardt); print the report, then nllh last");
  add_common(fit, &args->rel_tol, &args->abs_tol);
  fit->add_option("--starts", args->starts, "Number of starts (the first at the nominal values)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  fit->add_option("--threads", args->threads, "Threads (0: all cores): starts run in parallel, leftover threads run experiments in parallel")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  fit->add_option("--seed", args->seed, "Seed of the Latin hypercube of starts")->capture_default_str();
  fit->add_option("--max-iterations", args->max_iterations, "Iterations per start")
      ->capture_default_str()->check(CLI::PositiveNumber);
  fit->callback([args] { SetExitCode(RunFit(*args)); });
}

}  // namespace soma::cli
