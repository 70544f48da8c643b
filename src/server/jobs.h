#pragma once
// Long computations run as jobs for API callers: a scenario comparison
// (scenarios run on one model version) or an in-silico trial. Jobs run on a
// bounded pool of worker threads with a bounded queue; each job's record
// (state, progress, owner, inputs) is kept in memory and written as JSON to
// `<dir>/<id>.json` at every state change, so that after a restart a job
// that was queued or running is reported as failed with the error "server
// restarted" instead of vanishing.
//
// A finished job's result is stored in the repository as a resource of kind
// "result", private to the job's owner, whose version holds job.json (the
// request), result.json and, for trials, members.csv, with provenance
// derived_from = the model version ("id@hash").
//
// Authorisation: submitting needs a contributor (or higher) who can read the
// model; a job is visible only to its owner and admins (anyone else gets
// kNotFound, as for resources they may not read). The routes are in
// routes_jobs.cpp; the wire format is in docs/api.md.
//
// Thread safety: all methods may be called from any thread.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "repo/repository.h"
#include "server/json_codec.h"
#include "server/query_params.h"

namespace soma::server {

struct JobOptions {
  std::string dir;        // where job records live (created); required
  int workers = 2;        // concurrent jobs, >= 1
  int queue = 16;         // jobs waiting beyond the running ones, >= 0
  int trial_threads = 1;  // threads per trial job, >= 1
  std::string software_version;

  Status Validate() const;  // names the field
};

class JobManager {
 public:
  // Loads earlier records from options.dir (jobs left queued or running are
  // marked failed: "server restarted") and starts the workers.
  static Result<std::unique_ptr<JobManager>> Create(repo::Repository& repo, const JobOptions& options);
  // Cancels running jobs cooperatively and joins the workers.
  ~JobManager();

  // Body: {"kind": "scenario-compare"|"trial", "model": {"id", "version"?},
  // "scenarios": [...] | "trial": {...}, "title"?}. Returns the job record.
  // Errors: kUnauthenticated (anonymous), kPermissionDenied (reader),
  // kNotFound (model not readable), kInvalidArgument (body, naming the
  // field), kUnavailable (queue full).
  // A trial's "population": {"twin": ID, "columns"?: {...}} runs on the
  // twin's posterior ensemble: read at submission as the caller (who must
  // be able to read the twin; audited like GET /v1/twins/{id}/posterior),
  // kept in the job as the population's inline table ("csv"), with columns
  // mapping every posterior parameter to the model symbol of the same name
  // unless given.
  Result<Json> Submit(const repo::Principal& p, const Json& body);
  // How Submit reads a twin's posterior table (the server's TwinService);
  // unset: trials from twins are refused as unsupported.
  using PosteriorReader = std::function<Result<std::string>(const repo::Principal&, const std::string& twin)>;
  void set_posterior_reader(PosteriorReader reader) { posterior_reader_ = std::move(reader); }
  Result<Json> Get(const repo::Principal& p, const std::string& id);
  // Query: owner (admins), limit, offset. Newest first.
  Result<Json> List(const repo::Principal& p, const Params& query);
  // Queued: cancelled at once; running: asked to stop (state "cancelling"
  // until the worker sees it). Finished: kFailedPrecondition.
  Result<Json> Cancel(const repo::Principal& p, const std::string& id);
  // The result JSON of a succeeded job (read back from the result resource).
  // kFailedPrecondition while not succeeded.
  Result<std::string> ResultOf(const repo::Principal& p, const std::string& id);

 private:
  struct Job;
  JobManager(repo::Repository& repo, JobOptions options);
  void Work();
  void Execute(Job& job);
  Result<Json> RunCompare(Job& job, const std::string& sbml);
  // Also fills the members table and the percentile bands over time (CSV).
  Result<Json> RunTrial(Job& job, const std::string& sbml, std::string* members_csv, std::string* bands_csv);
  Result<std::shared_ptr<Job>> Find(const repo::Principal& p, const std::string& id);
  // The trial with population.twin replaced by the twin's posterior table
  // (population.csv); other trials as they are.
  Result<Json> ResolveTwinPopulation(const repo::Principal& p, const Json& trial) const;
  Json Record(const Job& job) const;  // caller holds mu_
  void Save(const Job& job);          // caller holds mu_

  repo::Repository& repo_;
  JobOptions options_;
  PosteriorReader posterior_reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace soma::server
