// COMBINE/OMEX export and import of ApiService.

#include <utility>

#include "formats/omex/omex.h"
#include "repo/crypto.h"
#include "server/api_service.h"
#include "server/content_index.h"

namespace soma::server {

namespace {

// Soma's own description of the resource inside an archive: the metadata
// fields OMEX has no place for (organ systems, scales, context of use ...)
// and the provenance, so an export imports back without loss.
constexpr std::string_view kSomaEntry = "soma.json";

std::string StripDotSlash(const std::string& location) {
  return location.rfind("./", 0) == 0 ? location.substr(2) : location;
}

bool IsSbmlFormat(std::string_view format) { return format.rfind(formats::kSbmlFormat, 0) == 0; }

formats::OmexMetadata ToOmexMetadata(const repo::Metadata& m) {
  formats::OmexMetadata o;
  o.title = m.title;
  o.description = m.description;
  o.license = m.license;
  for (const auto& c : m.creators) o.creators.emplace_back(c.name, c.orcid);
  o.keywords = m.keywords;
  o.references = m.references;
  return o;
}

repo::Metadata FromOmexMetadata(const formats::OmexMetadata& o) {
  repo::Metadata m;
  m.title = o.title;
  m.description = o.description;
  m.license = o.license;
  for (const auto& [name, orcid] : o.creators) m.creators.push_back({name, orcid});
  m.keywords = o.keywords;
  m.references = o.references;
  return m;
}

// Fills what the archive left empty from the model itself.
void FillFromSbml(repo::Metadata* m, const repo::Metadata& sbml) {
  if (m->title.empty()) m->title = sbml.title;
  if (m->description.empty()) m->description = sbml.description;
  if (m->creators.empty()) m->creators = sbml.creators;
  if (m->references.empty()) m->references = sbml.references;
  if (m->annotations.empty()) m->annotations = sbml.annotations;
  if (m->license.empty()) m->license = sbml.license;
}

}  // namespace

Result<Blob> ApiService::ExportOmex(const repo::Principal& p, const std::string& id,
                                    const std::string& version) {
  SOMA_ASSIGN_OR_RETURN(auto resource, repo_.GetResource(p, id));
  SOMA_ASSIGN_OR_RETURN(auto v, repo_.GetVersion(p, id, version));
  formats::OmexArchive archive;
  archive.metadata = ToOmexMetadata(v.metadata);
  bool has_master = false;
  bool soma_entry_taken = false;
  for (const auto& f : v.files) {
    SOMA_ASSIGN_OR_RETURN(std::string bytes, repo_.ReadFile(p, id, v.hash, f.path));
    formats::OmexEntry e;
    e.location = "./" + f.path;
    e.format = f.media_type.empty() || f.media_type == "application/octet-stream"
                   ? formats::FormatForPath(f.path)
                   : formats::FormatForMediaType(f.media_type);
    if (IsSbmlFormat(e.format) && !LooksLikeSbml(bytes)) e.format = formats::FormatForMediaType("application/xml");
    e.master = !has_master && IsSbmlFormat(e.format);
    has_master = has_master || e.master;
    e.bytes = std::move(bytes);
    soma_entry_taken = soma_entry_taken || f.path == kSomaEntry;
    archive.entries.push_back(std::move(e));
  }
  if (!soma_entry_taken) {
    Json soma = {{"id", resource.id},
                 {"kind", repo::ToString(resource.kind)},
                 {"version", v.hash},
                 {"metadata", ToJson(v.metadata)},
                 {"provenance", ToJson(v.provenance)}};
    archive.entries.push_back({"./" + std::string(kSomaEntry),
                               formats::FormatForMediaType("application/json"), false, soma.dump(1)});
  }
  SOMA_ASSIGN_OR_RETURN(std::string zip, formats::WriteOmex(archive));
  Blob b;
  b.sha256 = repo::Sha256Hex(zip);
  b.bytes = std::move(zip);
  b.media_type = "application/zip";
  b.filename = id + ".omex";
  return b;
}

Result<Json> ApiService::ImportOmex(const repo::Principal& p, std::string_view bytes, const Params& query) {
  SOMA_RETURN_IF_ERROR(CheckKnownParams(query, {"id", "kind", "visibility", "group", "message"}));
  // Refuse callers who could not create the resource before unpacking an
  // archive of up to --max-upload bytes (the repository checks again).
  if (p.anonymous()) return Unauthenticated("sign in to import archives");
  if (p.role < repo::Role::kContributor) return PermissionDenied("importing needs the contributor role");
  SOMA_ASSIGN_OR_RETURN(auto archive, formats::ReadOmex(bytes));

  Json soma = Json::object();
  PushRequest push;
  const std::string* master_sbml = nullptr;
  for (auto& e : archive.entries) {
    std::string path = StripDotSlash(e.location);
    if (path == kSomaEntry) {
      Json j = Json::parse(e.bytes, nullptr, false);
      if (j.is_object()) {
        soma = std::move(j);
        continue;
      }
    }
    repo::NewFile f;
    f.path = std::move(path);
    std::string media = formats::MediaTypeForFormat(e.format);
    if (media != "application/octet-stream") f.media_type = media;
    f.bytes = std::move(e.bytes);
    push.files.push_back(std::move(f));
  }
  for (size_t i = 0; i < push.files.size(); ++i) {
    bool master = false;
    for (const auto& e : archive.entries) {
      master = master || (e.master && StripDotSlash(e.location) == push.files[i].path);
    }
    if ((master || master_sbml == nullptr) && LooksLikeSbml(push.files[i].bytes)) {
      if (master_sbml == nullptr || master) master_sbml = &push.files[i].bytes;
    }
  }
  if (push.files.empty()) return InvalidArgument("archive: lists no files to import");

  repo::Metadata metadata = FromOmexMetadata(archive.metadata);
  if (auto it = soma.find("metadata"); it != soma.end()) {
    SOMA_ASSIGN_OR_RETURN(metadata, MetadataFromJson(*it, "soma.json: metadata"));
  }
  if (master_sbml != nullptr) {
    if (auto sbml = MetadataFromSbml(*master_sbml); sbml.ok()) FillFromSbml(&metadata, *sbml);
  }
  if (metadata.title.empty()) metadata.title = "Imported archive";
  if (auto it = soma.find("provenance"); it != soma.end()) {
    SOMA_ASSIGN_OR_RETURN(push.provenance, ProvenanceFromJson(*it, "soma.json: provenance"));
  }

  repo::NewResource r;
  r.id = GetParam(query, "id").value_or("");
  std::string kind = GetParam(query, "kind").value_or(soma.value("kind", std::string("model")));
  SOMA_ASSIGN_OR_RETURN(r.kind, repo::ParseResourceKind(kind));
  SOMA_ASSIGN_OR_RETURN(r.visibility, repo::ParseVisibility(GetParam(query, "visibility").value_or("private")));
  r.group = GetParam(query, "group").value_or("");
  r.metadata = metadata;
  SOMA_ASSIGN_OR_RETURN(auto created, repo_.CreateResource(p, r));

  push.message = GetParam(query, "message").value_or("Imported from a COMBINE archive");
  push.metadata = metadata;
  auto pushed = PushVersion(p, created.id, std::move(push));
  if (!pushed.ok()) {
    // Leave no empty resource behind a failed import.
    (void)repo_.DeleteResource(p, created.id);
    return pushed.status();
  }
  SOMA_ASSIGN_OR_RETURN(auto resource, repo_.GetResource(p, created.id));
  return Json{{"resource", ToJson(resource)}, {"version", std::move(pushed).value()}};
}

}  // namespace soma::server
