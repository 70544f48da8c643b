#include "server/api_client.h"

#include <regex>

#include <httplib.h>

#include "server/problem.h"
#include "server/routes.h"
#include "server/seed.h"

namespace soma::server {

namespace {

class RemoteClient : public ApiClient {
 public:
  explicit RemoteClient(const RemoteOptions& o) : client_(o.url), token_(o.token) {
    client_.set_connection_timeout(10);
    client_.set_read_timeout(o.timeout_seconds);
    client_.set_write_timeout(o.timeout_seconds);
    if (!o.ca_cert.empty()) client_.set_ca_cert_path(o.ca_cert);
  }

  Result<ApiResponse> Send(const std::string& method, const std::string& path, const Params& query,
                           const std::string& body, const std::string& content_type) override {
    httplib::Request req;
    req.method = method;
    req.path = query.empty() ? path : httplib::append_query_params(path, query);
    if (!token_.empty()) req.headers.emplace("Authorization", "Bearer " + token_);
    if (!content_type.empty()) {
      req.headers.emplace("Content-Type", content_type);
      req.body = body;
    }
    httplib::Result res = client_.send(req);
    if (!res) {
      return Unavailable("cannot reach the server: " + httplib::to_string(res.error()));
    }
    return ApiResponse{res->status, res->get_header_value("Content-Type"), res->body};
  }

 private:
  httplib::Client client_;
  std::string token_;
};

// Serves requests in-process through the server's route table.
class LocalClient : public ApiClient {
 public:
  LocalClient(std::unique_ptr<repo::Repository> repo, repo::Principal principal)
      : repo_(std::move(repo)), service_(*repo_), principal_(std::move(principal)), routes_(ApiRoutes(service_)) {
    for (const Route& r : routes_) regexes_.emplace_back(PathRegex(r.path));
  }

  Result<ApiResponse> Send(const std::string& method, const std::string& path, const Params& query,
                           const std::string& body, const std::string& content_type) override {
    httplib::Request req;
    req.method = method;
    req.path = httplib::detail::decode_url(path, false);
    req.params = query;
    req.body = body;
    if (!content_type.empty()) req.headers.emplace("Content-Type", content_type);
    for (size_t i = 0; i < routes_.size(); ++i) {
      if (routes_[i].method != method || !std::regex_match(req.path, req.matches, regexes_[i])) continue;
      Result<Reply> reply = routes_[i].handler(Call{req, principal_});
      if (!reply.ok()) {
        Problem p = ProblemFromStatus(reply.status());
        return ApiResponse{p.status, std::string(kProblemJson), p.ToJson().dump()};
      }
      return ApiResponse{reply->status, reply->content_type, std::move(reply->body)};
    }
    Problem p = HttpProblem(404, "no route for " + method + " " + path);
    return ApiResponse{404, std::string(kProblemJson), p.ToJson().dump()};
  }

 private:
  std::unique_ptr<repo::Repository> repo_;
  ApiService service_;
  repo::Principal principal_;
  std::vector<Route> routes_;
  std::vector<std::regex> regexes_;
};

}  // namespace

Result<Json> ApiClient::SendJson(const std::string& method, const std::string& path, const Params& query,
                                 const Json* body) {
  SOMA_ASSIGN_OR_RETURN(auto res, Send(method, path, query, body ? body->dump() : "",
                                       body ? "application/json" : ""));
  if (res.status < 200 || res.status >= 300) return StatusFromProblem(res.status, res.body);
  if (res.body.empty()) return Json::object();
  Json j = Json::parse(res.body, nullptr, false);
  if (j.is_discarded()) return ParseError(method + " " + path + ": response is not JSON");
  return j;
}

Result<std::string> ApiClient::SendBytes(const std::string& method, const std::string& path, const Params& query,
                                         const std::string& body, const std::string& content_type) {
  SOMA_ASSIGN_OR_RETURN(auto res, Send(method, path, query, body, content_type));
  if (res.status < 200 || res.status >= 300) return StatusFromProblem(res.status, res.body);
  return std::move(res.body);
}

Result<std::unique_ptr<ApiClient>> ConnectRemote(const RemoteOptions& options) {
  if (options.url.rfind("http://", 0) != 0 && options.url.rfind("https://", 0) != 0) {
    return InvalidArgument("--server = '" + options.url + "': must start with http:// or https://");
  }
  return std::unique_ptr<ApiClient>(new RemoteClient(options));
}

Result<repo::Principal> PrincipalForUser(repo::Repository& repo, const std::string& user) {
  // A user may read their own record; that gives the role and groups.
  repo::Principal self;
  self.user = user;
  SOMA_ASSIGN_OR_RETURN(auto record, repo.GetUser(self, user));
  repo::Principal p;
  p.user = record.name;
  p.role = record.role;
  p.groups = record.groups;
  return p;
}

Result<std::unique_ptr<ApiClient>> OpenLocal(const LocalOptions& options) {
  SOMA_ASSIGN_OR_RETURN(auto repo, repo::Repository::Open(options.repository));
  SOMA_RETURN_IF_ERROR(
      InitializeOnFirstStart(*repo, options.repository.data_dir / "admin-token").status());
  std::string user = options.user.empty() ? "admin" : options.user;
  auto principal = PrincipalForUser(*repo, user);
  if (!principal.ok()) return principal.status().WithContext("--user " + user);
  return std::unique_ptr<ApiClient>(new LocalClient(std::move(repo), *principal));
}

Result<std::unique_ptr<ApiClient>> Connect(const ClientTarget& target) {
  if (!target.server.empty()) {
    RemoteOptions o;
    o.url = target.server;
    o.token = target.token;
    o.ca_cert = target.ca_cert;
    return ConnectRemote(o);
  }
  LocalOptions o;
  o.repository.data_dir = target.data_dir;
  o.repository.database_url = target.database_url;
  o.user = target.user;
  return OpenLocal(o);
}

std::string EncodePath(std::string_view segment, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : segment) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace soma::server
