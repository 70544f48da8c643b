#include "server/server.h"
#include "server/twin_service.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <optional>
#include <utility>

#include "core/files.h"
#include "repo/crypto.h"
#include "server/problem.h"
#include "server/static_files.h"

namespace soma::server {

namespace {

constexpr std::string_view kApiVersion = "0.1.0";

// Start time of the request being handled on this worker thread. httplib
// runs the pre-routing handler, the route and the logger for one request on
// one thread, so this is how the logger learns the elapsed time without
// threading state through the library.
thread_local std::optional<std::chrono::steady_clock::time_point> t_request_start;

void WriteProblem(httplib::Response& res, const Problem& p) {
  res.status = p.status;
  res.set_content(p.ToJson().dump(), std::string(kProblemJson));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ prefixes are
// ignored; "*" matches any current representation.
bool IfNoneMatchMatches(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view tag = Trim(header.substr(0, comma));
    if (tag == "*") return true;
    if (tag.rfind("W/", 0) == 0) tag.remove_prefix(2);
    if (tag == etag) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

// The rate-limit key of a token "soma_<id>_<secret>": its public id.
std::string TokenKey(const std::string& token) {
  if (token.rfind("soma_", 0) == 0) {
    size_t end = token.find('_', 5);
    if (end != std::string::npos) return "token:" + token.substr(5, end - 5);
  }
  return "token:" + repo::Sha256Hex(token).substr(0, 16);
}

}  // namespace

Status ServerOptions::Validate() const {
  if (port < 0 || port > 65535) return InvalidArgument("ServerOptions::port = " + std::to_string(port) + "; must be 0-65535");
  if (max_upload_bytes <= 0) {
    return InvalidArgument("ServerOptions::max_upload_bytes = " + std::to_string(max_upload_bytes) + "; must be > 0");
  }
  if (rate_limit < 0) return InvalidArgument("ServerOptions::rate_limit = " + std::to_string(rate_limit) + "; must be >= 0");
  if (threads < 1) return InvalidArgument("ServerOptions::threads = " + std::to_string(threads) + "; must be >= 1");
  if (tls_cert.empty() != tls_key.empty()) {
    return InvalidArgument("ServerOptions::tls_cert and tls_key: give both or neither");
  }
  if (!web_root.empty() && !std::filesystem::is_directory(web_root)) {
    return InvalidArgument("ServerOptions::web_root = '" + web_root + "'; must be an existing folder");
  }
  return Status::Ok();
}

class Server::Impl {
 public:
  Impl(ApiService& service, const ServerOptions& options)
      : service_(service),
        options_(options),
        limiter_(RateLimitOptions{options.rate_limit, options.rate_burst}) {}

  Status Init();
  void Handle(const Route& route, const httplib::Request& req, httplib::Response& res);
  // What an authenticated request acts as, and its rate-limit key.
  Result<repo::Principal> Identify(const httplib::Request& req, std::string* key);
  void WriteReply(const Route& route, const httplib::Request& req, Reply reply, httplib::Response& res);
  httplib::Server::HandlerResponse OnError(const httplib::Request& req, httplib::Response& res);
  // The web UI's file for a GET outside /v1 (static_files.h).
  void ServeStatic(const httplib::Request& req, httplib::Response& res);

  ApiService& service_;
  ServerOptions options_;
  RateLimiter limiter_;
  std::unique_ptr<httplib::Server> http_;
  std::vector<Route> routes_;
  std::string openapi_;
  int port_ = -1;
};

Status Server::Impl::Init() {
  if (options_.tls_cert.empty()) {
    http_ = std::make_unique<httplib::Server>();
  } else {
    auto ssl = std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(), options_.tls_key.c_str());
    if (!ssl->is_valid()) {
      return IoError("cannot load TLS certificate '" + options_.tls_cert + "' or key '" + options_.tls_key + "'");
    }
    http_ = std::move(ssl);
  }
  int threads = options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_->set_payload_max_length(static_cast<size_t>(options_.max_upload_bytes));
  // httplib writes headers and body separately; without TCP_NODELAY, Nagle
  // plus delayed ACKs add ~40 ms to every response with a body.
  http_->set_tcp_nodelay(true);
  // httplib serves one connection per worker thread while it is kept alive;
  // a bounded count lets waiting connections have their turn.
  http_->set_keep_alive_max_count(100);

  routes_ = ApiRoutes(service_);
  routes_.push_back({.method = "GET", .path = "/v1/openapi.json", .operation_id = "openapi",
                     .summary = "This API's OpenAPI 3.0 document", .tag = "health", .access = "anyone",
                     .rate_limited = false,
                     .handler = [this](const Call&) -> Result<Reply> {
                       Reply r;
                       r.body = openapi_;
                       return r;
                     }});
  openapi_ = OpenApiDocument(routes_, kApiVersion).dump(1);

  for (const Route& route : routes_) {
    const Route* r = &route;
    httplib::Server::Handler h = [this, r](const httplib::Request& req, httplib::Response& res) {
      Handle(*r, req, res);
    };
    std::string pattern = PathRegex(route.path);
    if (route.method == "GET") http_->Get(pattern, h);
    else if (route.method == "POST") http_->Post(pattern, h);
    else if (route.method == "PATCH") http_->Patch(pattern, h);
    else if (route.method == "DELETE") http_->Delete(pattern, h);
    else if (route.method == "PUT") http_->Put(pattern, h);
    else return Internal("route " + route.path + ": unsupported method " + route.method);
  }

  http_->set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    t_request_start = std::chrono::steady_clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http_->set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) { return OnError(req, res); }));
  http_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    WriteProblem(res, HttpProblem(500, "unexpected exception while handling the request"));
  });
  if (options_.log_requests) {
    http_->set_logger([](const httplib::Request& req, const httplib::Response& res) {
      double ms = -1;
      if (t_request_start) {
        ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - *t_request_start).count();
        t_request_start.reset();
      }
      std::fprintf(stderr, "%s %s %d %.1fms\n", req.method.c_str(), req.path.c_str(), res.status, ms);
    });
  }
  return Status::Ok();
}

