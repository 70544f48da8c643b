#pragma once
// Soma's HTTP server: the route table (routes.h) served by cpp-httplib on a
// thread pool, with what every route shares done here once:
//  * authentication: "Authorization: Bearer <token>" -> Repository::
//    Authenticate; no header = anonymous; a bad token = 401;
//  * per-client rate limiting (token id, or IP for anonymous callers) -> 429
//    with Retry-After;
//  * errors as application/problem+json (problem.h), including the HTTP
//    layer's own (no route 404, method 405, body too large 413);
//  * strong ETags and If-None-Match -> 304 on cacheable GETs;
//  * one log line per request on stderr: method, path, status, ms (never
//    headers, so never tokens).
//
// Thread safety: Stop() may be called from any thread; everything else from
// the thread that created the server.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "server/api_service.h"
#include "server/rate_limiter.h"
#include "server/routes.h"

namespace soma::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see Server::port())
  // TLS: both or neither. PEM files.
  std::string tls_cert;
  std::string tls_key;
  // Largest request body accepted, bytes; larger ones get 413. Must be > 0.
  std::int64_t max_upload_bytes = std::int64_t{64} << 20;
  // Requests per second per client, with bursts up to `rate_burst`
  // (<= 0: same as rate). 0 disables the limit.
  double rate_limit = 50;
  double rate_burst = 0;
  // Worker threads, >= 1. httplib holds a thread per open (kept-alive)
  // connection, so this bounds the concurrent connections served.
  int threads = 32;
  bool log_requests = true;
  // Folder of the built web UI (web/dist) served at / for GETs outside the
  // API (static_files.h: SPA fallback to index.html, traversal refused).
  // Empty: no UI, every non-API path is 404. Must be a folder when set.
  std::string web_root;

  // kInvalidArgument naming the field and its rule.
  Status Validate() const;
};

class Server {
 public:
  // `service` must outlive the server. Errors: invalid options; kIoError
  // when the TLS certificate or key cannot be loaded.
  static Result<std::unique_ptr<Server>> Create(ApiService& service, const ServerOptions& options);
  ~Server();

  // Binds the listening socket (kUnavailable if the address is taken).
  Status Bind();
  int port() const;          // after Bind()
  std::string url() const;   // "http(s)://host:port"
  // Serves until Stop(). Returns kUnavailable if the listener failed.
  Status Serve();
  void Stop();

  const std::vector<Route>& routes() const;

 private:
  class Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace soma::server
