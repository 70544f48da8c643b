// `soma petab simulate|fit|profile PROBLEM.yaml`: PEtab v1 problems (see
// formats/petab/petab.h). All print the negative log-likelihood as their
// last line of standard output, "nllh: VALUE".

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <utility>
#include <vector>

#include <glog/logging.h>

#include "cli/commands.h"
#include "cli/validators.h"
#include "cli/model_loading.h"
#include "cli/output.h"
#include "formats/petab/petab.h"
#include "infer/estimate.h"
#include "infer/profile.h"

namespace soma::cli {
namespace {

struct PetabArgs {
  std::string problem;
  std::string output;
  int starts = 10;
  int threads = 0;  // all cores: results do not depend on the thread count
  uint64_t seed = 1;
  int max_iterations = 1000;
  double max_time = 0.0;  // seconds for the fit's starts; 0: no limit
  double rel_tol = 1e-8;
  double abs_tol = 1e-10;
  // Nominal simulations are compared with other tools' tables: tighter
  // (Crauste_CellSystems2017 needs rel 1e-10 to agree to 0.1%).
  double sim_rel_tol = 1e-10;
  double sim_abs_tol = 1e-12;
  // profile
  std::vector<std::string> parameters;
  double confidence = 0.95;
  int max_points = 30;
  std::string plot;
};

infer::EstimationOptions Options(const PetabArgs& a) {
  infer::EstimationOptions o;
  o.starts = a.starts;
  o.threads = a.threads;
  o.seed = a.seed;
  o.max_iterations = a.max_iterations;
  o.max_seconds = a.max_time;
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

// Loads the problem and fits it (a line per start on standard error), then
// prints the fit's report. 0, or the exit code of what failed (said).
int LoadAndFit(const PetabArgs& a, formats::petab::PetabImport& imp, infer::EstimationSummary& fit) {
  // Ceres logs each start that fails at its first point through glog; the
  // report says the same, so only fatal messages go to standard error.
  FLAGS_minloglevel = google::GLOG_FATAL;
  auto loaded = formats::petab::LoadPetab(a.problem);
  if (!loaded.ok()) return ReportError(loaded.status().WithContext(a.problem));
  if (!loaded->prior_status.ok()) return ReportError(loaded->prior_status.WithContext(a.problem));
  imp = std::move(*loaded);
  infer::EstimationOptions o = Options(a);
  const int total = o.starts;
  // Long starts report their progress every few seconds.
  auto lines = std::make_shared<std::pair<std::mutex, std::vector<double>>>();
  lines->second.assign(static_cast<size_t>(total), 0.0);
  o.iteration_progress = [total, lines](const infer::IterationInfo& it) {
    constexpr double kEvery = 5.0;  // seconds between lines of one start
    std::lock_guard<std::mutex> lock(lines->first);
    double& last = lines->second[static_cast<size_t>(it.start)];
    if (it.seconds - last < kEvery) return;
    last = it.seconds;
    std::fprintf(stderr, "start %d/%d: iteration %d, objective %.10g, %.1f s\n", it.start + 1, total, it.iteration,
                 it.objective, it.seconds);
  };
  o.progress = [total](const infer::StartResult& s) {
    if (s.not_run) {
      std::fprintf(stderr, "start %d/%d: not run (time limit)\n", s.index + 1, total);
    } else if (s.error.ok()) {
      std::fprintf(stderr, "start %d/%d: objective %.10g, %d iterations, %.2f s%s\n", s.index + 1, total,
                   s.objective, s.iterations, s.seconds,
                   s.converged ? "" : (s.time_limited ? " (stopped by the time limit)" : " (not converged)"));
    } else {
      std::fprintf(stderr, "start %d/%d: failed: %s\n", s.index + 1, total, s.error.ToString().c_str());
    }
  };
  auto summary = infer::Estimate(imp.problem, o);
  if (!summary.ok()) return ReportError(summary.status().WithContext(a.problem));
  fit = std::move(*summary);
  std::cout << fit.FullReport() << std::flush;
  if (fit.best_start < 0) {
    std::fprintf(stderr, "error: %s\n", fit.termination.c_str());
    return 1;
  }
  return 0;
}

int RunFit(const PetabArgs& a) {
  formats::petab::PetabImport imp;
  infer::EstimationSummary fit;
  if (int rc = LoadAndFit(a, imp, fit); rc != 0) return rc;
  PrintNllh(fit.nllh);
  return 0;
}

// The profile points as TSV: one row per point, every parameter's value.
std::string ProfileTsv(const std::vector<infer::ParameterProfile>& profiles, const infer::EstimationProblem& problem) {
  std::ostringstream out;
  out.precision(12);
  out << "parameterId\tvalue\tobjective\tdeltaObjective\tthreshold\tconverged";
  for (const auto& p : problem.parameters) out << "\t" << p.id;
  out << "\n";
  for (const auto& prof : profiles) {
    for (const auto& pt : prof.points) {
      out << prof.id << "\t" << pt.value << "\t" << pt.objective << "\t" << pt.objective - prof.optimum << "\t"
          << prof.threshold - prof.optimum << "\t" << (pt.converged ? "true" : "false");
      for (double v : pt.parameters) out << "\t" << v;
      out << "\n";
    }
  }
  return out.str();
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

// One panel per parameter: objective - optimum against the value (log axis
// for log-scale parameters), the threshold dashed, the interval shaded.
std::string ProfileSvg(const std::vector<infer::ParameterProfile>& profiles) {
  const int cols = std::min<int>(3, static_cast<int>(profiles.size()));
  const int rows = (static_cast<int>(profiles.size()) + cols - 1) / cols;
  const double W = 320, H = 240, ml = 48, mr = 12, mt = 26, mb = 36;
  std::ostringstream o;
  o.precision(6);
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << cols * W << "\" height=\"" << rows * H
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (size_t i = 0; i < profiles.size(); ++i) {
    const infer::ParameterProfile& p = profiles[i];
    const double ox = static_cast<double>(i % cols) * W, oy = static_cast<double>(i / cols) * H;
    const bool logx = p.scale != infer::Scale::kLin;
    auto fx = [&](double v) { return logx ? std::log10(std::max(v, 1e-300)) : v; };
    const double delta = p.threshold - p.optimum;
    double x0 = fx(p.points.front().value), x1 = fx(p.points.back().value), y1 = delta * 1.5;
    for (const auto& pt : p.points) y1 = std::max(y1, std::min(pt.objective - p.optimum, delta * 4));
    if (x1 <= x0) x1 = x0 + 1;
    const double y0 = std::min(0.0, [&] {
      double m = 0;
      for (const auto& pt : p.points) m = std::min(m, pt.objective - p.optimum);
      return m;
    }());
    auto X = [&](double v) { return ox + ml + (fx(v) - x0) / (x1 - x0) * (W - ml - mr); };
    auto Y = [&](double d) { return oy + H - mb - (std::min(d, y1) - y0) / (y1 - y0) * (H - mt - mb); };
    o << "<g>\n<text x=\"" << ox + ml << "\" y=\"" << oy + 16 << "\" font-weight=\"bold\">" << Escape(p.id)
      << (logx ? " (log axis)" : "") << "</text>\n";
    o << "<rect x=\"" << X(p.lower) << "\" y=\"" << oy + mt << "\" width=\"" << std::max(0.0, X(p.upper) - X(p.lower))
      << "\" height=\"" << H - mt - mb << "\" fill=\"#dbe9f6\"/>\n";
    o << "<line x1=\"" << ox + ml << "\" x2=\"" << ox + W - mr << "\" y1=\"" << Y(delta) << "\" y2=\"" << Y(delta)
      << "\" stroke=\"#c0392b\" stroke-dasharray=\"4 3\"/>\n";
    o << "<polyline fill=\"none\" stroke=\"#1f4e79\" stroke-width=\"1.5\" points=\"";
    for (const auto& pt : p.points) o << X(pt.value) << "," << Y(pt.objective - p.optimum) << " ";
    o << "\"/>\n";
    for (const auto& pt : p.points)
      o << "<circle cx=\"" << X(pt.value) << "\" cy=\"" << Y(pt.objective - p.optimum) << "\" r=\"2\" fill=\"#1f4e79\"/>\n";
    o << "<line x1=\"" << ox + ml << "\" x2=\"" << ox + ml << "\" y1=\"" << oy + mt << "\" y2=\"" << oy + H - mb
      << "\" stroke=\"black\"/>\n<line x1=\"" << ox + ml << "\" x2=\"" << ox + W - mr << "\" y1=\"" << oy + H - mb
      << "\" y2=\"" << oy + H - mb << "\" stroke=\"black\"/>\n";
    char buf[64];
    // Ticks at both ends and at the estimate (unless it crowds an end).
    const double first = p.points.front().value, last = p.points.back().value;
    const std::pair<double, const char*> ticks[] = {{first, "start"}, {p.estimate, "middle"}, {last, "end"}};
    for (const auto& [v, anchor] : ticks) {
      if (&v == &ticks[1].first && (X(v) - X(first) < 40 || X(last) - X(v) < 40)) continue;
      std::snprintf(buf, sizeof buf, "%.3g", v);
      o << "<text x=\"" << X(v) << "\" y=\"" << oy + H - mb + 14 << "\" text-anchor=\"" << anchor << "\">" << buf
        << "</text>\n";
    }
    std::snprintf(buf, sizeof buf, "%.3g", delta);
    o << "<text x=\"" << ox + ml - 4 << "\" y=\"" << Y(delta) + 4 << "\" text-anchor=\"end\">" << buf
      << "</text>\n<text x=\"" << ox + ml - 4 << "\" y=\"" << Y(0) + 4 << "\" text-anchor=\"end\">0</text>\n";
    o << "<text transform=\"translate(" << ox + 12 << "," << oy + (H - mb + mt) / 2
      << ") rotate(-90)\" text-anchor=\"middle\">objective - optimum</text>\n</g>\n";
  }
  o << "</svg>\n";
  return o.str();
}

int RunProfile(const PetabArgs& a) {
  formats::petab::PetabImport imp;
  infer::EstimationSummary fit;
  if (int rc = LoadAndFit(a, imp, fit); rc != 0) return rc;
  infer::ProfileOptions po;
  po.parameters = a.parameters;
  po.confidence = a.confidence;
  po.max_points = a.max_points;
  po.threads = a.threads;
  po.progress = [](const infer::ParameterProfile& p) {
    std::fprintf(stderr, "profile %s: [%.6g, %.6g] (%s, %s), %zu points, %.2f s\n", p.id.c_str(), p.lower, p.upper,
                 std::string(infer::ToString(p.lower_end)).c_str(), std::string(infer::ToString(p.upper_end)).c_str(),
                 p.points.size(), p.seconds);
  };
  auto profiles = infer::ProfileLikelihood(imp.problem, fit, Options(a), po);
  if (!profiles.ok()) return ReportError(profiles.status().WithContext(a.problem));
  std::cout << infer::ProfileReport(fit, *profiles) << std::flush;
  if (!a.output.empty()) {
    if (Status s = WriteOutput(a.output, ProfileTsv(*profiles, imp.problem)); !s.ok()) return ReportError(s);
  }
  if (!a.plot.empty() && !profiles->empty()) {
    if (Status s = WriteOutput(a.plot, ProfileSvg(*profiles)); !s.ok()) return ReportError(s);
  }
  PrintNllh(fit.nllh);
  return 0;
}

}  // namespace

void AddPetabCommand(CLI::App& app) {
  auto args = std::make_shared<PetabArgs>();
  CLI::App* cmd = app.add_subcommand("petab", "PEtab v1 parameter estimation problems");
  cmd->require_subcommand(1);
  auto add_common = [&](CLI::App* sub, double* rel, double* abs) {
    sub->add_option("problem", args->problem, "PEtab YAML file")->required()->check(CLI::ExistingFile);
    sub->add_option("--rel", *rel, "CVODES relative tolerance")->capture_default_str()->check(Positive());
    sub->add_option("--abs", *abs, "CVODES absolute tolerance")->capture_default_str()->check(Positive());
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
      ->capture_default_str()->check(Positive());
  fit->add_option("--threads", args->threads,
                  "Threads (0: all cores): starts run in parallel, leftover threads run experiments in parallel; "
                  "the result does not depend on it")
      ->capture_default_str()->check(NonNegative());
  fit->add_option("--seed", args->seed, "Seed of the Latin hypercube of starts")->capture_default_str();
  fit->add_option("--max-iterations", args->max_iterations, "Iterations per start")
      ->capture_default_str()->check(Positive());
  fit->add_option("--max-time", args->max_time,
                  "Seconds for the starts (0: no limit): running starts stop with the best point so far, starts "
                  "not begun are not run, intervals get as long again; not reproducible across machines")
      ->capture_default_str()->check(NonNegative());
  fit->callback([args] { SetExitCode(RunFit(*args)); });

  CLI::App* prof = cmd->add_subcommand(
      "profile", "Fit (as `fit`), then the profile likelihood of each parameter: the report with profile "
                 "intervals next to the Laplace ones, then nllh last");
  add_common(prof, &args->rel_tol, &args->abs_tol);
  prof->add_option("--starts", args->starts, "Number of starts of the fit")->capture_default_str()->check(Positive());
  prof->add_option("--threads", args->threads, "Threads (0: all cores): profiles run in parallel; the result does "
                   "not depend on it")
      ->capture_default_str()->check(NonNegative());
  prof->add_option("--seed", args->seed, "Seed of the Latin hypercube of starts")->capture_default_str();
  prof->add_option("--max-iterations", args->max_iterations, "Iterations per optimisation")
      ->capture_default_str()->check(Positive());
  prof->add_option("--max-time", args->max_time, "Seconds for the fit's starts (as `fit`; the profiles are not limited)")
      ->capture_default_str()->check(NonNegative());
  prof->add_option("--parameters", args->parameters, "Parameters to profile (comma-separated ids; default: all)")
      ->delimiter(',');
  prof->add_option("--confidence", args->confidence, "Confidence level of the pointwise intervals")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  prof->add_option("--max-points", args->max_points, "Points per direction before a side is left open")
      ->capture_default_str()->check(Positive());
  prof->add_option("-o,--output", args->output, "Profile points (TSV) to write");
  prof->add_option("--plot", args->plot, "Profiles as an SVG picture to write");
  prof->callback([args] { SetExitCode(RunProfile(*args)); });
}

}  // namespace soma::cli
