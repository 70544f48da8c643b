#include "server/json_codec.h"

#include "repo/json.h"

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

Json ToJson(const repo::Metadata& m) { return repo::ToJson(m); }

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

Json ToJson(const repo::Provenance& p) { return repo::ToJson(p); }

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

Json ToJson(const repo::FileEntry& f) { return repo::ToJson(f); }

Json ToJson(const repo::Resource& r) { return repo::ToJson(r); }

Json ToJson(const repo::Version& v) { return repo::ToJson(v); }

Json ToJson(const repo::User& u) { return repo::ToJson(u); }

Json ToJson(const repo::Group& g) { return repo::ToJson(g); }

Json ToJson(const repo::TokenInfo& t) { return repo::ToJson(t); }

Json ToJson(const repo::Feedback& f) { return repo::ToJson(f); }

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

Json ToJson(const repo::SearchResult& r) { return repo::ToJson(r); }

Json ToJson(const repo::Principal& p) {
  return {{"user", p.user},
          {"anonymous", p.anonymous()},
          {"role", p.anonymous() ? "anonymous" : std::string(ToString(p.role))},
          {"groups", p.groups}};
}

}  // namespace soma::server
