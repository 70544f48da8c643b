#pragma once
// Test support for the API suites: a live `soma serve` child process on a
// free port with its own temporary data folder (and, when
// SOMA_TEST_POSTGRES_URL is set and the backend asks for it, its own fresh
// PostgreSQL database), plus a small HTTP client that speaks JSON.

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "../run_command.h"
#include "repo/database.h"
#include "repo/test_database.h"

namespace soma::apitest {

using Json = nlohmann::json;
namespace fs = std::filesystem;

// The backends a suite runs on: sqlite always, postgres when configured.
std::vector<repo::Dialect> Backends();

// A fresh temporary folder, removed on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct ServeOptions {
  repo::Dialect backend = repo::Dialect::kSqlite;
  std::vector<std::string> extra_args;  // e.g. {"--max-upload", "1000"}
  bool tls = false;                     // serve HTTPS with a fresh self-signed cert
};

class ServerProcess {
 public:
  // Starts `soma serve --port 0` on `data_dir` and waits until it listens.
  // Fails the current test (returns null) if it does not come up.
  static std::unique_ptr<ServerProcess> Start(const fs::path& data_dir, const ServeOptions& options);
  // Starts again on the same data folder and database (after Kill or Stop).
  bool Restart();
  ~ServerProcess();

  const std::string& url() const { return url_; }
  int port() const { return port_; }
  const std::string& admin_token() const { return admin_token_; }
  const std::string& database_url() const { return database_url_; }
  const fs::path& data_dir() const { return data_dir_; }
  const fs::path& cert_file() const { return cert_; }  // TLS only
  pid_t pid() const { return pid_; }
  // Everything the server printed on stdout so far (startup banner).
  const std::string& banner() const { return banner_; }

  // SIGKILL, and reap.
  void Kill();
  // SIGTERM, then wait; returns the exit status (-1 if it did not exit
  // normally) and appends what it printed while stopping to banner().
  int Stop();

 private:
  ServerProcess() = default;
  bool Launch();
  void Reap();

  fs::path data_dir_;
  ServeOptions options_;
  std::unique_ptr<repo::TestDatabase> database_;
  std::string database_url_;
  fs::path cert_, key_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  std::string url_;
  std::string admin_token_;
  std::string banner_;
};

// A response as tests see it.
struct Response {
  int status = 0;  // 0: transport error
  std::string body;
  httplib::Headers headers;
  std::string header(const std::string& name) const;
  Json json() const;  // null if the body is not JSON
};

// A JSON-speaking client for one server and one identity.
class Client {
 public:
  Client(const std::string& url, std::string token = "", const std::string& ca_cert = "");
  Response Get(const std::string& path, const httplib::Headers& extra = {});
  Response Delete(const std::string& path);
  Response Post(const std::string& path, const Json& body);
  Response Patch(const std::string& path, const Json& body);
  Response PostRaw(const std::string& path, const std::string& body, const std::string& content_type);
  Response Send(const std::string& method, const std::string& path, const std::string& body = "",
                const std::string& content_type = "", const httplib::Headers& extra = {});

 private:
  httplib::Client client_;
  std::string token_;
};

// A push body with the given files (path -> bytes).
Json PushBody(const std::vector<std::pair<std::string, std::string>>& files, const std::string& message,
              const Json& metadata = nullptr);

// Runs the soma binary with `args`; returns exit code and stdout+stderr.
using CommandResult = soma::test::CommandResult;
CommandResult RunSoma(const std::string& args);

std::string RandomHexString(int bytes);

}  // namespace soma::apitest
