#include <set>

#include "formats/omex/omex.h"
#include "formats/omex/omex_manifest.h"
#include "formats/omex/omex_metadata.h"
#include "formats/omex/omex_paths.h"
#include "formats/omex/zip_io.h"

namespace soma::formats {
namespace {

constexpr std::string_view kManifestName = "manifest.xml";
constexpr std::string_view kMetadataName = "metadata.rdf";

// Reads zip entries while counting every inflated byte against one limit.
class BudgetedReader {
 public:
  BudgetedReader(const internal::ZipReader& zip, std::uint64_t budget) : zip_(zip), left_(budget) {}

  Result<std::string> Read(std::uint64_t index, std::string_view name) {
    Result<std::string> bytes = zip_.Read(index, name, left_);
    if (bytes.ok()) left_ -= bytes->size();
    if (bytes.status().code() == ErrorCode::kResourceExhausted) {
      return bytes.status().WithContext("archive exceeds OmexReadOptions::max_total_bytes");
    }
    return bytes;
  }

 private:
  const internal::ZipReader& zip_;
  std::uint64_t left_;
};

Status ManifestError(const internal::ManifestItem& item, const std::string& what) {
  return ParseError(std::string(kManifestName) + ": line " + std::to_string(item.line) + ": location '" +
                    item.location + "': " + what);
}

}  // namespace

Status OmexReadOptions::Validate() const {
  if (max_total_bytes == 0) return InvalidArgument("OmexReadOptions::max_total_bytes = 0; must be > 0");
  if (max_entries == 0) return InvalidArgument("OmexReadOptions::max_entries = 0; must be > 0");
  return Status::Ok();
}

Result<OmexArchive> ReadOmex(std::string_view zip_bytes, const OmexReadOptions& options) {
  SOMA_RETURN_IF_ERROR(options.Validate());
  SOMA_ASSIGN_OR_RETURN(internal::ZipReader zip, internal::ZipReader::Open(zip_bytes, options.max_entries));
  BudgetedReader reader(zip, options.max_total_bytes);
  std::optional<std::uint64_t> manifest_index = zip.Find(kManifestName);
  if (!manifest_index) return ParseError("not a COMBINE archive: the zip has no manifest.xml");
  SOMA_ASSIGN_OR_RETURN(std::string manifest_bytes, reader.Read(*manifest_index, kManifestName));
  SOMA_ASSIGN_OR_RETURN(std::vector<internal::ManifestItem> items, internal::ParseManifest(manifest_bytes));

  OmexArchive archive;
  std::set<std::string> seen;
  bool metadata_listed = false;
  for (const internal::ManifestItem& item : items) {
    if (internal::IsExternalLocation(item.location)) {
      return Unsupported(std::string(kManifestName) + ": line " + std::to_string(item.line) + ": location '" +
                         item.location + "' is outside the archive; external content is not fetched");
    }
    Result<std::string> name = internal::ZipNameForLocation(item.location);
    if (!name.ok()) return ManifestError(item, name.status().message());
    if (name->empty() || *name == kManifestName) continue;  // the archive itself, the manifest
    if (!seen.insert(*name).second) return ManifestError(item, "listed more than once");
    std::optional<std::uint64_t> index = zip.Find(*name);
    if (!index) return ManifestError(item, "listed in the manifest but absent from the zip");
    SOMA_ASSIGN_OR_RETURN(std::string bytes, reader.Read(*index, *name));
    if (item.format.rfind(kOmexMetadataFormat, 0) == 0) {  // also versioned forms
      metadata_listed = true;
      SOMA_RETURN_IF_ERROR(internal::ReadMetadataRdf(bytes, *name, &archive.metadata));
      continue;
    }
    archive.entries.push_back({"./" + *name, item.format, item.master, std::move(bytes)});
  }
  // Some tools write metadata.rdf without listing it.
  if (std::optional<std::uint64_t> index = zip.Find(kMetadataName);
      index && !metadata_listed && !seen.count(std::string(kMetadataName))) {
    SOMA_ASSIGN_OR_RETURN(std::string bytes, reader.Read(*index, kMetadataName));
    SOMA_RETURN_IF_ERROR(internal::ReadMetadataRdf(bytes, kMetadataName, &archive.metadata));
  }
  return archive;
}

}  // namespace soma::formats
