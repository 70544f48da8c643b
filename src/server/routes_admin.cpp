// Routes for identity, users, groups, tokens, audit and health.

#include "server/routes.h"

namespace soma::server {

namespace {

Result<Reply> JsonReply(Result<Json> r, int status = 200) {
  if (!r.ok()) return r.status();
  return Reply::FromJson(*r, status);
}

Result<Reply> NoContent(Status s) {
  if (!s.ok()) return s;
  return Reply::NoContent();
}

}  // namespace

void AddAdminRoutes(ApiService& s, std::vector<Route>* routes) {
  routes->push_back({
      .method = "GET", .path = "/healthz", .operation_id = "health",
      .summary = "The process is alive", .tag = "health", .access = "anyone", .rate_limited = false,
      .handler = [](const Call&) -> Result<Reply> { return Reply::FromJson({{"status", "ok"}}); }});
  routes->push_back({
      .method = "GET", .path = "/readyz", .operation_id = "ready",
      .summary = "The repository (database and blob folder) is usable; 503 if not", .tag = "health",
      .access = "anyone", .rate_limited = false,
      .handler = [&s](const Call&) -> Result<Reply> {
        if (!s.Ready()) return Unavailable("repository not ready (database or blob folder unusable)");
        return Reply::FromJson({{"status", "ready"}});
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/me", .operation_id = "me",
      .summary = "Who the caller is: user, role, groups (or anonymous)", .tag = "users",
      .access = "anyone",
      .handler = [&s](const Call& c) -> Result<Reply> { return Reply::FromJson(s.Me(c.principal)); }});
  routes->push_back({
      .method = "GET", .path = "/v1/users", .operation_id = "listUsers", .summary = "All users",
      .tag = "users", .access = "admin",
      .handler = [&s](const Call& c) { return JsonReply(s.ListUsers(c.principal)); }});
  routes->push_back({
      .method = "POST", .path = "/v1/users", .operation_id = "createUser",
      .summary = "Create a user with a role (reader, contributor, curator, admin)", .tag = "users",
      .access = "admin", .body_types = {"application/json"}, .success = 201,
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(Json body, ParseJsonObject(c.http.body));
        return JsonReply(s.CreateUser(c.principal, body), 201);
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/users/{name}", .operation_id = "getUser", .summary = "One user",
      .tag = "users", .access = "the user, admin",
      .handler = [&s](const Call& c) { return JsonReply(s.GetUser(c.principal, c.Path(0))); }});
  routes->push_back({
      .method = "PATCH", .path = "/v1/users/{name}", .operation_id = "updateUser",
      .summary = "Change a user's role", .tag = "users", .access = "admin",
      .body_types = {"application/json"},
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(Json body, ParseJsonObject(c.http.body));
        return JsonReply(s.UpdateUser(c.principal, c.Path(0), body));
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/groups", .operation_id = "listGroups",
      .summary = "Groups (consortia); members are listed to admins and to each group's members",
      .tag = "groups", .access = "signed-in users",
      .handler = [&s](const Call& c) { return JsonReply(s.ListGroups(c.principal)); }});
  routes->push_back({
      .method = "POST", .path = "/v1/groups", .operation_id = "createGroup", .summary = "Create a group",
      .tag = "groups", .access = "admin", .body_types = {"application/json"}, .success = 201,
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(Json body, ParseJsonObject(c.http.body));
        return JsonReply(s.CreateGroup(c.principal, body), 201);
      }});
  routes->push_back({
      .method = "POST", .path = "/v1/groups/{group}/members", .operation_id = "addMember",
      .summary = "Add a user to a group", .tag = "groups", .access = "admin",
      .body_types = {"application/json"}, .success = 204, .response_type = "",
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(Json body, ParseJsonObject(c.http.body));
        return NoContent(s.AddMember(c.principal, c.Path(0), body));
      }});
  routes->push_back({
      .method = "DELETE", .path = "/v1/groups/{group}/members/{user}", .operation_id = "removeMember",
      .summary = "Remove a user from a group", .tag = "groups", .access = "admin", .success = 204,
      .response_type = "",
      .handler = [&s](const Call& c) { return NoContent(s.RemoveMember(c.principal, c.Path(0), c.Path(1))); }});
  routes->push_back({
      .method = "GET", .path = "/v1/tokens", .operation_id = "listTokens",
      .summary = "A user's API tokens (public records; secrets are never stored)", .tag = "tokens",
      .access = "the user, admin", .query = {{"user", "Whose tokens (default: the caller)"}},
      .handler = [&s](const Call& c) { return JsonReply(s.ListTokens(c.principal, c.Query())); }});
  routes->push_back({
      .method = "POST", .path = "/v1/tokens", .operation_id = "createToken",
      .summary = "Issue a token; the secret is in this response only", .tag = "tokens",
      .access = "signed-in users for themselves, admin for anyone", .body_types = {"application/json"},
      .success = 201,
      .handler = [&s](const Call& c) -> Result<Reply> {
        Json body = Json::object();
        if (!c.http.body.empty()) {
          SOMA_ASSIGN_OR_RETURN(body, ParseJsonObject(c.http.body));
        }
        return JsonReply(s.CreateToken(c.principal, body), 201);
      }});
  routes->push_back({
      .method = "DELETE", .path = "/v1/tokens/{id}", .operation_id = "revokeToken",
      .summary = "Revoke a token", .tag = "tokens", .access = "the token's user, admin", .success = 204,
      .response_type = "",
      .handler = [&s](const Call& c) { return NoContent(s.RevokeToken(c.principal, c.Path(0))); }});
  routes->push_back({
      .method = "GET", .path = "/v1/audit", .operation_id = "listAudit",
      .summary = "The hash-chained audit log, newest first", .tag = "audit", .access = "admin",
      .query = {{"limit", "Page size, 1-1000 (default 100)", "integer"},
                {"offset", "Entries to skip (default 0)", "integer"}},
      .handler = [&s](const Call& c) { return JsonReply(s.ListAudit(c.principal, c.Query())); }});
  routes->push_back({
      .method = "GET", .path = "/v1/audit/verify", .operation_id = "verifyAudit",
      .summary = "Recompute the audit chain; names the first bad entry", .tag = "audit",
      .access = "admin",
      .handler = [&s](const Call& c) { return JsonReply(s.VerifyAudit(c.principal)); }});
}

std::vector<Route> ApiRoutes(ApiService& service) {
  std::vector<Route> routes;
  AddAdminRoutes(service, &routes);
  AddResourceRoutes(service, &routes);
  AddVersionRoutes(service, &routes);
  AddDiscoveryRoutes(service, &routes);
  AddTwinRoutes(service, &routes);
  AddJobRoutes(service, &routes);
  return routes;
}

}  // namespace soma::server
