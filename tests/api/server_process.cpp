#include "server_process.h"

#include <algorithm>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "repo/crypto.h"
#include "server/base64.h"

namespace soma::apitest {

std::vector<repo::Dialect> Backends() { return repo::TestDialects(); }

std::string RandomHexString(int bytes) { return repo::RandomHex(bytes); }

TempDir::TempDir(const std::string& tag) {
  path_ = fs::temp_directory_path() / ("soma_api_" + tag + "_" + repo::RandomHex(6));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::unique_ptr<ServerProcess> ServerProcess::Start(const fs::path& data_dir, const ServeOptions& options) {
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  p->data_dir_ = data_dir;
  p->options_ = options;
  if (options.backend == repo::Dialect::kPostgres) {
    auto db = repo::MakeTestDatabase(repo::Dialect::kPostgres, data_dir);
    if (!db.ok()) {
      ADD_FAILURE() << "cannot create a PostgreSQL test database: " << db.status().ToString();
      return nullptr;
    }
    p->database_ = std::move(db).value();
    p->database_url_ = p->database_->url();
  }
  if (options.tls) {
    p->cert_ = data_dir.parent_path() / (data_dir.filename().string() + "-cert.pem");
    p->key_ = data_dir.parent_path() / (data_dir.filename().string() + "-key.pem");
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                      "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
                      p->key_.string() + " -out " + p->cert_.string() + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      ADD_FAILURE() << "openssl could not make a self-signed certificate";
      return nullptr;
    }
  }
  if (!p->Launch()) return nullptr;
  return p;
}

bool ServerProcess::Launch() {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return false;
  std::vector<std::string> args = {SOMA_BINARY, "serve", "--data", data_dir_.string(), "--port", "0"};
  if (!database_url_.empty()) args.insert(args.end(), {"--db", database_url_});
  if (options_.tls) args.insert(args.end(), {"--tls-cert", cert_.string(), "--tls-key", key_.string()});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  // The API suites test the API alone: no web UI unless a suite names a web root
  // (otherwise this build's web/dist, when built, would answer non-API paths).
  if (std::find(options_.extra_args.begin(), options_.extra_args.end(), "--web-root") == options_.extra_args.end()) {
    args.push_back("--no-web");
  }
  std::string log = data_dir_.string() + ".log";
  pid_ = fork();
  if (pid_ == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log_fd >= 0) dup2(log_fd, STDERR_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  stdout_fd_ = pipe_fds[0];
  // Read the banner until the "listening on URL" line.
  std::string text;
  char buf[4096];
  const std::string marker = "soma: listening on ";
  while (true) {
    ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    size_t at = text.find(marker);
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
      url_ = text.substr(at + marker.size(), text.find('\n', at) - at - marker.size());
      break;
    }
  }
  banner_ += text;
  if (url_.empty()) {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    ADD_FAILURE() << "soma serve did not start; stdout:\n" << text << "\nstderr:\n" << ss.str();
    Reap();
    return false;
  }
  port_ = std::stoi(url_.substr(url_.rfind(':') + 1));
  std::ifstream token(data_dir_ / "admin-token");
  std::getline(token, admin_token_);
  return true;
}

bool ServerProcess::Restart() {
  url_.clear();
  return Launch();
}

void ServerProcess::Reap() {
  if (pid_ > 0) {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  if (stdout_fd_ >= 0) {
    close(stdout_fd_);
    stdout_fd_ = -1;
  }
}

void ServerProcess::Kill() {
  if (pid_ > 0) kill(pid_, SIGKILL);
  Reap();
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  char buf[4096];
  ssize_t n;
  while ((n = read(stdout_fd_, buf, sizeof buf)) > 0) banner_.append(buf, static_cast<size_t>(n));
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  close(stdout_fd_);
  stdout_fd_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop();
}

std::string Response::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  }
  return "";
}

Json Response::json() const { return Json::parse(body, nullptr, false); }

Client::Client(const std::string& url, std::string token, const std::string& ca_cert)
    : client_(url), token_(std::move(token)) {
  client_.set_connection_timeout(10);
  client_.set_read_timeout(120);
  client_.set_write_timeout(120);
  if (!ca_cert.empty()) client_.set_ca_cert_path(ca_cert);
}

Response Client::Send(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& content_type, const httplib::Headers& extra) {
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.headers = extra;
  if (!token_.empty()) req.headers.emplace("Authorization", "Bearer " + token_);
  if (!content_type.empty()) {
    req.headers.emplace("Content-Type", content_type);
    req.body = body;
  }
  auto res = client_.send(req);
  Response r;
  if (!res) return r;
  r.status = res->status;
  r.body = res->body;
  r.headers = res->headers;
  return r;
}

Response Client::Get(const std::string& path, const httplib::Headers& extra) {
  return Send("GET", path, "", "", extra);
}
Response Client::Delete(const std::string& path) { return Send("DELETE", path); }
Response Client::Post(const std::string& path, const Json& body) {
  return Send("POST", path, body.dump(), "application/json");
}
Response Client::Patch(const std::string& path, const Json& body) {
  return Send("PATCH", path, body.dump(), "application/json");
}
Response Client::PostRaw(const std::string& path, const std::string& body, const std::string& content_type) {
  return Send("POST", path, body, content_type);
}

Json PushBody(const std::vector<std::pair<std::string, std::string>>& files, const std::string& message,
              const Json& metadata) {
  Json list = Json::array();
  for (const auto& [path, bytes] : files) {
    list.push_back({{"path", path}, {"content_base64", server::Base64Encode(bytes)}});
  }
  Json body = {{"message", message}, {"files", list}};
  if (!metadata.is_null()) body["metadata"] = metadata;
  return body;
}

CommandResult RunSoma(const std::string& args) {
  return soma::test::RunShell(std::string(SOMA_BINARY) + " " + args + " 2>&1");
}

}  // namespace soma::apitest
