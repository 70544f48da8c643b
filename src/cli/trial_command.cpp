// `soma trial run TRIAL.json --model MODEL [--out DIR] [--threads N] [--resume]`,
// `soma trial status DIR`, `soma trial results DIR`: in-silico trials
// (scenario/trial.h) with progress, a checkpoint that grows as members finish
// and plots-ready results (members.csv, bands.csv, summary.json).

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>

#include "cli/commands.h"
#include "cli/validators.h"
#include "cli/model_loading.h"
#include "cli/output.h"
#include "core/files.h"
#include "ensemble/mpi_world.h"
#include "ensemble/parallel.h"
#include "formats/sbml/sbml_import.h"
#include "scenario/checkpoint.h"
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
  std::string native_code = "auto";
  std::string lanes = "auto";
  std::string dir;
};

// What a rank sends rank 0 after each MPI round: kRankResults, the seconds
// the rank was busy in the round (a double), and its members' checkpoint
// records (scenario/checkpoint.h), made on the rank that ran them, which
// rank 0 checks and reads (about 4 µs a T1D member, mostly the CRC) and appends to the checkpoint as
// they are; or kRankError and the message.
constexpr char kRankResults[] = "R";
constexpr char kRankError[] = "E";

// Appends a rank's checkpoint records to `records` and its members to `results`.
Status ReadRankRecords(std::string_view bytes, std::string& records, std::vector<scenario::MemberResult>& results) {
  if (bytes.substr(0, 1) != kRankResults || bytes.size() < 1 + sizeof(double)) {
    return DataLoss("not a results message");
  }
  bytes.remove_prefix(1 + sizeof(double));  // the tag and the rank's busy time
  SOMA_RETURN_IF_ERROR(scenario::ReadCheckpointRecords(bytes, &results));
  records += bytes;
  return Status::Ok();
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
  scenario::TrialSummary summary = scenario::SummariseTrial(trial, results, threads);
  json summary_json = scenario::ToJson(trial, summary);
  if (!trial.warnings.empty()) summary_json["warnings"] = trial.warnings;
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

// The members not yet done run in one pass in one process; the checkpoint
// (checkpoint.bin, scenario/checkpoint.h) and progress.json grow while it
// runs. With MPI they run in
// rounds: a round splits its members across the ranks in blocks sized by
// each rank's speed so far, and each rank across its threads; rank 0
// gathers the results (as checkpoint records), appends them to
// the checkpoint and updates progress.json. Either way a killed run continues with --resume, on any
// number of ranks. Members are seeded by index: the files do not depend on
// ranks, threads or resumes.
int RunTrial(const TrialArgs& a) {
  auto joined = ensemble::MpiWorld::Join();
  if (!joined.ok()) return ReportError(joined.status());
  ensemble::MpiWorld& world = **joined;
  const bool root = world.rank() == 0;
  auto text = ReadWholeFile(a.trial);
  if (!text.ok()) return ReportError(text.status());
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return ReportError(ParseError(a.trial + ": not valid JSON"));
  auto trial = scenario::ParseTrial(j, fs::path(a.trial).parent_path().string());
  if (!trial.ok()) return ReportError(trial.status().WithContext(a.trial));
  if (root) {
    for (const std::string& w : trial->warnings) std::cerr << "soma: warning: " << a.trial << ": " << w << "\n";
  }
  auto imported = formats::LoadSbmlFile(a.model);
  if (!imported.ok()) return ReportError(imported.status().WithContext(a.model));
  fs::path dir = a.out.empty() ? fs::path(trial->name) : fs::path(a.out);
  std::error_code ec;
  if (root) fs::create_directories(dir, ec);
  // Every rank stops when rank 0 cannot write (a collective decision, so
  // no rank waits for results that never come).
  if (!world.BroadcastFlag(!ec)) {
    if (!root) return 1;
    return ReportError(IoError("cannot create '" + dir.string() + "': " + ec.message()));
  }

  const int total = scenario::PopulationSize(*trial);
  const fs::path checkpoint_path = dir / "checkpoint.bin";
  // Until 2026-12-07 the checkpoint was JSON lines in members.jsonl.
  const fs::path old_checkpoint = dir / "members.jsonl";
  std::optional<scenario::TrialCheckpoint> checkpoint;  // rank 0
  std::vector<scenario::MemberResult> results;         // rank 0
  std::vector<int> done_list;
  Status opened = Status::Ok();
  if (root) {
    auto model_text = ReadWholeFile(a.model);
    const uint64_t fingerprint =
        scenario::CheckpointFingerprint(*text, model_text.ok() ? *model_text : "", trial->named_files);
    if (!model_text.ok()) {
      opened = model_text.status();
    } else if (a.resume && fs::exists(checkpoint_path)) {
      scenario::TrialCheckpoint::Resumed resumed;
      auto c = scenario::TrialCheckpoint::Resume(checkpoint_path, fingerprint, &resumed);
      if (c.ok()) {
        checkpoint.emplace(std::move(*c));
        results = std::move(resumed.members);
        for (const auto& r : results) done_list.push_back(r.member);
        std::cerr << "soma: resuming " << trial->name << ": " << results.size() << " members done\n";
        if (!resumed.dropped.empty()) {
          std::cerr << "soma: " << checkpoint_path.string() << ": " << resumed.dropped
                    << "; it and any after it are cut off, and those members run again\n";
        }
      } else {
        opened = c.status();
      }
    } else if (a.resume && fs::exists(old_checkpoint)) {
      opened = FailedPrecondition("'" + old_checkpoint.string() +
                                  "' is the checkpoint of an earlier Soma (JSON lines), which this version cannot "
                                  "continue; run without --resume to start again");
    } else {
      fs::remove(old_checkpoint, ec);
      auto c = scenario::TrialCheckpoint::Create(checkpoint_path, fingerprint);
      if (c.ok()) checkpoint.emplace(std::move(*c));
      else opened = c.status();
    }
  }
  if (!world.BroadcastFlag(opened.ok())) {
    if (!root) return 1;
    return ReportError(opened);
  }
  if (Status s = world.BroadcastInts(&done_list); !s.ok()) return ReportError(s);
  const std::set<int> done(done_list.begin(), done_list.end());
  std::vector<int> todo;
  for (int i = 0; i < total; ++i) {
    if (!done.count(i)) todo.push_back(i);
  }

  scenario::TrialOptions o;
  o.threads = a.threads;
  // Compiled once for the whole run (with MPI, for all rounds; native code
  // when the simulations each rank runs reach the threshold).
  const bool native = a.native_code == "on" ||
                      (a.native_code == "auto" &&
                       todo.size() * trial->scenarios.size() >=
                           static_cast<size_t>(o.native_code_simulations) * static_cast<size_t>(world.size()));
  o.lanes = a.lanes == "auto" ? -1 : std::stoi(a.lanes);
  auto prepared = scenario::PreparedTrial::Prepare(*trial, imported->model,
                                                   scenario::TrialCompileOptions(*trial, native, o.lanes));
  // Every rank has the same trial and model, so all fail alike here.
  if (!prepared.ok()) return root ? ReportError(prepared.status()) : 1;
  o.prepared = &*prepared;
  o.simulation.integrator = sim::IntegratorOptionsForAccuracy(1e-6, 1e-6);
  const int threads = ensemble::ThreadCount({.threads = a.threads});
  // With MPI, members run in rounds that rank 0 gathers (below). Every
  // round ends in a barrier (the gather), so rounds are long enough that
  // the wait for a round's slowest member is small against the round.
  const size_t round = static_cast<size_t>(std::max(64, 32 * threads)) * static_cast<size_t>(world.size());
  std::unique_ptr<ensemble::ProgressBar> bar;
  if (root) {
    bar = std::make_unique<ensemble::ProgressBar>(
        "trial " + trial->name +
        (world.distributed() ? " (" + std::to_string(world.size()) + " ranks)" : std::string()));
  }
  // A checkpoint that cannot be written (a full disk) stops the run.
  Status unwritten = Status::Ok();
  if (!world.distributed() && !todo.empty()) {
    // One pass over all members, with no barrier between batches: each
    // member's checkpoint record is made on the worker thread that ran
    // it, and this thread appends the finished records to the checkpoint at
    // every progress tick (about five times a second). A killed run loses
    // at most the members finished since the last tick, and no thread waits
    // for the slowest member of a batch.
    o.members = todo;
    std::mutex mu;
    std::string pending;   // finished members' records, not yet in the checkpoint
    std::string flushing;  // the records being written; swapped with pending, so both keep their capacity
    long pending_count = 0;
    long written = static_cast<long>(done.size());
    std::atomic<bool> stop{false};
    o.cancel = &stop;
    o.finished = [&](const scenario::MemberResult& r) {
      thread_local std::string record;  // keeps its capacity from member to member
      record.clear();
      scenario::AppendCheckpointRecord(r, &record);
      std::lock_guard<std::mutex> lock(mu);
      pending += record;
      ++pending_count;
    };
    auto append = [&] {
      long count = 0;
      {
        std::lock_guard<std::mutex> lock(mu);
        flushing.swap(pending);
        std::swap(count, pending_count);
      }
      if (count == 0 || !unwritten.ok()) return;
      unwritten = checkpoint->Append(flushing);
      flushing.clear();
      if (!unwritten.ok()) {
        stop = true;
        return;
      }
      written += count;
      (void)WriteProgress(dir, "running", written, total);
    };
    o.progress = [&](long d, long) {
      append();
      bar->Update(static_cast<long>(done.size()) + d, total);
    };
    auto run = scenario::RunTrialMembers(*trial, imported->model, o);
    append();
    if (!unwritten.ok()) return ReportError(unwritten);
    if (!run.ok()) return ReportError(run.status());
    for (auto& r : *run) results.push_back(std::move(r));
  }
  // MPI rounds. Rank r runs the r-th block of a round's members, its size
  // in proportion to the members per second r achieved so far (its busy
  // time: from the end of the last round's collectives to the gather, so
  // rank 0's writing of the checkpoint counts against it): a rank on a
  // slower or busier core gets fewer members and the others wait less at
  // the gather.
  using Clock = std::chrono::steady_clock;
  const size_t ranks = static_cast<size_t>(world.size());
  std::vector<double> members_run(ranks, 0.0), busy_seconds(ranks, 0.0);  // rank 0
  std::vector<int> counts = ensemble::ShareByRate(static_cast<int>(std::min(round, todo.size())), world.size(), {});
  Clock::time_point free_since = Clock::now();
  for (size_t start = 0; world.distributed() && start < todo.size(); start += round) {
    const size_t end = std::min(todo.size(), start + round);
    size_t first = start;
    for (int r = 0; r < world.rank(); ++r) first += static_cast<size_t>(counts[static_cast<size_t>(r)]);
    o.members.assign(todo.begin() + static_cast<std::ptrdiff_t>(first),
                     todo.begin() + static_cast<std::ptrdiff_t>(first + counts[static_cast<size_t>(world.rank())]));
    const long before = static_cast<long>(done.size() + start);
    if (root) {
      // Rank 0 sees its own share; the others advance at about its pace.
      const double scale = static_cast<double>(end - start) / static_cast<double>(std::max<size_t>(1, o.members.size()));
      o.progress = [&, scale, before](long d, long) {
        bar->Update(std::min<long>(total, before + static_cast<long>(static_cast<double>(d) * scale)), total);
      };
    }
    // Each member's checkpoint record, made by the worker that ran it
    // (o.members ascends, so a member's position is found by bisection).
    std::vector<std::string> records(o.members.size());
    o.finished = [&](const scenario::MemberResult& r) {
      const auto at = std::lower_bound(o.members.begin(), o.members.end(), r.member) - o.members.begin();
      scenario::AppendCheckpointRecord(r, &records[static_cast<size_t>(at)]);
    };
    std::vector<scenario::MemberResult> part;
    Status failed = Status::Ok();
    if (!o.members.empty()) {
      auto run = scenario::RunTrialMembers(*trial, imported->model, o);
      if (run.ok()) part = std::move(*run);
      else failed = run.status();
    }
    const double busy = std::chrono::duration<double>(Clock::now() - free_since).count();
    // Rank 0 keeps its own results as they are.
    std::string payload = failed.ok() ? kRankResults : kRankError + failed.ToString();
    if (failed.ok()) {
      payload.append(reinterpret_cast<const char*>(&busy), sizeof busy);
      if (!root) {
        for (const std::string& record : records) payload += record;
      }
    }
    auto gathered = world.GatherToRoot(payload);
    if (!gathered.ok()) return ReportError(gathered.status());
    // Rank 0 reads the round (about 1.5 µs a member) and shares the next
    // one out; every rank stops if anything failed. It writes the
    // checkpoint after telling the others, so they go on meanwhile.
    std::vector<int> decision;  // ok, then the next round's counts
    std::string their_records;
    if (root) {
      // A checkpoint write that failed in the last round stops the run.
      if (!unwritten.ok()) failed = unwritten;
      for (size_t r = 0; r < gathered->size() && failed.ok(); ++r) {
        const std::string& bytes = (*gathered)[r];
        if (bytes.rfind(kRankError, 0) == 0) {
          failed = Internal("rank " + std::to_string(r) + ": " + bytes.substr(1));
          break;
        }
        if (r > 0) failed = ReadRankRecords(bytes, their_records, results).WithContext("results of rank " + std::to_string(r));
        if (failed.ok() && counts[r] > 0) {
          double seconds = 0;
          std::memcpy(&seconds, bytes.data() + 1, sizeof seconds);
          members_run[r] += counts[r];
          busy_seconds[r] += seconds;
        }
      }
      std::vector<double> rates(ranks);
      for (size_t r = 0; r < ranks; ++r) rates[r] = members_run[r] / busy_seconds[r];
      const size_t next = std::min(round, todo.size() - end);
      decision.push_back(failed.ok() ? 1 : 0);
      for (int c : ensemble::ShareByRate(static_cast<int>(next), world.size(), rates)) decision.push_back(c);
    }
    if (Status s = world.BroadcastInts(&decision); !s.ok()) return ReportError(s);
    free_since = Clock::now();
    if (decision.size() != ranks + 1 || decision[0] != 1) {
      if (!root) return 1;
      return ReportError(failed.ok() ? Internal("stopped by rank 0") : failed);
    }
    counts.assign(decision.begin() + 1, decision.end());
    if (!root) continue;
    // The others' records as they came, then rank 0's own.
    for (const std::string& record : records) their_records += record;
    for (auto& r : part) results.push_back(std::move(r));
    unwritten = checkpoint->Append(their_records);
    if (unwritten.ok()) (void)WriteProgress(dir, "running", static_cast<long>(done.size() + end), total);
  }
  if (!root) return 0;
  if (!unwritten.ok()) return ReportError(unwritten);
  bar->Update(total, total);
  bar->Finish();
  if (static_cast<int>(results.size()) != total) {
    return ReportError(Internal("have " + std::to_string(results.size()) + " of " + std::to_string(total) +
                                " members"));
  }
  return Finish(*trial, std::move(results), dir, imported->model, a.threads);
}

int TrialStatus(const TrialArgs& a) {
  auto text = ReadWholeFile(fs::path(a.dir) / "progress.json");
  if (!text.ok()) return ReportError(NotFound("no trial results in '" + a.dir + "'"));
  std::cout << *text;
  return 0;
}

int TrialResults(const TrialArgs& a) {
  auto text = ReadWholeFile(fs::path(a.dir) / "summary.json");
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
  run->add_option("--threads", args->threads, "Worker threads (default: all cores)")->check(NonNegative());
  run->add_flag("--resume", args->resume, "Continue from the checkpoint in --out");
  run->add_option("--native-code", args->native_code,
                  "Compile the model's hot programs to native code with LLVM: auto (from 64 simulations, "
                  "members x scenarios), on or off (same results either way)")
      ->capture_default_str()->check(CLI::IsMember({"auto", "on", "off"}));
  run->add_option("--lanes", args->lanes,
                  "Integrate members this many at once in SIMD lanes: auto (8 with AVX-512, 4 with AVX2, else off), "
                  "2, 4, 8 or 0 (off). One-scenario trials with native code, models without algebraic rules, delays "
                  "or fast reactions. Members agree with runs without lanes to about 1e-11 relative (vector exp, "
                  "tanh, ...; docs/trials.md)")
      ->capture_default_str()->check(CLI::IsMember({"auto", "0", "2", "4", "8"}));
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
