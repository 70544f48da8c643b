#include "server/jobs.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "core/files.h"
#include "formats/sbml/sbml_import.h"
#include "repo/crypto.h"
#include "scenario/trial.h"

namespace soma::server {
namespace fs = std::filesystem;

struct JobManager::Job {
  std::string id, kind, title, model_id, model_version, model_file;
  repo::Principal principal;
  Json request;
  std::string state = "queued";  // queued, running, succeeded, failed, cancelled
  std::string error, result_id;
  std::int64_t created_ms = 0, started_ms = 0, finished_ms = 0;
  std::atomic<bool> cancel{false};
  std::atomic<long> done{0}, total{0};
};

namespace {

// Members x output rows x scenarios a trial job may hold in memory.
constexpr double kMaxTrialRows = 5e7;

// Models in the repository are untrusted: they may not open server files.
Result<formats::SbmlImport> ImportModel(const std::string& sbml) {
  formats::SbmlImportOptions o;
  o.resolve_external_models = false;
  return formats::ParseSbml(sbml, o);
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Finished(const std::string& state) { return state == "succeeded" || state == "failed" || state == "cancelled"; }

Result<std::string> Str(const Json& j, const char* key, const std::string& where, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return InvalidArgument(where + key + ": required");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(where + key + ": must be a string");
  return it->get<std::string>();
}

// A trial sent over the API may not name files on the server.
Status CheckInlineTrial(const Json& t) {
  if (!t.is_object()) return InvalidArgument("trial: must be a JSON object (soma.trial/1)");
  if (auto s = t.find("scenarios"); s != t.end() && s->is_array()) {
    for (size_t i = 0; i < s->size(); ++i) {
      if (!(*s)[i].is_object()) {
        return InvalidArgument("trial.scenarios[" + std::to_string(i) +
                               "]: give the scenario inline (file names are not accepted over the API)");
      }
    }
  }
  if (auto p = t.find("population"); p != t.end() && p->is_object() && p->contains("table")) {
    return Unsupported("trial.population.table: tables on the server's disk are not accepted over the API");
  }
  return Status::Ok();
}

}  // namespace

Status JobOptions::Validate() const {
  if (dir.empty()) return InvalidArgument("JobOptions::dir: required");
  if (workers < 1) return InvalidArgument("JobOptions::workers = " + std::to_string(workers) + ": must be >= 1");
  if (queue < 0) return InvalidArgument("JobOptions::queue = " + std::to_string(queue) + ": must be >= 0");
  if (trial_threads < 1) {
    return InvalidArgument("JobOptions::trial_threads = " + std::to_string(trial_threads) + ": must be >= 1");
  }
  return Status::Ok();
}

JobManager::JobManager(repo::Repository& repo, JobOptions options) : repo_(repo), options_(std::move(options)) {}

Result<std::unique_ptr<JobManager>> JobManager::Create(repo::Repository& repo, const JobOptions& options) {
  SOMA_RETURN_IF_ERROR(options.Validate());
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return IoError("jobs folder '" + options.dir + "': " + ec.message());
  std::unique_ptr<JobManager> m(new JobManager(repo, options));
  std::lock_guard<std::mutex> lock(m->mu_);
  for (const auto& entry : fs::directory_iterator(options.dir)) {
    if (entry.path().extension() != ".json") continue;
    auto text = ReadWholeFile(entry.path());
    if (!text.ok()) continue;  // not a regular file, or unreadable: not a record
    Json r = Json::parse(*text, nullptr, false);
    if (r.is_discarded() || !r.is_object()) continue;  // a record cut short by a crash
    auto job = std::make_shared<Job>();
    job->id = r.value("id", "");
    if (job->id.empty()) continue;
    job->kind = r.value("kind", "");
    job->title = r.value("title", "");
    job->principal.user = r.value("owner", "");
    const Json model = r.value("model", Json::object());
    job->model_id = model.is_object() ? model.value("id", "") : "";
    job->model_version = model.is_object() ? model.value("version", "") : "";
    job->state = r.value("state", "failed");
    job->error = r.contains("error") && r["error"].is_string() ? r["error"].get<std::string>() : "";
    job->result_id = r.contains("result") && r["result"].is_string() ? r["result"].get<std::string>() : "";
    auto ms = [&r](const char* key) {
      return r.contains(key) && r[key].is_number_integer() ? r[key].get<std::int64_t>() : std::int64_t{0};
    };
    job->created_ms = ms("created_ms");
    job->started_ms = ms("started_ms");
    job->finished_ms = ms("finished_ms");
    job->done = r.value("done", 0L);
    job->total = r.value("total", 0L);
    if (!Finished(job->state)) {
      job->state = "failed";
      job->error = "server restarted";
      job->finished_ms = NowMs();
      m->Save(*job);
    }
    m->jobs_[job->id] = job;
  }
  for (int i = 0; i < options.workers; ++i) m->workers_.emplace_back([p = m.get()] { p->Work(); });
  return m;
}

JobManager::~JobManager() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& [id, job] : jobs_) job->cancel = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

Json JobManager::Record(const Job& job) const {
  const long done = job.done, total = job.total;
  Json progress = total > 0 ? Json(static_cast<double>(done) / total) : Json(job.state == "succeeded" ? 1.0 : 0.0);
  Json eta = nullptr;
  if (job.state == "running" && total > 0 && done > 0) {
    double elapsed = (NowMs() - job.started_ms) / 1000.0;
    eta = elapsed * static_cast<double>(total - done) / done;
  }
  return {{"id", job.id},
          {"kind", job.kind},
          {"title", job.title},
          {"state", job.state},
          {"cancel_requested", job.cancel.load() && !Finished(job.state)},
          {"owner", job.principal.user},
          {"model", {{"id", job.model_id}, {"version", job.model_version}}},
          {"progress", progress},
          {"done", done},
          {"total", total},
          {"eta_seconds", eta},
          {"created_ms", job.created_ms},
          {"started_ms", job.started_ms ? Json(job.started_ms) : Json(nullptr)},
          {"finished_ms", job.finished_ms ? Json(job.finished_ms) : Json(nullptr)},
          {"result", job.result_id.empty() ? Json(nullptr) : Json(job.result_id)},
          {"error", job.error.empty() ? Json(nullptr) : Json(job.error)}};
}

void JobManager::Save(const Job& job) {
  const fs::path path = fs::path(options_.dir) / (job.id + ".json");
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << Record(job).dump() << "\n";
    if (!out) {
      std::fprintf(stderr, "soma: jobs: cannot write %s\n", tmp.c_str());
      return;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) std::fprintf(stderr, "soma: jobs: cannot write %s: %s\n", path.c_str(), ec.message().c_str());
}

Result<Json> JobManager::Submit(const repo::Principal& p, const Json& body) {
  if (p.anonymous()) return Unauthenticated("sign in to run jobs");
  if (p.role < repo::Role::kContributor) return PermissionDenied("running jobs needs the contributor role");
  if (!body.is_object()) return InvalidArgument("body: must be a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it) {
    static const std::set<std::string> kKnown = {"kind", "model", "scenarios", "trial", "title"};
    if (!kKnown.count(it.key())) return InvalidArgument(it.key() + ": unknown field");
  }
  auto job = std::make_shared<Job>();
  Json trial_request;  // the trial as run (a twin's posterior resolved)
  SOMA_ASSIGN_OR_RETURN(job->kind, Str(body, "kind", "", true));
  SOMA_ASSIGN_OR_RETURN(job->title, Str(body, "title", "", false));
  if (!body.contains("model") || !body["model"].is_object()) return InvalidArgument("model: required, {\"id\", \"version\"?}");
  SOMA_ASSIGN_OR_RETURN(job->model_id, Str(body["model"], "id", "model.", true));
  SOMA_ASSIGN_OR_RETURN(std::string version, Str(body["model"], "version", "model.", false));
  if (version.empty()) version = "latest";
  // Read access to the model is checked as the caller, after the request's
  // own checks and before anything else is read on the caller's behalf (a
  // twin's posterior): a refused job reads no twin.
  std::optional<repo::Version> model;
  auto read_model = [&]() -> Status {
    auto got = repo_.GetVersion(p, job->model_id, version);
    if (!got.ok()) return got.status();
    model = std::move(*got);
    return Status::Ok();
  };
  if (job->kind == "scenario-compare") {
    if (!body.contains("scenarios") || !body["scenarios"].is_array() || body["scenarios"].empty()) {
      return InvalidArgument("scenarios: a non-empty array of scenarios (soma.scenario/1) is required");
    }
    if (body.contains("trial")) return InvalidArgument("trial: not used by kind scenario-compare");
    for (size_t i = 0; i < body["scenarios"].size(); ++i) {
      auto s = scenario::ParseScenario(body["scenarios"][i]);
      if (!s.ok()) return s.status().WithContext("scenarios[" + std::to_string(i) + "]");
    }
  } else if (job->kind == "trial") {
    if (!body.contains("trial")) return InvalidArgument("trial: required for kind trial");
    if (body.contains("scenarios")) return InvalidArgument("scenarios: give them inside trial");
    SOMA_RETURN_IF_ERROR(CheckInlineTrial(body["trial"]));
    SOMA_RETURN_IF_ERROR(read_model());
    SOMA_ASSIGN_OR_RETURN(trial_request, ResolveTwinPopulation(p, body["trial"]));
    auto t = scenario::ParseTrial(trial_request, "");
    if (!t.ok()) return t.status().WithContext("trial");
    // The server keeps every member's trajectories until the summary: bound them.
    double values = static_cast<double>(scenario::PopulationSize(*t)) * (t->scenarios[0].steps + 1.0) *
                    static_cast<double>(t->scenarios.size());
    if (values > kMaxTrialRows) {
      return InvalidArgument("trial: members x output rows x scenarios = " + std::to_string(values) +
                             "; the server accepts at most " + std::to_string(kMaxTrialRows) +
                             " (run larger trials with soma trial run)");
    }
  } else {
    return InvalidArgument("kind = '" + job->kind + "': must be scenario-compare or trial");
  }
  if (!model) SOMA_RETURN_IF_ERROR(read_model());
  const repo::Version& v = *model;
  for (const auto& f : v.files) {
    if (job->model_file.empty() && (f.path.ends_with(".xml") || f.path.ends_with(".sbml"))) job->model_file = f.path;
  }
  if (job->model_file.empty()) {
    return InvalidArgument("model: version " + v.hash.substr(0, 12) + " of '" + job->model_id + "' has no SBML file");
  }
  job->model_version = v.hash;
  job->principal = p;
  job->request = body;
  job->request["model"]["version"] = v.hash;
  if (job->kind == "trial") job->request["trial"] = trial_request;
  job->id = "job-" + repo::RandomHex(16);
  job->created_ms = NowMs();
  if (job->title.empty()) job->title = job->kind + " on " + job->model_id;
  std::lock_guard<std::mutex> lock(mu_);
  if (static_cast<int>(queue_.size()) >= options_.queue) {
    return Unavailable("the job queue is full (" + std::to_string(options_.queue) + " waiting); try again later");
  }
  jobs_[job->id] = job;
  queue_.push_back(job);
  Save(*job);
  cv_.notify_one();
  return Record(*job);
}

Result<Json> JobManager::ResolveTwinPopulation(const repo::Principal& p, const Json& trial) const {
  auto pop = trial.find("population");
  if (pop == trial.end() || !pop->is_object() || !pop->contains("twin")) return trial;
  const Json& twin = (*pop)["twin"];
  if (!twin.is_string() || twin.get<std::string>().empty()) {
    return InvalidArgument("trial.population.twin: must be a twin's id");
  }
  for (const char* other : {"csv", "size", "parameters", "correlation", "sampling", "seed"}) {
    if (pop->contains(other)) {
      return InvalidArgument(std::string("trial.population.") + other +
                             ": not with population.twin (the twin's posterior ensemble is the population)");
    }
  }
  if (!posterior_reader_) return Unsupported("trial.population.twin: this server has no twins");
  auto csv = posterior_reader_(p, twin.get<std::string>());
  if (!csv.ok()) return csv.status().WithContext("trial.population.twin");
  Json out = trial;
  Json& population = out["population"];
  if (!population.contains("columns")) {
    // Every posterior parameter (the header after "member") sets the model
    // symbol of the same name.
    Json columns = Json::object();
    std::string header = csv->substr(0, csv->find('\n'));
    std::stringstream cells(header);
    std::string cell;
    std::getline(cells, cell, ',');  // "member"
    while (std::getline(cells, cell, ',')) columns[cell] = cell;
    population["columns"] = columns;
  }
  population["csv"] = *csv;
  return out;
}

Result<std::shared_ptr<JobManager::Job>> JobManager::Find(const repo::Principal& p, const std::string& id) {
  if (p.anonymous()) return Unauthenticated("sign in to see jobs");
  auto it = jobs_.find(id);
  // Someone else's job looks exactly like a missing one.
  if (it == jobs_.end() || (it->second->principal.user != p.user && p.role != repo::Role::kAdmin)) {
    return NotFound("job '" + id + "' not found");
  }
  return it->second;
}

Result<Json> JobManager::Get(const repo::Principal& p, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  SOMA_ASSIGN_OR_RETURN(auto job, Find(p, id));
  return Record(*job);
}

Result<Json> JobManager::List(const repo::Principal& p, const Params& query) {
  if (p.anonymous()) return Unauthenticated("sign in to see jobs");
  SOMA_RETURN_IF_ERROR(CheckKnownParams(query, {"owner", "limit", "offset"}));
  SOMA_ASSIGN_OR_RETURN(PageParams page, ParsePageParams(query));
  std::optional<std::string> owner = GetParam(query, "owner");
  if (p.role != repo::Role::kAdmin) {
    if (owner && *owner != p.user) return PermissionDenied("only admins list other users' jobs");
    owner = p.user;
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<Job>> mine;
  for (const auto& [id, job] : jobs_) {
    if (!owner || job->principal.user == *owner) mine.push_back(job);
  }
  std::sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) {
    return a->created_ms != b->created_ms ? a->created_ms > b->created_ms : a->id < b->id;
  });
  Json items = Json::array();
  for (size_t i = page.offset; i < mine.size() && items.size() < static_cast<size_t>(page.limit); ++i) {
    items.push_back(Record(*mine[i]));
  }
  Json out = {{"items", items}};
  out["total"] = mine.size();
  out["limit"] = page.limit;
  out["offset"] = page.offset;
  out["next_offset"] = page.offset + page.limit < static_cast<int>(mine.size()) ? Json(page.offset + page.limit)
                                                                               : Json(nullptr);
  return out;
}

