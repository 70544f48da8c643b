// Routes for resources, versions, files and COMBINE archives.

#include "server/routes.h"

namespace soma::server {

namespace {

const std::vector<QueryDoc> kPageQuery = {
    {"limit", "Page size, 1-100 (default 20)", "integer"},
    {"offset", "Items to skip (default 0)", "integer"},
};

Result<Reply> JsonReply(Result<Json> r, int status = 200, bool cacheable = false) {
  if (!r.ok()) return r.status();
  Reply reply = Reply::FromJson(*r, status);
  reply.cacheable = cacheable;
  return reply;
}

Result<Json> Body(const Call& c) { return ParseJsonObject(c.http.body); }

// A push sent as multipart/form-data: every part with a filename is a file
// (the filename is its path in the version); "message", "metadata" and
// "provenance" (JSON) are fields.
Result<PushRequest> PushFromMultipart(const httplib::Request& req) {
  PushRequest r;
  for (const auto& [name, part] : req.files) {
    if (!part.filename.empty()) {
      std::string media = part.content_type == "application/octet-stream" ? "" : part.content_type;
      r.files.push_back({part.filename, part.content, media});
    } else if (name == "message") {
      r.message = part.content;
    } else if (name == "metadata") {
      SOMA_ASSIGN_OR_RETURN(Json j, ParseJsonObject(part.content, "metadata"));
      SOMA_ASSIGN_OR_RETURN(r.metadata, MetadataFromJson(j));
    } else if (name == "provenance") {
      SOMA_ASSIGN_OR_RETURN(Json j, ParseJsonObject(part.content, "provenance"));
      SOMA_ASSIGN_OR_RETURN(r.provenance, ProvenanceFromJson(j));
    } else {
      return InvalidArgument("multipart field '" + name +
                             "': expected message, metadata, provenance or file parts with a filename");
    }
  }
  return r;
}

Reply BlobReply(Blob b, bool attachment) {
  Reply reply;
  reply.content_type = b.media_type;
  reply.cacheable = true;
  reply.etag = b.sha256;
  reply.body = std::move(b.bytes);
  if (attachment) reply.headers.emplace("Content-Disposition", "attachment; filename=\"" + b.filename + "\"");
  return reply;
}

}  // namespace

Reply Reply::FromJson(const Json& j, int status) {
  Reply r;
  r.status = status;
  r.body = j.dump();
  return r;
}

void AddResourceRoutes(ApiService& s, std::vector<Route>* routes) {
  routes->push_back({
      .method = "GET", .path = "/v1/resources", .operation_id = "listResources",
      .summary = "List the resources visible to the caller, newest first", .tag = "resources",
      .access = "anyone (anonymous callers see public resources only)",
      .query = {{"kind", "Only this kind: model, dataset, twin, scenario, trial, evidence, document, result"},
                {"owner", "Only resources owned by this user"}, kPageQuery[0], kPageQuery[1]},
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(Json page, s.ListResources(c.principal, c.Query()));
        return Reply::FromJson(page);
      }});
  routes->push_back({
      .method = "POST", .path = "/v1/resources", .operation_id = "createResource",
      .summary = "Create a resource (metadata only; push versions to add content)", .tag = "resources",
      .access = "contributor, curator, admin", .body_types = {"application/json"}, .success = 201,
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(Json body, Body(c));
        SOMA_ASSIGN_OR_RETURN(Json created, s.CreateResource(c.principal, body));
        Reply r = Reply::FromJson(created, 201);
        r.headers.emplace("Location", "/v1/resources/" + created["id"].get<std::string>());
        return r;
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/resources/{id}", .operation_id = "getResource",
      .summary = "A resource with the metadata of its latest version", .tag = "resources",
      .access = "anyone who may read it", .cacheable = true,
      .handler = [&s](const Call& c) { return JsonReply(s.GetResource(c.principal, c.Path(0)), 200, true); }});
  routes->push_back({
      .method = "PATCH", .path = "/v1/resources/{id}", .operation_id = "updateResource",
      .summary = "Change visibility (public needs a licence) and group", .tag = "resources",
      .access = "owner, curator, admin", .body_types = {"application/json"},
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(Json body, Body(c));
        return JsonReply(s.UpdateResource(c.principal, c.Path(0), body));
      }});
  routes->push_back({
      .method = "DELETE", .path = "/v1/resources/{id}", .operation_id = "deleteResource",
      .summary = "Delete a resource and its versions", .tag = "resources", .access = "owner, admin",
      .success = 204, .response_type = "",
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_RETURN_IF_ERROR(s.DeleteResource(c.principal, c.Path(0)));
        return Reply::NoContent();
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/resources/{id}/export", .operation_id = "exportResource",
      .summary = "A version as a COMBINE/OMEX archive", .tag = "exchange",
      .access = "anyone who may read it",
      .query = {{"version", "Hash, unique hash prefix, number or 'latest' (default)"}},
      .response_type = "application/zip", .cacheable = true,
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_RETURN_IF_ERROR(CheckKnownParams(c.Query(), {"version"}));
        SOMA_ASSIGN_OR_RETURN(Blob b, s.ExportOmex(c.principal, c.Path(0),
                                                   GetParam(c.Query(), "version").value_or("latest")));
        return BlobReply(std::move(b), true);
      }});
  routes->push_back({
      .method = "POST", .path = "/v1/import", .operation_id = "importArchive",
      .summary = "Create a resource and its first version from a COMBINE/OMEX archive", .tag = "exchange",
      .access = "contributor, curator, admin",
      .query = {{"id", "Resource id (default: derived from the title)"},
                {"kind", "Resource kind (default: the archive's soma.json, else model)"},
                {"visibility", "public, group or private (default private)"},
                {"group", "Group for group visibility"},
                {"message", "Version message"}},
      .body_types = {"application/zip", "multipart/form-data"}, .success = 201,
      .handler = [&s](const Call& c) -> Result<Reply> {
        std::string_view archive = c.http.body;
        if (c.http.is_multipart_form_data()) {
          auto it = c.http.files.find("archive");
          if (it == c.http.files.end()) return InvalidArgument("multipart body: needs a part named 'archive'");
          archive = it->second.content;
        }
        SOMA_ASSIGN_OR_RETURN(Json out, s.ImportOmex(c.principal, archive, c.Query()));
        Reply r = Reply::FromJson(out, 201);
        r.headers.emplace("Location", "/v1/resources/" + out["resource"]["id"].get<std::string>());
        return r;
      }});
}

