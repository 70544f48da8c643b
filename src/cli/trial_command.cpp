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
#include "ensemble/mpi_world.h"
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
  // Non-finite values travel as null (JSON has no NaN).
  for (const auto& sc : j.at("series")) {
    std::vector<std::vector<double>> outputs;
    for (const auto& col : sc) {
      std::vector<double> values;
      values.reserve(col.size());
      for (const auto& v : col) values.push_back(v.is_null() ? std::nan("") : v.get<double>());
      outputs.push_back(std::move(values));
    }
    r.series.push_back(std::move(outputs));
  }
  r.columns = j.at("columns").get<std::vector<std::vector<std::string>>>();
  return r;
}

Status WriteProgress(const fs::path& dir, const std::string& state, long done, long total) {
  return WriteOutput((dir / "progress.json").string(),
                     json{{"state", state}, {"done", done}, {"total", total}}.dump() + "\n");
}

// Writes summary.json, members.csv and bands.csv and prints the summary.
// With a "sensitivity" request, its indices go into summary.json (key
// "sensitivity") and sensitivity.json.
int Finish(const scenario::Trial& trial, std::vector<scenario::MemberResult> results, const fs::path& dir,
           const model::Model& model, int threads) {
  const int total = scenario::PopulationSize(trial);
  std::sort(results.begin(), results.end(),
            [](const auto& x, const auto& y) { return x.member < y.member; });
  scenario::TrialSummary summary = scenario::SummariseTrial(trial, results);
  json summary_json = scenario::ToJson(trial, summary);
  if (trial.sensitivity) {
    scenario::TrialOptions o;
    o.threads = threads;
    o.simulation.integrator = sim::IntegratorOptionsForAccuracy(1e-6, 1e-6);
    ensemble::ProgressBar bar("sensitivity " + trial.name);
    o.progress = [&](long d, long n) { bar.Update(d, n); };
    auto gsa = scenario::RunTrialSensitivity(trial, model, o);
    bar.Finish();
    if (!gsa.ok()) return ReportError(gsa.status().WithContext("sensitivity"));
    summary_json["sensitivity"] = *gsa;
    Status w = WriteOutput((dir / "sensitivity.json").string(), gsa->dump(1) + "\n");
    if (!w.ok()) return ReportError(w);
  }
  Status s = WriteOutput((dir / "summary.json").string(), summary_json.dump(1) + "\n");
  if (s.ok()) s = WriteOutput((dir / "members.csv").string(), scenario::MembersCsv(trial, results));
  if (s.ok()) s = WriteOutput((dir / "bands.csv").string(), scenario::BandsCsv(trial, summary));
  if (s.ok()) s = WriteProgress(dir, "finished", total, total);
  if (!s.ok()) return ReportError(s);
  std::cout << "trial " << trial.name << ": " << summary.members << " members, " << summary.failed
            << " failed; results in " << dir.string() << "\n";
  for (const auto& oc : summary.outcomes) {
    std::cout << "  " << oc.scenario << "  " << oc.outcome << ": mean " << oc.mean << ", sd " << oc.sd << "\n";
  }
  for (const auto& oc : summary.differences) {
    std::cout << "  " << oc.scenario << "  " << oc.outcome << ": mean " << oc.mean << ", sd " << oc.sd << "\n";
  }
  return summary.failed == summary.members ? 1 : 0;
}

// Several MPI ranks: member i runs on rank i mod size (each with --threads
// threads); rank 0 gathers the members (as the checkpoint's JSON lines,
// which round-trip doubles exactly) and writes the same files as one
// process would. No checkpoint: --resume is refused.
int RunDistributed(ensemble::MpiWorld& world, const TrialArgs& a, const scenario::Trial& trial,
                   const model::Model& model, const fs::path& dir) {
  const int total = scenario::PopulationSize(trial);
  scenario::TrialOptions o;
  o.threads = a.threads;
  o.simulation.integrator = sim::IntegratorOptionsForAccuracy(1e-6, 1e-6);
  o.members = ensemble::MembersOfRank(total, world.rank(), world.size());
  std::unique_ptr<ensemble::ProgressBar> bar;
  if (world.rank() == 0) {
    bar = std::make_unique<ensemble::ProgressBar>("trial " + trial.name + " (rank 0 of " +
                                                  std::to_string(world.size()) + ")");
    o.progress = [&](long d, long n) { bar->Update(d, n); };
  }
  std::string payload;
  if (o.members.empty()) {
    payload = "";
  } else if (auto part = scenario::RunTrialMembers(trial, model, o); !part.ok()) {
    payload = "ERROR " + part.status().ToString();
  } else {
    for (const auto& r : *part) payload += MemberJson(r).dump() + "\n";
  }
  if (bar) bar->Finish();
  auto gathered = world.GatherToRoot(payload);
  if (!gathered.ok()) return ReportError(gathered.status());
  if (world.rank() != 0) return 0;
  std::vector<scenario::MemberResult> results;
  for (size_t r = 0; r < gathered->size(); ++r) {
    const std::string& bytes = (*gathered)[r];
    if (bytes.rfind("ERROR ", 0) == 0) {
      return ReportError(Internal("rank " + std::to_string(r) + ": " + bytes.substr(6)));
    }
    std::stringstream in(bytes);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) results.push_back(MemberFromJson(json::parse(line)));
    }
  }
  if (static_cast<int>(results.size()) != total) {
    return ReportError(Internal("gathered " + std::to_string(results.size()) + " of " + std::to_string(total) +
                                " members"));
  }
  return Finish(trial, std::move(results), dir, model, a.threads);
}

int RunTrial(const TrialArgs& a) {
  auto world = ensemble::MpiWorld::Join();
  if (!world.ok()) return ReportError(world.status());
  if ((*world)->distributed() && a.resume) {
    return ReportError(Unsupported("--resume with several MPI ranks: run the rest in one process"));
  }
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
  if ((*world)->rank() == 0) fs::create_directories(dir, ec);
  // Every rank stops when rank 0 cannot write (a collective decision, so
  // no rank waits for results that never come).
  if (!(*world)->BroadcastFlag(!ec)) {
    if ((*world)->rank() != 0) return 1;
    return ReportError(IoError("cannot create '" + dir.string() + "': " + ec.message()));
  }
  if ((*world)->distributed()) return RunDistributed(**world, a, *trial, imported->model, dir);

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
  return Finish(*trial, std::move(results), dir, imported->model, a.threads);
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
