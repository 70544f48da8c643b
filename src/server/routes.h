#pragma once
// The route table: every endpoint of the HTTP API with its documentation and
// its handler. The server registers exactly these routes and the OpenAPI
// document (/v1/openapi.json) is generated from the same table, so the two
// cannot drift apart.
//
// Handlers are thin: they read path, query and body, call ApiService and
// return a Reply or a Status (which the server turns into problem+json).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>

#include "core/status.h"
#include "repo/types.h"
#include "server/api_service.h"

namespace soma::server {

// One request as a handler sees it: the HTTP request (path parameters are
// http.matches[1..], already URL-decoded) and who is calling.
struct Call {
  const httplib::Request& http;
  const repo::Principal& principal;
  // The i-th path parameter in template order (0-based).
  std::string Path(size_t i) const { return http.matches[i + 1].str(); }
  const Params& Query() const { return http.params; }
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  httplib::Headers headers;
  // GET responses with a strong ETag (and If-None-Match -> 304): the
  // validator is `etag` if set, else the SHA-256 of `body`.
  bool cacheable = false;
  std::string etag;

  // When set, the body is streamed (chunked) instead: the server calls
  // `stream` until it returns false or calls sink.done() (server-sent
  // events). `body` and caching are then ignored.
  std::function<bool(size_t offset, httplib::DataSink& sink)> stream;

  static Reply FromJson(const Json& j, int status = 200);
  static Reply NoContent() { return Reply{204, "", "", {}, false, "", {}}; }
};

using RouteHandler = std::function<Result<Reply>(const Call&)>;

struct QueryDoc {
  std::string name;
  std::string description;
  std::string type = "string";  // OpenAPI schema type: string, integer, boolean
  bool repeated = false;
};

struct Route {
  std::string method;  // GET, POST, PATCH, DELETE
  std::string path;    // OpenAPI template: "/v1/resources/{id}"; {path} may span '/'
  std::string operation_id;
  std::string summary;
  std::string tag;
  std::string access;  // who may call it, for the documentation
  std::vector<QueryDoc> query;
  std::vector<std::string> body_types;  // accepted request media types; empty: no body
  int success = 200;
  std::string response_type = "application/json";
  bool cacheable = false;    // sends ETag, honours If-None-Match
  bool rate_limited = true;  // health probes are not
  RouteHandler handler;
};

// The API's routes except /v1/openapi.json (which Server adds, generated
std::vector<Route> ApiRoutes(ApiService& service);

// Parts of ApiRoutes, one per area (routes_*.cpp).
void AddResourceRoutes(ApiService& service, std::vector<Route>* routes);
void AddVersionRoutes(ApiService& service, std::vector<Route>* routes);
void AddDiscoveryRoutes(ApiService& service, std::vector<Route>* routes);  // search, feedback
void AddAdminRoutes(ApiService& service, std::vector<Route>* routes);      // users ... audit
void AddTwinRoutes(ApiService& service, std::vector<Route>* routes);       // /v1/twins
void AddJobRoutes(ApiService& service, std::vector<Route>* routes);        // /v1/jobs

// The regular expression httplib matches for a path template: each {name}
// becomes one segment "([^/]+)", and {path} the rest "(.+)".
std::string PathRegex(std::string_view path_template);

// The OpenAPI 3.0 document describing `routes`.
Json OpenApiDocument(const std::vector<Route>& routes, std::string_view version);

}  // namespace soma::server