Result<repo::Principal> Server::Impl::Identify(const httplib::Request& req, std::string* key) {
  *key = "ip:" + req.remote_addr;
  if (!req.has_header("Authorization")) return repo::Principal::Anonymous();
  const std::string header = req.get_header_value("Authorization");
  std::string_view value = Trim(header);
  size_t space = value.find(' ');
  if (space == std::string_view::npos || !EqualsIgnoreCase(value.substr(0, space), "Bearer")) {
    return Unauthenticated("Authorization header must be 'Bearer <token>'");
  }
  std::string token(Trim(value.substr(space + 1)));
  SOMA_ASSIGN_OR_RETURN(auto principal, service_.repository().Authenticate(token));
  *key = TokenKey(token);
  return principal;
}

void Server::Impl::Handle(const Route& route, const httplib::Request& req, httplib::Response& res) {
  std::string key;
  auto principal = Identify(req, &key);
  if (route.rate_limited) {
    auto decision = limiter_.Take(key);
    if (!decision.allowed) {
      WriteProblem(res, HttpProblem(429, "rate limit exceeded; retry after " +
                                             std::to_string(decision.retry_after_seconds) + " s"));
      res.set_header("Retry-After", std::to_string(decision.retry_after_seconds));
      return;
    }
  }
  Result<Reply> reply = principal.ok() ? route.handler(Call{req, *principal}) : Result<Reply>(principal.status());
  if (!reply.ok()) {
    WriteProblem(res, ProblemFromStatus(reply.status()));
    if (res.status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"soma\"");
    return;
  }
  WriteReply(route, req, std::move(reply).value(), res);
}

