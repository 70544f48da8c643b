// Governance and audit operations of ApiService.

#include "server/api_service.h"

namespace soma::server {

namespace {

template <typename T>
Json ListOf(const std::vector<T>& values) {
  Json arr = Json::array();
  for (const auto& v : values) arr.push_back(ToJson(v));
  Json j = {{"items", std::move(arr)}};
  j["total"] = values.size();
  return j;
}

}  // namespace

Result<Json> ApiService::ListUsers(const repo::Principal& p) {
  SOMA_ASSIGN_OR_RETURN(auto users, repo_.ListUsers(p));
  return ListOf(users);
}

Result<Json> ApiService::CreateUser(const repo::Principal& p, const Json& body) {
  std::string name, role = "reader";
  SOMA_RETURN_IF_ERROR(ReadString(body, "name", &name, true));
  SOMA_RETURN_IF_ERROR(ReadString(body, "role", &role));
  SOMA_ASSIGN_OR_RETURN(auto r, repo::ParseRole(role));
  SOMA_ASSIGN_OR_RETURN(auto user, repo_.CreateUser(p, name, r));
  return ToJson(user);
}

Result<Json> ApiService::GetUser(const repo::Principal& p, const std::string& name) {
  SOMA_ASSIGN_OR_RETURN(auto user, repo_.GetUser(p, name));
  return ToJson(user);
}

Result<Json> ApiService::UpdateUser(const repo::Principal& p, const std::string& name, const Json& body) {
  std::string role;
  SOMA_RETURN_IF_ERROR(ReadString(body, "role", &role, true));
  SOMA_ASSIGN_OR_RETURN(auto r, repo::ParseRole(role));
  SOMA_ASSIGN_OR_RETURN(auto user, repo_.SetRole(p, name, r));
  return ToJson(user);
}

Result<Json> ApiService::ListGroups(const repo::Principal& p) {
  SOMA_ASSIGN_OR_RETURN(auto groups, repo_.ListGroups(p));
  return ListOf(groups);
}

Result<Json> ApiService::CreateGroup(const repo::Principal& p, const Json& body) {
  std::string name, title;
  SOMA_RETURN_IF_ERROR(ReadString(body, "name", &name, true));
  SOMA_RETURN_IF_ERROR(ReadString(body, "title", &title));
  SOMA_ASSIGN_OR_RETURN(auto group, repo_.CreateGroup(p, name, title));
  return ToJson(group);
}

Status ApiService::AddMember(const repo::Principal& p, const std::string& group, const Json& body) {
  std::string user;
  SOMA_RETURN_IF_ERROR(ReadString(body, "user", &user, true));
  return repo_.AddMember(p, group, user);
}

Status ApiService::RemoveMember(const repo::Principal& p, const std::string& group,
                                const std::string& user) {
  return repo_.RemoveMember(p, group, user);
}

Result<Json> ApiService::ListTokens(const repo::Principal& p, const Params& query) {
  SOMA_RETURN_IF_ERROR(CheckKnownParams(query, {"user"}));
  SOMA_ASSIGN_OR_RETURN(auto tokens, repo_.ListTokens(p, GetParam(query, "user").value_or(p.user)));
  return ListOf(tokens);
}

Result<Json> ApiService::CreateToken(const repo::Principal& p, const Json& body) {
  std::string user = p.user, label;
  SOMA_RETURN_IF_ERROR(ReadString(body, "user", &user));
  SOMA_RETURN_IF_ERROR(ReadString(body, "label", &label));
  if (user.empty()) return Unauthenticated("sign in to create tokens");
  SOMA_ASSIGN_OR_RETURN(auto issued, repo_.CreateToken(p, user, label));
  return Json{{"token", issued.token}, {"info", ToJson(issued.info)}};
}

Status ApiService::RevokeToken(const repo::Principal& p, const std::string& token_id) {
  return repo_.RevokeToken(p, token_id);
}

Result<Json> ApiService::ListAudit(const repo::Principal& p, const Params& query) {
  SOMA_RETURN_IF_ERROR(CheckKnownParams(query, {"limit", "offset"}));
  SOMA_ASSIGN_OR_RETURN(PageParams page, ParsePageParams(query, 100, 1000));
  SOMA_ASSIGN_OR_RETURN(auto entries, repo_.ListAudit(p, page.limit, page.offset));
  Json j = ListOf(entries.items);
  AddPaging(j, entries.total, page.limit, page.offset);
  return j;
}

Result<Json> ApiService::VerifyAudit(const repo::Principal& p) {
  // Repository::VerifyAudit takes no principal (it also serves the offline
  // `soma audit verify`), so the API restricts it to admins here.
  if (p.anonymous()) return Unauthenticated("audit verification requires an admin token");
  if (p.role != repo::Role::kAdmin) return PermissionDenied("audit verification is for admins");
  SOMA_ASSIGN_OR_RETURN(auto report, repo_.VerifyAudit());
  return ToJson(report);
}

}  // namespace soma::server
