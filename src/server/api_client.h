#pragma once
// How the CLI reaches a repository: a server over HTTP(S), or a local data
// folder served in-process through the very same route table. Both speak
// the HTTP API's requests and responses, so every `soma repo ...` command
// behaves and prints the same either way.
//
// Thread safety: one client per thread.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "repo/repository.h"
#include "server/api_service.h"
#include "server/json_codec.h"

namespace soma::server {

struct ApiResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

class ApiClient {
 public:
  virtual ~ApiClient() = default;

  // One request. `path` is already percent-encoded (see EncodePath). A
  // transport failure is kUnavailable; HTTP errors are returned as responses.
  virtual Result<ApiResponse> Send(const std::string& method, const std::string& path, const Params& query,
                                   const std::string& body, const std::string& content_type) = 0;

  // Send + problem mapping: a non-2xx response becomes the Status its
  // problem document names (StatusFromProblem). JSON responses are parsed.
  Result<Json> SendJson(const std::string& method, const std::string& path, const Params& query = {},
                        const Json* body = nullptr);
  Result<std::string> SendBytes(const std::string& method, const std::string& path, const Params& query = {},
                                const std::string& body = "", const std::string& content_type = "");
};

struct RemoteOptions {
  std::string url;    // "http://host:port" or "https://..."
  std::string token;  // empty: anonymous
  std::string ca_cert;  // PEM file to trust for https (e.g. a self-signed server)
  int timeout_seconds = 300;
};
Result<std::unique_ptr<ApiClient>> ConnectRemote(const RemoteOptions& options);

struct LocalOptions {
  repo::RepositoryOptions repository;
  // Acts as this user; empty: "admin". On a repository without users the
  // first-start initialisation runs as `soma serve` would (admin, token file
  // in the data folder, bundled models).
  std::string user;
};
Result<std::unique_ptr<ApiClient>> OpenLocal(const LocalOptions& options);

// Where a command's requests go: a server (`server` non-empty) or a local
// data folder.
struct ClientTarget {
  std::string server;    // URL; empty: local
  std::string token;     // for a server; empty: anonymous
  std::string ca_cert;   // for https with a private CA / self-signed cert
  std::string data_dir = "soma-data";
  std::string database_url;  // empty: SQLite in data_dir
  std::string user;          // local mode: act as this user (default admin)
};
Result<std::unique_ptr<ApiClient>> Connect(const ClientTarget& target);

// The principal a local user acts as (role and groups from the repository).
Result<repo::Principal> PrincipalForUser(repo::Repository& repo, const std::string& user);

// Percent-encodes one path segment (or, with keep_slash, a relative path).
std::string EncodePath(std::string_view segment, bool keep_slash = false);

}  // namespace soma::server