void Server::Impl::WriteReply(const Route& route, const httplib::Request& req, Reply reply,
                              httplib::Response& res) {
  for (auto& [name, value] : reply.headers) res.set_header(name, value);
  if (reply.stream) {
    res.status = reply.status;
    res.set_chunked_content_provider(reply.content_type, std::move(reply.stream));
    return;
  }
  if (reply.cacheable && (req.method == "GET" || req.method == "HEAD")) {
    std::string etag = "\"" + (reply.etag.empty() ? repo::Sha256Hex(reply.body) : reply.etag) + "\"";
    res.set_header("ETag", etag);
    // Responses depend on who asks: shared caches must not reuse them.
    res.set_header("Cache-Control", "private, no-cache");
    res.set_header("Vary", "Authorization");
    if (req.has_header("If-None-Match") && IfNoneMatchMatches(req.get_header_value("If-None-Match"), etag)) {
      res.status = 304;
      return;
    }
  }
  res.status = reply.status;
  if (reply.status != 204) res.set_content(std::move(reply.body), reply.content_type);
}

httplib::Server::HandlerResponse Server::Impl::OnError(const httplib::Request& req, httplib::Response& res) {
  if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // a route's problem
  if (res.status == 404 && !options_.web_root.empty() && (req.method == "GET" || req.method == "HEAD") &&
      !IsApiPath(req.path)) {
    ServeStatic(req, res);
    return httplib::Server::HandlerResponse::Handled;
  }
  if (res.status == 404) {
    std::string allow;
    for (const Route& r : routes_) {
      if (std::regex_match(req.path, std::regex(PathRegex(r.path)))) allow += (allow.empty() ? "" : ", ") + r.method;
    }
    if (!allow.empty()) {
      WriteProblem(res, HttpProblem(405, req.method + " is not allowed on " + req.path + " (allowed: " + allow + ")"));
      res.set_header("Allow", allow);
    } else {
      WriteProblem(res, HttpProblem(404, "no route for " + req.method + " " + req.path));
    }
  } else if (res.status == 413) {
    WriteProblem(res, HttpProblem(413, "request body larger than the limit of " +
                                           std::to_string(options_.max_upload_bytes) + " bytes"));
  } else {
    WriteProblem(res, HttpProblem(res.status, std::string(HttpReason(res.status))));
  }
  return httplib::Server::HandlerResponse::Handled;
}

void Server::Impl::ServeStatic(const httplib::Request& req, httplib::Response& res) {
  auto file = ResolveStaticFile(options_.web_root, req.path);
  if (!file.ok()) {
    WriteProblem(res, ProblemFromStatus(file.status()));
    return;
  }
  auto bytes = ReadWholeFile(file->path);
  if (!bytes.ok()) {
    WriteProblem(res, HttpProblem(500, "cannot read a file of the web UI"));
    return;
  }
  res.status = 200;
  res.set_header("Cache-Control", file->cache_control);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(*bytes, file->content_type);
}

Result<std::unique_ptr<Server>> Server::Create(ApiService& service, const ServerOptions& options) {
  SOMA_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>(service, options);
  SOMA_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Status Server::Bind() {
  if (impl_->options_.port == 0) {
    impl_->port_ = impl_->http_->bind_to_any_port(impl_->options_.host);
  } else if (impl_->http_->bind_to_port(impl_->options_.host, impl_->options_.port)) {
    impl_->port_ = impl_->options_.port;
  }
  if (impl_->port_ <= 0) {
    return Unavailable("cannot listen on " + impl_->options_.host + ":" + std::to_string(impl_->options_.port));
  }
  return Status::Ok();
}

int Server::port() const { return impl_->port_; }

std::string Server::url() const {
  std::string host = impl_->options_.host == "0.0.0.0" ? "127.0.0.1" : impl_->options_.host;
  return (impl_->options_.tls_cert.empty() ? "http://" : "https://") + host + ":" + std::to_string(impl_->port_);
}

Status Server::Serve() {
  if (!impl_->http_->listen_after_bind()) return Unavailable("the listener stopped with an error");
  return Status::Ok();
}

void Server::Stop() {
  // Event streams wait on the twin service; release them first.
  if (auto twins = impl_->service_.twins(); twins.ok()) (*twins)->Stop();
  impl_->http_->stop();
}

const std::vector<Route>& Server::routes() const { return impl_->routes_; }

}  // namespace soma::server