Result<Json> JobManager::Cancel(const repo::Principal& p, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  SOMA_ASSIGN_OR_RETURN(auto job, Find(p, id));
  if (Finished(job->state)) return FailedPrecondition("job '" + id + "' has already " + job->state);
  job->cancel = true;
  if (job->state == "queued") {
    std::erase(queue_, job);
    job->state = "cancelled";
    job->finished_ms = NowMs();
  }
  Save(*job);
  return Record(*job);
}

Result<std::string> JobManager::ResultOf(const repo::Principal& p, const std::string& id) {
  std::string result_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    SOMA_ASSIGN_OR_RETURN(auto job, Find(p, id));
    if (job->state != "succeeded") return FailedPrecondition("job '" + id + "' is " + job->state + ", not succeeded");
    result_id = job->result_id;
  }
  // Read as the caller: the repository authorises and audits.
  return repo_.ReadFile(p, result_id, "latest", "result.json");
}

void JobManager::Work() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = queue_.front();
      queue_.pop_front();
      job->state = "running";
      job->started_ms = NowMs();
      Save(*job);
    }
    Execute(*job);
  }
}

void JobManager::Execute(Job& job) {
  Status status = Status::Ok();
  Json result;
  std::string members_csv, bands_csv, result_id;
  auto sbml = repo_.ReadFile(job.principal, job.model_id, job.model_version, job.model_file);
  if (!sbml.ok()) {
    status = sbml.status();
  } else if (job.kind == "trial") {
    auto r = RunTrial(job, *sbml, &members_csv, &bands_csv);
    if (r.ok()) result = std::move(*r); else status = r.status();
  } else {
    auto r = RunCompare(job, *sbml);
    if (r.ok()) result = std::move(*r); else status = r.status();
  }
  const bool cancelled = job.cancel.load();
  if (status.ok() && !cancelled) {
    // Store the result as a private resource of the owner.
    repo::NewResource nr;
    nr.id = "result-" + job.id.substr(4);
    nr.kind = repo::ResourceKind::kResult;
    nr.visibility = repo::Visibility::kPrivate;
    nr.metadata.title = job.title;
    nr.metadata.description = "Result of " + job.kind + " job " + job.id + " on " + job.model_id + "@" +
                              job.model_version.substr(0, 12);
    auto created = repo_.CreateResource(job.principal, nr);
    if (!created.ok()) {
      status = created.status();
    } else {
      repo::NewVersion v;
      v.message = "job " + job.id;
      v.files.push_back({"job.json", job.request.dump(1) + "\n", "application/json"});
      v.files.push_back({"result.json", result.dump() + "\n", "application/json"});
      if (!members_csv.empty()) v.files.push_back({"members.csv", members_csv, "text/csv"});
      if (!bands_csv.empty()) v.files.push_back({"bands.csv", bands_csv, "text/csv"});
      v.provenance.derived_from = {job.model_id + "@" + job.model_version};
      v.provenance.generated_by = "soma job " + job.id;
      v.provenance.software_version = options_.software_version;
      v.provenance.inputs = {"job.json"};
      auto pushed = repo_.PushVersion(job.principal, created->id, v);
      if (!pushed.ok()) status = pushed.status();
      else result_id = created->id;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  job.finished_ms = NowMs();
  job.result_id = result_id;
  if (stopping_ && result_id.empty()) {
    // Stopped by the server going down, not by its owner.
    job.state = "failed";
    job.error = "server restarted";
  } else if (cancelled) {
    job.state = "cancelled";
  } else if (status.ok()) {
    job.state = "succeeded";
  } else {
    job.state = "failed";
    job.error = status.ToString();
  }
  Save(job);
}

Result<Json> JobManager::RunCompare(Job& job, const std::string& sbml) {
  SOMA_ASSIGN_OR_RETURN(auto imported, ImportModel(sbml));
  const Json& list = job.request["scenarios"];
  job.total = static_cast<long>(list.size());
  sim::SimulationOptions o;
  o.integrator = sim::IntegratorOptionsForAccuracy(1e-6, 1e-6);
  Json runs = Json::array();
  for (size_t i = 0; i < list.size(); ++i) {
    if (job.cancel) return FailedPrecondition("cancelled");
    SOMA_ASSIGN_OR_RETURN(auto s, scenario::ParseScenario(list[i]));
    auto run = scenario::RunScenario(s, imported.model, o);
    if (!run.ok()) return run.status().WithContext("scenarios[" + std::to_string(i) + "]");
    runs.push_back(scenario::ToJson(*run));
    job.done = static_cast<long>(i + 1);
  }
  return Json{{"kind", "scenario-compare"},
              {"model", {{"id", job.model_id}, {"version", job.model_version}}},
              {"scenarios", runs}};
}

Result<Json> JobManager::RunTrial(Job& job, const std::string& sbml, std::string* members_csv,
                                  std::string* bands_csv) {
  SOMA_ASSIGN_OR_RETURN(auto imported, ImportModel(sbml));
  SOMA_ASSIGN_OR_RETURN(auto trial, scenario::ParseTrial(job.request["trial"], ""));
  job.total = scenario::PopulationSize(trial);
  scenario::TrialOptions o;
  o.threads = options_.trial_threads;
  o.simulation.integrator = sim::IntegratorOptionsForAccuracy(1e-6, 1e-6);
  o.cancel = &job.cancel;
  o.progress = [&job](long done, long) { job.done = done; };
  SOMA_ASSIGN_OR_RETURN(auto results, scenario::RunTrialMembers(trial, imported.model, o));
  job.done = job.total.load();
  *members_csv = scenario::MembersCsv(trial, results);
  const scenario::TrialSummary summary = scenario::SummariseTrial(trial, results);
  *bands_csv = scenario::BandsCsv(trial, summary);
  Json j = scenario::ToJson(trial, summary);
  j["model"] = {{"id", job.model_id}, {"version", job.model_version}};
  if (trial.sensitivity) {
    o.progress = nullptr;
    SOMA_ASSIGN_OR_RETURN(j["sensitivity"], scenario::RunTrialSensitivity(trial, imported.model, o));
  }
  return j;
}

}  // namespace soma::server
