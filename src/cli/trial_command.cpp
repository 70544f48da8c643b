// `soma trial run TRIAL.json --model MODEL [--out DIR] [--threads N] [--resume]`,
// `soma trial status DIR`, `soma trial results DIR`: in-silico trials
// (scenario/trial.h) with progress, a checkpoint after every chunk of members
// and plots-ready results (members.csv, bands.csv, summary.json).

#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/model_loading.h"
#include "cli/output.h"
#include "ensemble/parallel.h"
#include "formats/sbml/sbml_import.h"
#include "scenario/trial.h"

namespace soma::cli {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct TrialArgs {
  std::string trial;
  std::string model;
  std::string out;
  int threads = 0;
  bool resume = false;
  std::string dir;
};

Result<std::string> Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return IoError("cannot read '" + p.string() + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json MemberJson(const scenario::MemberResult& r) {
  return {{"member", r.member}, {"ok", r.ok}, {"error", r.error}, {"outcomes", r.outcomes},
          {"series", r.series}, {"columns", r.columns}};
}

scenario::MemberResult MemberFromJson(const json& j) {
  scenario::MemberResult r;
  r.member = j.at("member");
  r.ok = j.at("ok");
  r.error = j.at("error");
  for (const auto& sc : j.at("outcomes")) {
    std::vector<double> o;
    for (const auto& v : sc) o.push_back(v.is_null() ? std::nan("") : v.get<double>());
    r.outcomes.push_back(o);
  }
  r.series = j.at("series").get<std::vector<std::vector<std::vector<double>>>>();
  r.columns = j.at("columns").get<std::vector<std::vector<std::string>>>();
  return r;
}

Status WriteProgress(const fs::path& dir, const std::string& state, long done, long total) {
  return WriteOutput((dir / "progress.json").string(),
                     json{{"state", state}, {"done", done}, {"total", total}}.dump() + "\n");
}

int RunTrial(const TrialArgs& a) {
  auto text = Slurp(a.trial);
  if (!text.ok()) return ReportError(text.status());
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return ReportError(ParseError(a.trial + ": not valid JSON"));
  auto trial = scenario::ParseTrial(j, fs::path(a.trial).parent_path().string());
  if (!trial.ok()) return ReportError(trial.status().WithContext(a.trial));
  auto imported = formats::LoadSbmlFile(a.model);
  if (!imported.ok()) return ReportError(imported.status().WithContext(a.model));
  fs::path dir = a.out.empty() ? fs::path(trial->name) : fs::path(a.out);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ReportError(IoError("cannot create '" + dir.string() + "': " + ec.message()));

  // Resume: members already in the checkpoint are not run again.
  const fs::path checkpoint = dir / "members.jsonl";
  std::vector<scenario::MemberResult> results;
  std::set<int> done;
  if (a.resume && fs::exists(checkpoint)) {
    std::ifstream in(checkpoint);
    for (std::string line; std::getline(in, line);) {
      json m = json::parse(line, nullptr, false);
      if (m.is_discarded()) continue;  // a line cut short by a kill: run that member again
      results.push_back(MemberFromJson(m));
      done.insert(results.back().member);
    }
    std::cerr << "soma: resuming " << trial->name << ": " << done.size() << " members done\n";
  } else {
    fs::remove(checkpoint, ec);
  }
  const int total = scenario::PopulationSize(*trial);
  std::vector<int> todo;
  for (int i = 0; i < total; ++i) {
    if (!done.count(i)) todo.push_back(i);
  }
  ensemble::ProgressBar bar("trial " + trial->name);
  scenario::TrialOptions o;
  o.threads = a.threads;
  o.simulation.integrator = sim::IntegratorOptionsForAccuracy(1e-6, 1e-6);
  const int threads = ensemble::ThreadCount({.threads = a.threads});
  const size_t chunk = static_cast<size_t>(std::max(16, 8 * threads));
  std::ofstream log(checkpoint, std::ios::app);
  for (size_t start = 0; start < todo.size(); start += chunk) {
    o.members.assign(todo.begin() + start, todo.begin() + std::min(todo.size(), start + chunk));
    const long before = static_cast<long>(done.size());
    o.progress = [&](long d, long) { bar.Update(before + d, total); };
    auto part = scenario::RunTrialMembers(*trial, imported->model, o);
    if (!part.ok()) return ReportError(part.status());
    for (auto& r : *part) {
      log << MemberJson(r).dump() << "\n";
      done.insert(r.member);
      results.push_back(std::move(r));
    }
    log.flush();
    (void)WriteProgress(dir, "running", static_cast<long>(done.size()), total);
  }
  bar.Update(total, total);
  bar.Finish();
  std::sort(results.begin(), results.end(),
            [](const auto& x, const auto& y) { return x.member < y.member; });
  scenario::TrialSummary summary = scenario::SummariseTrial(*trial, results);
  Status s = WriteOutput((dir / "summary.json").string(), scenario::ToJson(*trial, summary).dump(1) + "\n");
  if (s.ok()) s = WriteOutput((dir / "members.csv").string(), scenario::MembersCsv(*trial, results));
  if (s.ok()) s = WriteOutput((dir / "bands.csv").string(), scenario::BandsCsv(*trial, summary));
  if (s.ok()) s = WriteProgress(dir, "finished", total, total);
  if (!s.ok()) return ReportError(s);
  std::cout << "trial " << trial->name << ": " << summary.members << " members, " << summary.failed
            << " failed; results in " << dir.string() << "\n";
  for (const auto& oc : summary.outcomes) {
    std::cout << "  " << oc.scenario << "  " << oc.outcome << ": mean " << oc.mean << ", sd " << oc.sd << "\n";
  }
  for (const auto& oc : summary.differences) {
    std::cout << "  " << oc.scenario << "  " << oc.outcome << ": mean " << oc.mean << ", sd " << oc.sd << "\n";
  }
  return summary.failed == summary.members ? 1 : 0;
}

int TrialStatus(const TrialArgs& a) {
  auto text = Slurp(fs::path(a.dir) / "progress.json");
  if (!text.ok()) return ReportError(NotFound("no trial results in '" + a.dir + "'"));
  std::cout << *text;
  return 0;
}

int TrialResults(const TrialArgs& a) {
  auto text = Slurp(fs::path(a.dir) / "summary.json");
  if (!text.ok()) return ReportError(NotFound("no finished trial in '" + a.dir + "' (see soma trial status)"));
  std::cout << *text;
  return 0;
}

}  // namespace

void AddTrialCommand(CLI::App& app) {
  CLI::App* group = app.add_subcommand("trial", "In-silico trials: scenarios on a virtual population, on all cores");
  group->require_subcommand(1);
  auto args = std::make_shared<TrialArgs>();
  CLI::App* run = group->add_subcommand("run", "Run a trial; results (summary.json, members.csv, bands.csv) in --out");
  run->add_option("trial", args->trial, "Trial JSON (docs/trials.md)")->required()->check(CLI::ExistingFile);
  run->add_option("--model", args->model, "SBML model")->required()->check(CLI::ExistingFile);
  run->add_option("--out", args->out, "Results folder (default: the trial's name)");
  run->add_option("--threads", args->threads, "Worker threads (default: all cores)")->check(CLI::NonNegativeNumber);
  run->add_flag("--resume", args->resume, "Continue from the checkpoint in --out");
  run->callback([args] { SetExitCode(RunTrial(*args)); });
  auto sargs = std::make_shared<TrialArgs>();
  CLI::App* status = group->add_subcommand("status", "Progress of a trial run");
  status->add_option("dir", sargs->dir, "Results folder")->required();
  status->callback([sargs] { SetExitCode(TrialStatus(*sargs)); });
  auto rargs = std::make_shared<TrialArgs>();
  CLI::App* results = group->add_subcommand("results", "Summary of a finished trial (JSON)");
  results->add_option("dir", rargs->dir, "Results folder")->required();
  results->callback([rargs] { SetExitCode(TrialResults(*rargs)); });
}

}  // namespace soma::cli
