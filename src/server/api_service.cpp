#include "server/api_service.h"

#include <utility>

#include "repo/crypto.h"
#include "server/base64.h"
#include "server/content_index.h"
#include "server/twin_service.h"

namespace soma::server {

namespace {

template <typename T>
Json ItemsOf(const std::vector<T>& values) {
  Json arr = Json::array();
  for (const auto& v : values) arr.push_back(ToJson(v));
  return arr;
}

}  // namespace

ApiService::ApiService(repo::Repository& repo) : repo_(repo) {
  auto secret = LoadOrCreateNodeSecret(repo.options().data_dir);
  if (secret.ok()) {
    twins_ = std::make_unique<TwinService>(repo, *secret);
  } else {
    twins_status_ = secret.status();
  }
}

ApiService::~ApiService() = default;

Result<TwinService*> ApiService::twins() {
  if (!twins_) return twins_status_;
  return twins_.get();
}

void AddPaging(Json& page, int total, int limit, int offset) {
  page["total"] = total;
  page["limit"] = limit;
  page["offset"] = offset;
  page["next_offset"] = offset + limit < total ? Json(offset + limit) : Json(nullptr);
}

Result<PushRequest> ParsePushJson(const Json& body) {
  PushRequest r;
  SOMA_RETURN_IF_ERROR(ReadString(body, "message", &r.message));
  if (auto it = body.find("metadata"); it != body.end() && !it->is_null()) {
    SOMA_ASSIGN_OR_RETURN(r.metadata, MetadataFromJson(*it));
  }
  if (auto it = body.find("provenance"); it != body.end() && !it->is_null()) {
    SOMA_ASSIGN_OR_RETURN(r.provenance, ProvenanceFromJson(*it));
  }
  auto files = body.find("files");
  if (files == body.end() || !files->is_array()) {
    return InvalidArgument("files: required, an array of {path, content_base64, media_type?}");
  }
  for (size_t i = 0; i < files->size(); ++i) {
    const Json& f = (*files)[i];
    std::string field = "files[" + std::to_string(i) + "]";
    if (!f.is_object()) return InvalidArgument(field + ": expected an object");
    repo::NewFile file;
    std::string encoded;
    Status s = ReadString(f, "path", &file.path, true);
    if (s.ok()) s = ReadString(f, "content_base64", &encoded, true);
    if (s.ok()) s = ReadString(f, "media_type", &file.media_type);
    if (!s.ok()) return s.WithContext(field);
    auto bytes = Base64Decode(encoded);
    if (!bytes.ok()) return bytes.status().WithContext(field + ".content_base64");
    file.bytes = std::move(bytes).value();
    r.files.push_back(std::move(file));
  }
  return r;
}

Json PushToJson(const PushRequest& request) {
  Json files = Json::array();
  for (const auto& f : request.files) {
    Json fj = {{"path", f.path}, {"content_base64", Base64Encode(f.bytes)}};
    if (!f.media_type.empty()) fj["media_type"] = f.media_type;
    files.push_back(std::move(fj));
  }
  Json j = {{"message", request.message}, {"files", std::move(files)},
            {"provenance", ToJson(request.provenance)}};
  if (request.metadata) j["metadata"] = ToJson(*request.metadata);
  return j;
}

// ---- resources ----

Result<Json> ApiService::ListResources(const repo::Principal& p, const Params& query) {
  SOMA_RETURN_IF_ERROR(CheckKnownParams(query, {"kind", "owner", "limit", "offset"}));
  SOMA_ASSIGN_OR_RETURN(PageParams page, ParsePageParams(query));
  repo::ListQuery q;
  q.limit = page.limit;
  q.offset = page.offset;
  if (auto kind = GetParam(query, "kind")) {
    SOMA_ASSIGN_OR_RETURN(q.kind, repo::ParseResourceKind(*kind));
  }
  if (auto owner = GetParam(query, "owner")) q.owner = *owner;
  SOMA_ASSIGN_OR_RETURN(auto result, repo_.ListResources(p, q));
  Json j = {{"items", ItemsOf(result.items)}};
  AddPaging(j, result.total, page.limit, page.offset);
  return j;
}

Result<Json> ApiService::CreateResource(const repo::Principal& p, const Json& body) {
  repo::NewResource r;
  std::string kind = "model", visibility = "private";
  SOMA_RETURN_IF_ERROR(ReadString(body, "id", &r.id));
  SOMA_RETURN_IF_ERROR(ReadString(body, "kind", &kind));
  SOMA_RETURN_IF_ERROR(ReadString(body, "visibility", &visibility));
  SOMA_RETURN_IF_ERROR(ReadString(body, "group", &r.group));
  SOMA_ASSIGN_OR_RETURN(r.kind, repo::ParseResourceKind(kind));
  SOMA_ASSIGN_OR_RETURN(r.visibility, repo::ParseVisibility(visibility));
  auto md = body.find("metadata");
  if (md == body.end()) return InvalidArgument("metadata: required (at least {\"title\": ...})");
  SOMA_ASSIGN_OR_RETURN(r.metadata, MetadataFromJson(*md));
  SOMA_ASSIGN_OR_RETURN(auto created, repo_.CreateResource(p, r));
  return ToJson(created);
}

Result<Json> ApiService::GetResource(const repo::Principal& p, const std::string& id) {
  SOMA_ASSIGN_OR_RETURN(auto r, repo_.GetResource(p, id));
  return ToJson(r);
}

Result<Json> ApiService::UpdateResource(const repo::Principal& p, const std::string& id,
                                        const Json& body) {
  std::string visibility, group;
  SOMA_RETURN_IF_ERROR(ReadString(body, "visibility", &visibility, true));
  SOMA_RETURN_IF_ERROR(ReadString(body, "group", &group));
  SOMA_ASSIGN_OR_RETURN(auto v, repo::ParseVisibility(visibility));
  SOMA_ASSIGN_OR_RETURN(auto r, repo_.SetVisibility(p, id, v, group));
  return ToJson(r);
}

Status ApiService::DeleteResource(const repo::Principal& p, const std::string& id) {
  return repo_.DeleteResource(p, id);
}

// ---- versions ----

Result<Json> ApiService::ListVersions(const repo::Principal& p, const std::string& id) {
  SOMA_ASSIGN_OR_RETURN(auto versions, repo_.ListVersions(p, id));
  Json j = {{"items", ItemsOf(versions)}};
  j["total"] = versions.size();
  return j;
}

Result<Json> ApiService::GetVersion(const repo::Principal& p, const std::string& id,
                                    const std::string& version) {
  SOMA_ASSIGN_OR_RETURN(auto v, repo_.GetVersion(p, id, version));
  return ToJson(v);
}

Result<Json> ApiService::PushVersion(const repo::Principal& p, const std::string& id,
                                     PushRequest request) {
  repo::NewVersion v;
  v.files = std::move(request.files);
  v.message = std::move(request.message);
  v.metadata = std::move(request.metadata);
  v.provenance = std::move(request.provenance);
  IndexContent(&v);
  SOMA_ASSIGN_OR_RETURN(auto pushed, repo_.PushVersion(p, id, v));
  return ToJson(pushed);
}

Result<Blob> ApiService::ReadFile(const repo::Principal& p, const std::string& id,
                                  const std::string& version, const std::string& path) {
  SOMA_ASSIGN_OR_RETURN(auto v, repo_.GetVersion(p, id, version));
  const repo::FileEntry* entry = nullptr;
  for (const auto& f : v.files) {
    if (f.path == path) entry = &f;
  }
  if (entry == nullptr) {
    return NotFound("file '" + path + "' not in " + id + "@" + v.hash.substr(0, 12));
  }
  // Read by the resolved hash so the bytes belong to exactly this version.
  SOMA_ASSIGN_OR_RETURN(std::string bytes, repo_.ReadFile(p, id, v.hash, path));
  Blob b;
  b.bytes = std::move(bytes);
  b.media_type = entry->media_type.empty() ? "application/octet-stream" : entry->media_type;
  b.sha256 = entry->sha256;
  size_t slash = path.rfind('/');
  b.filename = slash == std::string::npos ? path : path.substr(slash + 1);
  return b;
}

// ---- search ----

Result<Json> ApiService::Search(const repo::Principal& p, const Params& query) {
  std::vector<std::string_view> known = {"q", "sort", "limit", "offset"};
  for (std::string_view f : repo::kFacetNames) known.push_back(f);
  SOMA_RETURN_IF_ERROR(CheckKnownParams(query, known));
  SOMA_ASSIGN_OR_RETURN(PageParams page, ParsePageParams(query));
  repo::SearchQuery q;
  q.limit = page.limit;
  q.offset = page.offset;
  q.text = GetParam(query, "q").value_or("");
  if (auto sort = GetParam(query, "sort")) {
    SOMA_ASSIGN_OR_RETURN(q.sort, repo::ParseSortOrder(*sort));
  }
  for (std::string_view f : repo::kFacetNames) {
    auto values = GetParamList(query, f);
    if (!values.empty()) q.filters[std::string(f)] = std::move(values);
  }
  SOMA_ASSIGN_OR_RETURN(auto result, repo_.Search(p, q));
  Json j = ToJson(result);
  AddPaging(j, result.total, page.limit, page.offset);
  j["query"] = q.text;
  return j;
}

// ---- feedback ----

Result<Json> ApiService::ListFeedback(const repo::Principal& p, const std::string& id) {
  SOMA_ASSIGN_OR_RETURN(auto items, repo_.ListFeedback(p, id));
  Json j = {{"items", ItemsOf(items)}};
  j["total"] = items.size();
  return j;
}

Result<Json> ApiService::AddFeedback(const repo::Principal& p, const std::string& id, const Json& body) {
  std::string kind = "comment", text;
  int rating = 0;
  SOMA_RETURN_IF_ERROR(ReadString(body, "kind", &kind));
  SOMA_RETURN_IF_ERROR(ReadString(body, "text", &text));
  SOMA_RETURN_IF_ERROR(ReadInt(body, "rating", &rating));
  if (kind == "comment") {
    if (text.empty()) return InvalidArgument("text: required for a comment");
    SOMA_ASSIGN_OR_RETURN(auto f, repo_.AddComment(p, id, text));
    return ToJson(f);
  }
  if (kind == "review") {
    SOMA_ASSIGN_OR_RETURN(auto f, repo_.AddReview(p, id, rating, text));
    return ToJson(f);
  }
  return InvalidArgument("kind = '" + kind + "': must be 'comment' or 'review'");
}

Result<Json> ApiService::Moderate(const repo::Principal& p, const std::string& feedback_id,
                                  const Json& body) {
  bool hidden = true;
  std::string note;
  SOMA_RETURN_IF_ERROR(ReadBool(body, "hidden", &hidden, true));
  SOMA_RETURN_IF_ERROR(ReadString(body, "note", &note));
  SOMA_ASSIGN_OR_RETURN(auto f, repo_.Moderate(p, feedback_id, hidden, note));
  return ToJson(f);
}

}  // namespace soma::server
