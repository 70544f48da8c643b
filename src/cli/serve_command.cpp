// `soma serve`: the repository's HTTP API on one port.

#include <CLI/CLI.hpp>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/validators.h"
#include "cli/model_loading.h"
#include "repo/repository.h"
#include "server/api_service.h"
#include "server/jobs.h"
#include "server/seed.h"
#include "server/server.h"
#include "server/twin_service.h"

namespace soma::cli {

namespace {

struct ServeArgs {
  std::string data = "soma-data";
  std::string db;
  // --web-root; unset: the build's web/dist when it exists (SOMA_WEB_DIST).
  std::string web_root;
  bool no_web = false;
  server::ServerOptions server;
  server::JobOptions jobs;
};

// The built UI of this source tree (scripts/web.sh writes it), if present.
std::string DefaultWebRoot() {
#ifdef SOMA_WEB_DIST
  std::error_code ec;
  if (std::filesystem::is_regular_file(std::filesystem::path(SOMA_WEB_DIST) / "index.html", ec)) return SOMA_WEB_DIST;
#endif
  return "";
}

// "postgresql://user:secret@host/db" -> "postgresql://host/db": never print
// credentials.
std::string RedactUrl(const std::string& url) {
  size_t scheme = url.find("://");
  size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  return url.substr(0, scheme + 3) + url.substr(at + 1);
}

int RunServe(ServeArgs a) {
  // SIGINT/SIGTERM are taken by one watcher thread (sigwait) that stops the
  // server; blocking them before any thread starts makes every thread
  // inherit the mask, so no worker is interrupted mid-request.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (!a.no_web) a.server.web_root = a.web_root.empty() ? DefaultWebRoot() : a.web_root;

  repo::RepositoryOptions ro;
  ro.data_dir = a.data;
  ro.database_url = a.db;
  // The HTTP body limit is the API's upload limit; the repository's own
  // per-file limit only needs to admit what the server accepts (and the
  // bundled models, whatever --max-upload is).
  ro.max_file_bytes = std::max(ro.max_file_bytes, a.server.max_upload_bytes);
  ro.software_version = std::string(kVersion);
  auto repo = repo::Repository::Open(ro);
  if (!repo.ok()) return ReportError(repo.status());
  std::filesystem::path token_file = std::filesystem::path(a.data) / "admin-token";
  auto first = server::InitializeOnFirstStart(**repo, token_file);
  if (!first.ok()) return ReportError(first.status().WithContext("first start"));

  server::ApiService service(**repo);
  a.jobs.dir = (std::filesystem::path(a.data) / "jobs").string();
  a.jobs.software_version = std::string(kVersion);
  auto jobs = server::JobManager::Create(**repo, a.jobs);
  if (!jobs.ok()) return ReportError(jobs.status());
  service.set_jobs(jobs->get());
  if (auto twins = service.twins(); twins.ok()) {
    server::TwinService* t = *twins;
    (*jobs)->set_posterior_reader(
        [t](const repo::Principal& p, const std::string& id) { return t->Posterior(p, id); });
  }
  auto srv = server::Server::Create(service, a.server);
  if (!srv.ok()) return ReportError(srv.status());
  if (Status s = (*srv)->Bind(); !s.ok()) return ReportError(s);

  std::string url = (*srv)->url();
  std::cout << "soma: repository " << std::filesystem::absolute(a.data).string() << " ("
            << (a.db.empty() ? "sqlite" : RedactUrl(a.db)) << ")\n";
  if (first->happened) {
    std::cout << "soma: first start: created user 'admin'; its API token is in " << token_file.string()
              << " (mode 0600)\n";
    std::cout << "soma: seeded " << first->seeded.size() << " bundled model(s)";
    for (const auto& id : first->seeded) std::cout << " " << id;
    std::cout << "\n";
  }
  std::cout << "soma: log in with:  export SOMA_TOKEN=$(cat " << token_file.string() << ")\n"
            << "soma:   curl -H \"Authorization: Bearer $SOMA_TOKEN\" " << url << "/v1/me\n"
            << "soma:   soma repo search --server " << url << "\n"
            << "soma: API description at " << url << "/v1/openapi.json\n"
            << (a.server.web_root.empty()
                    ? std::string("soma: no web UI (build it with scripts/web.sh or pass --web-root DIR)\n")
                    : "soma: web UI at " + url + "/ (from " + a.server.web_root + ")\n")
            << "soma: listening on " << url << std::endl;

  server::Server* server = srv->get();
  std::thread watcher([&signals, server] {
    int sig = 0;
    sigwait(&signals, &sig);
    server->Stop();
  });
  Status served = server->Serve();
  // Wake the watcher if the listener ended on its own.
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  std::cout << "soma: stopped" << std::endl;
  if (!served.ok()) return ReportError(served);
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Serve the repository's HTTP API (JSON under /v1/, OpenAPI at /v1/openapi.json)");
  cmd->add_option("--data", args->data, "Data folder: blobs, SQLite file, admin-token")->capture_default_str();
  cmd->add_option("--db", args->db, "Database URL (postgresql://...); default SQLite in the data folder");
  cmd->add_option("--host", args->server.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", args->server.port, "Port (0: any free port)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--web-root", args->web_root,
                  "Folder of the built web UI served at / (default: this build's web/dist when it exists)")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--no-web", args->no_web, "Serve the API only, no web UI");
  cmd->add_option("--tls-cert", args->server.tls_cert, "PEM certificate: serve HTTPS")->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", args->server.tls_key, "PEM private key of --tls-cert")->check(CLI::ExistingFile);
  cmd->add_option("--max-upload", args->server.max_upload_bytes, "Largest request body, bytes (413 beyond)")
      ->capture_default_str()->check(Positive());
  cmd->add_option("--rate-limit", args->server.rate_limit,
                  "Requests per second per client (token, or IP when anonymous); 0: unlimited")
      ->capture_default_str()->check(NonNegative());
  cmd->add_option("--rate-burst", args->server.rate_burst, "Burst size of the rate limit")->capture_default_str();
  cmd->add_option("--threads", args->server.threads, "Worker threads")->capture_default_str()->check(Positive());
  cmd->add_option("--job-workers", args->jobs.workers, "Jobs (scenario comparisons, trials) run at once")
      ->capture_default_str()->check(Positive());
  cmd->add_option("--job-queue", args->jobs.queue, "Jobs waiting beyond the running ones (then 503)")
      ->capture_default_str()->check(NonNegative());
  cmd->add_option("--job-threads", args->jobs.trial_threads, "Threads per trial job")
      ->capture_default_str()->check(Positive());
  cmd->add_flag("!--no-log", args->server.log_requests, "Do not log requests to stderr");
  cmd->callback([args] { SetExitCode(RunServe(*args)); });
}

}  // namespace soma::cli