void AddVersionRoutes(ApiService& s, std::vector<Route>* routes) {
  routes->push_back({
      .method = "GET", .path = "/v1/resources/{id}/versions", .operation_id = "listVersions",
      .summary = "The versions of a resource, oldest first", .tag = "versions",
      .access = "anyone who may read the resource", .cacheable = true,
      .handler = [&s](const Call& c) { return JsonReply(s.ListVersions(c.principal, c.Path(0)), 200, true); }});
  routes->push_back({
      .method = "POST", .path = "/v1/resources/{id}/versions", .operation_id = "pushVersion",
      .summary = "Push a new immutable version (JSON with base64 files, or multipart upload)",
      .tag = "versions", .access = "owner (contributor+), curator who may read it, admin",
      .body_types = {"application/json", "multipart/form-data"}, .success = 201,
      .handler = [&s](const Call& c) -> Result<Reply> {
        PushRequest push;
        if (c.http.is_multipart_form_data()) {
          SOMA_ASSIGN_OR_RETURN(push, PushFromMultipart(c.http));
        } else {
          SOMA_ASSIGN_OR_RETURN(Json body, Body(c));
          SOMA_ASSIGN_OR_RETURN(push, ParsePushJson(body));
        }
        SOMA_ASSIGN_OR_RETURN(Json v, s.PushVersion(c.principal, c.Path(0), std::move(push)));
        Reply r = Reply::FromJson(v, 201);
        r.headers.emplace("Location", "/v1/resources/" + c.Path(0) + "/versions/" + v["hash"].get<std::string>());
        return r;
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/resources/{id}/versions/{version}", .operation_id = "getVersion",
      .summary = "One version: metadata, provenance and file list", .tag = "versions",
      .access = "anyone who may read the resource", .cacheable = true,
      .handler = [&s](const Call& c) {
        return JsonReply(s.GetVersion(c.principal, c.Path(0), c.Path(1)), 200, true);
      }});
  routes->push_back({
      .method = "GET", .path = "/v1/resources/{id}/versions/{version}/files/{path}",
      .operation_id = "getFile", .summary = "The raw bytes of one file of a version (hash verified)",
      .tag = "versions", .access = "anyone who may read the resource",
      .response_type = "application/octet-stream", .cacheable = true,
      .handler = [&s](const Call& c) -> Result<Reply> {
        SOMA_ASSIGN_OR_RETURN(Blob b, s.ReadFile(c.principal, c.Path(0), c.Path(1), c.Path(2)));
        return BlobReply(std::move(b), false);
      }});
}

}  // namespace soma::server
