#include "server/json_codec.h"

#include <utility>

namespace soma::server {

namespace {

using repo::ToString;

std::string Field(std::string_view parent, std::string_view key) {
  std::string f(parent);
  if (!f.empty()) f += ".";
  f += key;
  return f;
}

Status ReadStringList(const Json& obj, std::string_view key, std::string_view parent,
                      std::vector<std::string>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  std::string field = Field(parent, key);
  if (!it->is_array()) return InvalidArgument(field + ": expected an array of strings");
  out->clear();
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& v = (*it)[i];
    if (!v.is_string()) {
      return InvalidArgument(field + "[" + std::to_string(i) + "]: expected a string");
    }
    out->push_back(v.get<std::string>());
  }
  return Status::Ok();
}

Status ReadStringIn(const Json& obj, std::string_view key, std::string_view parent, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return InvalidArgument(Field(parent, key) + ": expected a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

}  // namespace

Result<Json> ParseJsonObject(std::string_view text, std::string_view what) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(std::string(what) + ": not valid JSON");
  if (!j.is_object()) return InvalidArgument(std::string(what) + ": expected a JSON object");
  return j;
}

Status ReadString(const Json& obj, std::string_view key, std::string* out, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return required ? InvalidArgument(std::string(key) + ": required") : Status::Ok();
  }
  if (!it->is_string()) return InvalidArgument(std::string(key) + ": expected a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

Status ReadInt(const Json& obj, std::string_view key, int* out, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return required ? InvalidArgument(std::string(key) + ": required") : Status::Ok();
  }
  if (!it->is_number_integer()) return InvalidArgument(std::string(key) + ": expected an integer");
  *out = it->get<int>();
  return Status::Ok();
}

Status ReadBool(const Json& obj, std::string_view key, bool* out, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return required ? InvalidArgument(std::string(key) + ": required") : Status::Ok();
  }
  if (!it->is_boolean()) return InvalidArgument(std::string(key) + ": expected true or false");
  *out = it->get<bool>();
  return Status::Ok();
}

Json ToJson(const repo::Metadata& m) {
  Json creators = Json::array();
  for (const auto& c : m.creators) {
    Json cj = {{"name", c.name}};
    if (!c.orcid.empty()) cj["orcid"] = c.orcid;
    creators.push_back(std::move(cj));
  }
  return {{"title", m.title},
          {"description", m.description},
          {"creators", std::move(creators)},
          {"license", m.license},
          {"keywords", m.keywords},
          {"organ_systems", m.organ_systems},
          {"diseases", m.diseases},
          {"scales", m.scales},
          {"context_of_use", m.context_of_use},
          {"references", m.references},
          {"annotations", m.annotations},
          {"credibility_level", m.credibility_level}};
}

Result<repo::Metadata> MetadataFromJson(const Json& j, std::string_view field) {
  if (!j.is_object()) return InvalidArgument(std::string(field) + ": expected an object");
  repo::Metadata m;
  SOMA_RETURN_IF_ERROR(ReadStringIn(j, "title", field, &m.title));
  SOMA_RETURN_IF_ERROR(ReadStringIn(j, "description", field, &m.description));
  SOMA_RETURN_IF_ERROR(ReadStringIn(j, "license", field, &m.license));
  SOMA_RETURN_IF_ERROR(ReadStringIn(j, "context_of_use", field, &m.context_of_use));
  SOMA_RETURN_IF_ERROR(ReadStringIn(j, "credibility_level", field, &m.credibility_level));
  SOMA_RETURN_IF_ERROR(ReadStringList(j, "keywords", field, &m.keywords));
  SOMA_RETURN_IF_ERROR(ReadStringList(j, "organ_systems", field, &m.organ_systems));
  SOMA_RETURN_IF_ERROR(ReadStringList(j, "diseases", field, &m.diseases));
  SOMA_RETURN_IF_ERROR(ReadStringList(j, "scales", field, &m.scales));
  SOMA_RETURN_IF_ERROR(ReadStringList(j, "references", field, &m.references));
  SOMA_RETURN_IF_ERROR(ReadStringList(j, "annotations", field, &m.annotations));
  if (auto it = j.find("creators"); it != j.end() && !it->is_null()) {
    std::string cf = Field(field, "creators");
    if (!it->is_array()) return InvalidArgument(cf + ": expected an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& c = (*it)[i];
      std::string ci = cf + "[" + std::to_string(i) + "]";
      repo::Creator creator;
      if (c.is_string()) {
        creator.name = c.get<std::string>();
      } else if (c.is_object()) {
        SOMA_RETURN_IF_ERROR(ReadStringIn(c, "name", ci, &creator.name));
        SOMA_RETURN_IF_ERROR(ReadStringIn(c, "orcid", ci, &creator.orcid));
      } else {
        return InvalidArgument(ci + ": expected an object {name, orcid} or a string");
      }
      m.creators.push_back(std::move(creator));
    }
  }
  return m;
}

