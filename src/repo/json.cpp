#include "repo/json.h"

#include <set>

namespace soma::repo {
using nlohmann::json;
namespace {

Status ReadString(const json& j, const char* key, const std::string& where, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return InvalidArgument(where + "." + key + ": must be a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

Status ReadStrings(const json& j, const char* key, const std::string& where,
                   std::vector<std::string>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) return InvalidArgument(where + "." + key + ": must be an array of strings");
  out->clear();
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) {
      return InvalidArgument(where + "." + key + "[" + std::to_string(i) + "]: must be a string");
    }
    out->push_back((*it)[i].get<std::string>());
  }
  return Status::Ok();
}

Status CheckKeys(const json& j, const std::string& where, std::initializer_list<const char*> keys) {
  if (!j.is_object()) return InvalidArgument(where + ": must be a JSON object");
  std::set<std::string> known(keys.begin(), keys.end());
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!known.count(it.key())) return InvalidArgument(where + "." + it.key() + ": unknown field");
  }
  return Status::Ok();
}

}  // namespace

json ToJson(const Metadata& m) {
  json creators = json::array();
  for (const Creator& c : m.creators) {
    json o = {{"name", c.name}};
    if (!c.orcid.empty()) o["orcid"] = c.orcid;
    creators.push_back(o);
  }
  return {{"title", m.title},
          {"description", m.description},
          {"creators", creators},
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

Result<Metadata> MetadataFromJson(const json& j, const std::string& where) {
  SOMA_RETURN_IF_ERROR(CheckKeys(j, where,
                                 {"title", "description", "creators", "license", "keywords",
                                  "organ_systems", "diseases", "scales", "context_of_use",
                                  "references", "annotations", "credibility_level"}));
  Metadata m;
  SOMA_RETURN_IF_ERROR(ReadString(j, "title", where, &m.title));
  SOMA_RETURN_IF_ERROR(ReadString(j, "description", where, &m.description));
  SOMA_RETURN_IF_ERROR(ReadString(j, "license", where, &m.license));
  SOMA_RETURN_IF_ERROR(ReadString(j, "context_of_use", where, &m.context_of_use));
  SOMA_RETURN_IF_ERROR(ReadString(j, "credibility_level", where, &m.credibility_level));
  SOMA_RETURN_IF_ERROR(ReadStrings(j, "keywords", where, &m.keywords));
  SOMA_RETURN_IF_ERROR(ReadStrings(j, "organ_systems", where, &m.organ_systems));
  SOMA_RETURN_IF_ERROR(ReadStrings(j, "diseases", where, &m.diseases));
  SOMA_RETURN_IF_ERROR(ReadStrings(j, "scales", where, &m.scales));
  SOMA_RETURN_IF_ERROR(ReadStrings(j, "references", where, &m.references));
  SOMA_RETURN_IF_ERROR(ReadStrings(j, "annotations", where, &m.annotations));
  if (auto it = j.find("creators"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidArgument(where + ".creators: must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      std::string at = where + ".creators[" + std::to_string(i) + "]";
      const json& c = (*it)[i];
      if (c.is_string()) {
        m.creators.push_back({c.get<std::string>(), ""});
        continue;
      }
      SOMA_RETURN_IF_ERROR(CheckKeys(c, at, {"name", "orcid"}));
      Creator cr;
      SOMA_RETURN_IF_ERROR(ReadString(c, "name", at, &cr.name));
      SOMA_RETURN_IF_ERROR(ReadString(c, "orcid", at, &cr.orcid));
      m.creators.push_back(cr);
    }
  }
  return m;
}

json ToJson(const Provenance& p) {
  return {{"derived_from", p.derived_from},
          {"validated_by", p.validated_by},
          {"generated_by", p.generated_by},
          {"software_version", p.software_version},
          {"inputs", p.inputs}};
}

Result<Provenance> ProvenanceFromJson(const json& j, const std::string& where) {
  SOMA_RETURN_IF_ERROR(CheckKeys(
      j, where, {"derived_from", "validated_by", "generated_by", "software_version", "inputs"}));
  Provenance p;
  SOMA_RETURN_IF_ERROR(ReadStrings(j, "derived_from", where, &p.derived_from));
  SOMA_RETURN_IF_ERROR(ReadStrings(j, "validated_by", where, &p.validated_by));
  SOMA_RETURN_IF_ERROR(ReadStrings(j, "inputs", where, &p.inputs));
  SOMA_RETURN_IF_ERROR(ReadString(j, "generated_by", where, &p.generated_by));
  SOMA_RETURN_IF_ERROR(ReadString(j, "software_version", where, &p.software_version));
  return p;
}

json ToJson(const FileEntry& f) {
  return {{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}, {"media_type", f.media_type}};
}

json ToJson(const Version& v) {
  json files = json::array();
  for (const FileEntry& f : v.files) files.push_back(ToJson(f));
  return {{"resource_id", v.resource_id}, {"hash", v.hash},         {"number", v.number},
          {"message", v.message},         {"author", v.author},     {"created_ms", v.created_ms},
          {"metadata", ToJson(v.metadata)}, {"provenance", ToJson(v.provenance)},
          {"files", files}};
}

json ToJson(const Resource& r) {
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

json ToJson(const User& u) {
  return {{"name", u.name}, {"role", ToString(u.role)}, {"groups", u.groups},
          {"created_ms", u.created_ms}};
}

json ToJson(const Group& g) {
  return {{"name", g.name}, {"title", g.title}, {"members", g.members}};
}

json ToJson(const TokenInfo& t) {
  return {{"id", t.id}, {"user", t.user}, {"label", t.label}, {"created_ms", t.created_ms},
          {"revoked", t.revoked}};
}

json ToJson(const Feedback& f) {
  return {{"id", f.id},
          {"resource_id", f.resource_id},
          {"kind", f.kind == FeedbackKind::kReview ? "review" : "comment"},
          {"author", f.author},
          {"text", f.text},
          {"rating", f.rating},
          {"hidden", f.hidden},
          {"moderation_note", f.moderation_note},
          {"created_ms", f.created_ms}};
}

json ToJson(const AuditEntry& e) {
  return {{"seq", e.seq},       {"time_ms", e.time_ms}, {"actor", e.actor},
          {"action", e.action}, {"target", e.target},   {"detail", e.detail},
          {"prev_hash", e.prev_hash}, {"hash", e.hash}};
}

json ToJson(const AuditReport& r) {
  return {{"ok", r.ok}, {"entries", r.entries}, {"first_bad_seq", r.first_bad_seq},
          {"problem", r.problem}};
}

json ToJson(const SearchResult& r) {
  json items = json::array();
  for (const Resource& x : r.items) items.push_back(ToJson(x));
  json facets = json::object();
  for (const auto& [name, counts] : r.facets) {
    json a = json::array();
    for (const FacetCount& c : counts) a.push_back({{"value", c.value}, {"count", c.count}});
    facets[name] = a;
  }
  return {{"total", r.total}, {"items", items}, {"facets", facets}};
}

}  // namespace soma::repo
