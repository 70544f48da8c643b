// The OpenAPI 3.0 document and the path regexes, both derived from the
// route table.

#include <cctype>
#include <map>
#include <set>

#include "server/problem.h"
#include "server/routes.h"

namespace soma::server {

namespace {

std::vector<std::string> PathParams(std::string_view tmpl) {
  std::vector<std::string> names;
  size_t pos = 0;
  while ((pos = tmpl.find('{', pos)) != std::string_view::npos) {
    size_t end = tmpl.find('}', pos);
    names.emplace_back(tmpl.substr(pos + 1, end - pos - 1));
    pos = end;
  }
  return names;
}

Json ProblemRef() {
  return {{"description", "Error (RFC 7807 problem document)"},
          {"content", {{std::string(kProblemJson), {{"schema", {{"$ref", "#/components/schemas/Problem"}}}}}}}};
}

Json ResponseContent(const Route& r) {
  if (r.response_type.empty()) return nullptr;
  Json schema = r.response_type == "application/json" ? Json{{"type", "object"}}
                                                       : Json{{"type", "string"}, {"format", "binary"}};
  return {{r.response_type, {{"schema", schema}}}};
}

Json Operation(const Route& r) {
  Json op = {{"operationId", r.operation_id},
             {"summary", r.summary},
             {"description", "Who may call it: " + r.access + "."},
             {"tags", {r.tag}}};
  Json params = Json::array();
  for (const std::string& name : PathParams(r.path)) {
    Json p = {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
    if (name == "path") p["description"] = "File path inside the version; may contain '/'";
    if (name == "version") p["description"] = "Full hash, unique hash prefix (>= 7 hex), number or 'latest'";
    params.push_back(std::move(p));
  }
  for (const QueryDoc& q : r.query) {
    Json schema = {{"type", q.type}};
    if (q.repeated) schema = {{"type", "array"}, {"items", {{"type", q.type}}}};
    params.push_back({{"name", q.name}, {"in", "query"}, {"required", false}, {"description", q.description},
                      {"schema", schema}});
  }
  if (r.cacheable) {
    params.push_back({{"name", "If-None-Match"}, {"in", "header"}, {"required", false},
                      {"description", "ETag of a cached copy; 304 if unchanged"},
                      {"schema", {{"type", "string"}}}});
  }
  if (!params.empty()) op["parameters"] = std::move(params);
  if (!r.body_types.empty()) {
    Json content = Json::object();
    for (const std::string& t : r.body_types) {
      Json schema = t == "application/json" ? Json{{"type", "object"}}
                                            : (t == "multipart/form-data" ? Json{{"type", "object"}}
                                                                          : Json{{"type", "string"}, {"format", "binary"}});
      content[t] = {{"schema", schema}};
    }
    op["requestBody"] = {{"required", true}, {"content", std::move(content)}};
  }
  Json responses = Json::object();
  Json ok = {{"description", std::string(HttpReason(r.success))}};
  if (Json content = ResponseContent(r); !content.is_null() && r.success != 204) ok["content"] = content;
  if (r.cacheable) ok["headers"] = {{"ETag", {{"schema", {{"type", "string"}}}}}};
  responses[std::to_string(r.success)] = std::move(ok);
  if (r.cacheable) responses["304"] = {{"description", "Not Modified (If-None-Match matched)"}};
  std::set<int> errors = {400, 401, 403, 404, 500};
  if (!r.body_types.empty()) errors.insert({409, 413});
  if (r.rate_limited) errors.insert(429);
  if (r.path == "/readyz") errors.insert(503);
  for (int e : errors) responses[std::to_string(e)] = ProblemRef();
  op["responses"] = std::move(responses);
  if (r.rate_limited) op["security"] = Json::array({Json::object(), {{"bearerAuth", Json::array()}}});
  else op["security"] = Json::array({Json::object()});
  return op;
}

std::string ToLower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string PathRegex(std::string_view tmpl) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (c == '{') {
      size_t end = tmpl.find('}', i);
      out += tmpl.substr(i + 1, end - i - 1) == "path" ? "(.+)" : "([^/]+)";
      i = end;
    } else if (c == '.' || c == '+' || c == '*' || c == '?' || c == '(' || c == ')' || c == '[' ||
               c == ']' || c == '^' || c == '$' || c == '|' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

Json OpenApiDocument(const std::vector<Route>& routes, std::string_view version) {
  Json paths = Json::object();
  std::map<std::string, std::string> tags;
  for (const Route& r : routes) {
    paths[r.path][ToLower(r.method)] = Operation(r);
    tags[r.tag] = "";
  }
  Json tag_list = Json::array();
  for (const auto& [name, _] : tags) tag_list.push_back({{"name", name}});
  return {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "Soma repository and platform API"},
        {"version", std::string(version)},
        {"description",
         "Versioned models, data and evidence for healthcare digital twins. Errors are "
         "application/problem+json. Authenticate with 'Authorization: Bearer <token>'; without it "
         "requests act anonymously and see public resources only."}}},
      {"servers", Json::array({{{"url", "/"}}})},
      {"tags", std::move(tag_list)},
      {"paths", std::move(paths)},
      {"components",
       {{"securitySchemes", {{"bearerAuth", {{"type", "http"}, {"scheme", "bearer"}}}}},
        {"schemas",
         {{"Problem",
           {{"type", "object"},
            {"required", {"type", "title", "status", "detail"}},
            {"properties",
             {{"type", {{"type", "string"}}},
              {"title", {{"type", "string"}}},
              {"status", {{"type", "integer"}}},
              {"detail", {{"type", "string"}}}}}}}}}}},
  };
}

}  // namespace soma::server