Json ToJson(const repo::Provenance& p) {
  return {{"derived_from", p.derived_from},
          {"validated_by", p.validated_by},
          {"generated_by", p.generated_by},
          {"software_version", p.software_version},
          {"inputs", p.inputs}};
}

Result<repo::Provenance> ProvenanceFromJson(const Json& j, std::string_view field) {
  if (!j.is_object()) return InvalidArgument(std::string(field) + ": expected an object");
  repo::Provenance p;
  SOMA_RETURN_IF_ERROR(ReadStringList(j, "derived_from", field, &p.derived_from));
  SOMA_RETURN_IF_ERROR(ReadStringList(j, "validated_by", field, &p.validated_by));
  SOMA_RETURN_IF_ERROR(ReadStringIn(j, "generated_by", field, &p.generated_by));
  SOMA_RETURN_IF_ERROR(ReadStringIn(j, "software_version", field, &p.software_version));
  SOMA_RETURN_IF_ERROR(ReadStringList(j, "inputs", field, &p.inputs));
  return p;
}

Json ToJson(const repo::FileEntry& f) {
  return {{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}, {"media_type", f.media_type}};
}

Json ToJson(const repo::Resource& r) {
  return {{"id", r.id},
          {"kind", ToString(r.kind)},
          {"owner", r.owner},
          {"visibility", ToString(r.visibility)},
          {"group", r.group},
          {"created_ms", r.created_ms},
          {"updated_ms", r.updated_ms},
          {"version_count", r.version_count},
          {"latest_version", r.latest_version},
          {"metadata", ToJson(r.metadata)},
          {"rating", r.rating},
          {"review_count", r.review_count}};
}

Json ToJson(const repo::Version& v) {
  Json files = Json::array();
  for (const auto& f : v.files) files.push_back(ToJson(f));
  return {{"resource_id", v.resource_id},
          {"hash", v.hash},
          {"number", v.number},
          {"message", v.message},
          {"author", v.author},
          {"created_ms", v.created_ms},
          {"metadata", ToJson(v.metadata)},
          {"provenance", ToJson(v.provenance)},
          {"files", std::move(files)}};
}

Json ToJson(const repo::User& u) {
  return {{"name", u.name}, {"role", ToString(u.role)}, {"groups", u.groups}, {"created_ms", u.created_ms}};
}

Json ToJson(const repo::Group& g) {
  return {{"name", g.name}, {"title", g.title}, {"members", g.members}};
}

Json ToJson(const repo::TokenInfo& t) {
  return {{"id", t.id}, {"user", t.user}, {"label", t.label}, {"created_ms", t.created_ms},
          {"revoked", t.revoked}};
}

Json ToJson(const repo::Feedback& f) {
  return {{"id", f.id},
          {"resource_id", f.resource_id},
          {"kind", f.kind == repo::FeedbackKind::kReview ? "review" : "comment"},
          {"author", f.author},
          {"text", f.text},
          {"rating", f.rating},
          {"hidden", f.hidden},
          {"moderation_note", f.moderation_note},
          {"created_ms", f.created_ms}};
}

Json ToJson(const repo::AuditEntry& e) {
  Json detail = Json::parse(e.detail, nullptr, false);
  if (detail.is_discarded()) detail = e.detail;
  return {{"seq", e.seq},         {"time_ms", e.time_ms},     {"actor", e.actor},
          {"action", e.action},   {"target", e.target},       {"detail", std::move(detail)},
          {"prev_hash", e.prev_hash}, {"hash", e.hash}};
}

Json ToJson(const repo::AuditReport& r) {
  Json j = {{"ok", r.ok}, {"entries", r.entries}};
  if (!r.ok) {
    j["first_bad_seq"] = r.first_bad_seq;
    j["problem"] = r.problem;
  }
  return j;
}

Json ToJson(const repo::SearchResult& r) {
  Json items = Json::array();
  for (const auto& item : r.items) items.push_back(ToJson(item));
  Json facets = Json::object();
  for (const auto& [name, counts] : r.facets) {
    Json list = Json::array();
    for (const auto& c : counts) list.push_back({{"value", c.value}, {"count", c.count}});
    facets[name] = std::move(list);
  }
  return {{"total", r.total}, {"items", std::move(items)}, {"facets", std::move(facets)}};
}

Json ToJson(const repo::Principal& p) {
  return {{"user", p.user},
          {"anonymous", p.anonymous()},
          {"role", p.anonymous() ? "anonymous" : std::string(ToString(p.role))},
          {"groups", p.groups}};
}

}  // namespace soma::server
