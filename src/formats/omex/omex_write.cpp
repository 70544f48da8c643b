#include <set>

#include "formats/omex/omex.h"
#include "formats/omex/omex_manifest.h"
#include "formats/omex/omex_metadata.h"
#include "formats/omex/omex_paths.h"
#include "formats/omex/xml_util.h"
#include "formats/omex/zip_io.h"

namespace soma::formats {
namespace {

constexpr std::string_view kManifestName = "manifest.xml";
constexpr std::string_view kMetadataName = "metadata.rdf";

Status CheckText(std::string_view field, std::string_view text) {
  if (internal::IsXmlSafeText(text)) return Status::Ok();
  return InvalidArgument(std::string(field) +
                         " is not valid UTF-8 or contains a control character XML forbids");
}

Status CheckMetadata(const OmexMetadata& m) {
  SOMA_RETURN_IF_ERROR(CheckText("OmexMetadata::title", m.title));
  SOMA_RETURN_IF_ERROR(CheckText("OmexMetadata::description", m.description));
  SOMA_RETURN_IF_ERROR(CheckText("OmexMetadata::license", m.license));
  SOMA_RETURN_IF_ERROR(CheckText("OmexMetadata::created", m.created));
  SOMA_RETURN_IF_ERROR(CheckText("OmexMetadata::modified", m.modified));
  for (size_t i = 0; i < m.creators.size(); ++i) {
    std::string field = "OmexMetadata::creators[" + std::to_string(i) + "]";
    SOMA_RETURN_IF_ERROR(CheckText(field, m.creators[i].first));
    SOMA_RETURN_IF_ERROR(CheckText(field, m.creators[i].second));
  }
  for (size_t i = 0; i < m.keywords.size(); ++i) {
    SOMA_RETURN_IF_ERROR(CheckText("OmexMetadata::keywords[" + std::to_string(i) + "]", m.keywords[i]));
  }
  for (size_t i = 0; i < m.references.size(); ++i) {
    SOMA_RETURN_IF_ERROR(CheckText("OmexMetadata::references[" + std::to_string(i) + "]", m.references[i]));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> WriteOmex(const OmexArchive& archive) {
  SOMA_RETURN_IF_ERROR(CheckMetadata(archive.metadata));
  std::vector<internal::ManifestItem> items = {
      {".", std::string(kOmexFormat), false, 0},
      {"./manifest.xml", std::string(kOmexManifestFormat), false, 0}};
  std::vector<internal::ZipFile> files = {{std::string(kManifestName), {}}};
  std::set<std::string> seen;
  for (const OmexEntry& e : archive.entries) {
    std::string what = "entry '" + e.location + "'";
    SOMA_RETURN_IF_ERROR(CheckText(what + " location", e.location));
    SOMA_RETURN_IF_ERROR(CheckText(what + " format", e.format));
    Result<std::string> name = internal::ZipNameForLocation(e.location);
    if (!name.ok()) return InvalidArgument(what + ": " + name.status().message());
    if (name->empty() || *name == kManifestName || *name == kMetadataName) {
      return InvalidArgument(what + ": reserved for the archive itself, its manifest or its metadata");
    }
    if (!seen.insert(*name).second) return InvalidArgument(what + ": given more than once");
    if (e.format.empty()) return InvalidArgument(what + ": empty format");
    items.push_back({"./" + *name, e.format, e.master, 0});
    files.push_back({*name, e.bytes});
  }
  items.push_back({"./metadata.rdf", std::string(kOmexMetadataFormat), false, 0});
  std::string manifest = internal::WriteManifest(items);
  std::string metadata = internal::WriteMetadataRdf(archive.metadata);
  files.front().bytes = manifest;
  files.push_back({std::string(kMetadataName), metadata});
  return internal::WriteZip(files);
}

}  // namespace soma::formats
