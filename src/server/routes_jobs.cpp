// Routes for jobs: scenario comparisons and trials run on the server
// (server/jobs.h).

#include "server/jobs.h"
#include "server/routes.h"

namespace soma::server {
namespace {

Result<JobManager*> Jobs(ApiService& s) {
  if (s.jobs() == nullptr) return Unavailable("jobs are not enabled on this server");
  return s.jobs();
}

Result<Reply> JsonOf(Result<Json> r, int status = 200) {
  if (!r.ok()) return r.status();
  return Reply::FromJson(*r, status);
}

}  // namespace

void AddJobRoutes(ApiService& s, std::vector<Route>* routes) {
  routes->push_back({
      .method = "POST", .path = "/v1/jobs", .operation_id = "submitJob",
      .summary = "Start a scenario comparison or a trial on a model version; the result becomes a private "
                 "resource of kind result",
      .tag = "jobs", .access = "contributor, curator, admin (who can read the model, and for a trial on a twin's posterior the twin)",
      .body_types = {"application/json"}, .success = 202,
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(JobManager * jobs, Jobs(s));
        SOMA_ASSIGN_OR_RETURN(Json body, ParseJsonObject(c.http.body));
        SOMA_ASSIGN_OR_RETURN(Json job, jobs->Submit(c.principal, body));
        Reply r = Reply::FromJson(job, 202);
        r.headers.emplace("Location", "/v1/jobs/" + job["id"].get<std::string>());
        return r;
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/jobs", .operation_id = "listJobs",
      .summary = "The caller's jobs, newest first (admins: everyone's)", .tag = "jobs",
      .access = "signed-in users (own jobs), admin (all; owner filter)",
      .query = {{"owner", "Only this user's jobs (admins)"},
                {"limit", "Page size, 1-100 (default 20)", "integer"},
                {"offset", "Items to skip (default 0)", "integer"}},
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(JobManager * jobs, Jobs(s));
        return JsonOf(jobs->List(c.principal, c.Query()));
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/jobs/{id}", .operation_id = "getJob",
      .summary = "A job's state, progress (0-1) and estimated seconds left", .tag = "jobs",
      .access = "the job's owner, admin",
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(JobManager * jobs, Jobs(s));
        return JsonOf(jobs->Get(c.principal, c.Path(0)));
      }});
  routes->push_back({
      .method = "DELETE", .path = "/v1/jobs/{id}", .operation_id = "cancelJob",
      .summary = "Cancel a job (cooperative: a running job stops between members or scenarios)", .tag = "jobs",
      .access = "the job's owner, admin", .success = 202,
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(JobManager * jobs, Jobs(s));
        return JsonOf(jobs->Cancel(c.principal, c.Path(0)), 202);
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/jobs/{id}/result", .operation_id = "getJobResult",
      .summary = "The result JSON of a succeeded job (also stored as the result resource's result.json)",
      .tag = "jobs", .access = "the job's owner, admin",
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(JobManager * jobs, Jobs(s));
        SOMA_ASSIGN_OR_RETURN(std::string body, jobs->ResultOf(c.principal, c.Path(0)));
        Reply r;
        r.body = std::move(body);
        return r;
      }});
}

}  // namespace soma::server
