#pragma once
// COMBINE/OMEX archives (COMBINE Archive specification 1.0, Bergmann et al.
// 2014, doi:10.1186/s12859-014-0369-z): a zip file whose `manifest.xml` lists
// each file with its format, plus RDF metadata (`metadata.rdf`) describing
// the archive with Dublin Core terms and vCard. This is how Soma exchanges a
// model together with its data and evidence with other tools.
//
// What is read and written here:
//  * the manifest (namespace http://identifiers.org/combine.specifications/omex-manifest):
//    every <content> except the archive itself (location ".") and the
//    manifest becomes an OmexEntry with the file's bytes;
//  * the archive-level metadata in every file the manifest lists with a
//    format starting http://identifiers.org/combine.specifications/omex-metadata (and
//    `metadata.rdf` at the root when the manifest does not list it). These
//    files are consumed into OmexMetadata and are not returned as entries;
//    RDF statements about individual files inside the archive are dropped.
// Files in the zip that the manifest does not list are ignored, as the
// specification allows. Nothing is ever written to disk: archives are bytes
// in memory and locations are only names.
//
// Thread safety: all functions may be called concurrently; they share no
// mutable state.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace soma::formats {

// Well-known format URIs used in manifests.
inline constexpr std::string_view kOmexFormat = "http://identifiers.org/combine.specifications/omex";
inline constexpr std::string_view kOmexManifestFormat =
    "http://identifiers.org/combine.specifications/omex-manifest";
inline constexpr std::string_view kOmexMetadataFormat =
    "http://identifiers.org/combine.specifications/omex-metadata";
inline constexpr std::string_view kSbmlFormat = "http://identifiers.org/combine.specifications/sbml";
// Prefix of formats given as a media type, e.g. ".../text/csv".
inline constexpr std::string_view kMediaTypeFormatPrefix = "http://purl.org/NET/mediatypes/";

// One file in an archive.
struct OmexEntry {
  // Path inside the archive in the manifest's spelling: "./" followed by a
  // relative path with '/' separators ("./model.xml", "./data/obs.csv").
  // ReadOmex always returns this form; WriteOmex also accepts the path
  // without "./". Never absolute, never containing "..".
  std::string location;
  // Format URI: identifiers.org COMBINE specification
  // ("http://identifiers.org/combine.specifications/sbml.level-3.version-2")
  // or a media type under http://purl.org/NET/mediatypes/. Not checked
  // against a list; must not be empty when writing.
  std::string format;
  // The archive's main file(s) (manifest attribute master="true").
  bool master = false;
  // The file's content, uncompressed.
  std::string bytes;

  friend bool operator==(const OmexEntry&, const OmexEntry&) = default;
};

// Archive-level metadata (dcterms and vCard in metadata.rdf). Empty strings
// and lists mean "not stated"; nothing is required.
struct OmexMetadata {
  std::string title;        // dcterms:title
  std::string description;  // dcterms:description
  // dcterms:license: an SPDX licence id ("CC-BY-4.0"), written as its
  // https://spdx.org/licenses/ URI and read back as the id; or another
  // licence's URI; or free text (written as a literal).
  std::string license;
  // dcterms:creator: (name, ORCID iD). The name is the full name as one
  // string ("Jane Smith"); the ORCID iD is the bare 16-digit form
  // ("0000-0002-1825-0097") or empty when none is known.
  std::vector<std::pair<std::string, std::string>> creators;
  std::vector<std::string> keywords;  // dcterms:subject (or prism:keyword) literals, in order, no duplicates
  // Publications describing the archive (bqmodel:isDescribedBy,
  // dcterms:references): "doi:10..." or "pubmed:123" where the URI is
  // recognised (formats/common/identifiers.h), else the URI as written.
  std::vector<std::string> references;
  // ISO 8601 / W3CDTF date-times as written ("2024-05-01T12:00:00Z"); not
  // validated. When several dcterms:modified are present the latest (in
  // string order) is kept.
  std::string created;
  std::string modified;

  friend bool operator==(const OmexMetadata&, const OmexMetadata&) = default;
};

struct OmexArchive {
  std::vector<OmexEntry> entries;  // in manifest order
  OmexMetadata metadata;

  friend bool operator==(const OmexArchive&, const OmexArchive&) = default;
};

// Limits that keep a hostile archive (a "zip bomb") from exhausting memory.
struct OmexReadOptions {
  // Largest number of uncompressed bytes read from the archive in total:
  // manifest, metadata and every listed entry. Checked against the sizes the
  // zip declares before reading and against the bytes actually inflated
  // while reading. Must be > 0. Default: 1 GiB.
  std::uint64_t max_total_bytes = std::uint64_t{1} << 30;
  // Largest number of entries (files and folders) the zip may contain.
  // Must be > 0. Default: 10,000.
  std::uint64_t max_entries = 10'000;

  // kInvalidArgument naming the field and the rule when a value is out of
  // range ("OmexReadOptions::max_entries = 0; must be > 0").
  Status Validate() const;
};

// Reads a COMBINE/OMEX archive held in memory.
// Errors:
//   kInvalidArgument   `options` fail Validate().
//   kParseError        not a zip archive (or a corrupt one: bad CRC, bad
//                      compressed data); no manifest.xml; a manifest or
//                      metadata file that is not well-formed XML ("line N:
//                      ...") or whose root is not the expected element and
//                      namespace; a <content> without location or format; a
//                      location listed twice (after dropping "./"); a
//                      location that is absolute or contains ".." (path
//                      traversal); a listed entry absent from the zip.
//   kResourceExhausted more entries than options.max_entries, or more
//                      uncompressed bytes than options.max_total_bytes.
//   kUnsupported       an encrypted entry or a compression method libzip
//                      cannot inflate; a manifest location that is a URL
//                      (external content is not fetched).
// Messages name the entry or file concerned.
Result<OmexArchive> ReadOmex(std::string_view zip_bytes, const OmexReadOptions& options = {});

// Writes an archive: `manifest.xml` (listing "." as the archive itself, the
// manifest, every entry in order, then the metadata), the entries deflated,
// and `metadata.rdf` describing "." with the non-empty fields of `metadata`.
// The bytes depend only on the input: every zip entry carries the same fixed
// time stamp (1980-01-01 00:00, the earliest DOS time) and there are no
// platform-specific extra fields, so content hashes are stable.
// Errors (kInvalidArgument, naming the entry): an empty, absolute or ".."
// location; one that names "." , "manifest.xml" or "metadata.rdf" (written
// by this function); a location given twice; an empty format; text in
// metadata or locations that is not valid UTF-8 or contains characters XML
// 1.0 forbids (control characters other than tab, CR, LF).
Result<std::string> WriteOmex(const OmexArchive& archive);

// The format URI to use for a file, guessed from its extension
// (case-insensitive): .xml and .sbml -> kSbmlFormat; .sedml -> SED-ML;
// .cellml -> CellML; .sbgn -> SBGN; .rdf -> kOmexMetadataFormat; .omex ->
// kOmexFormat; common data and document types (.csv, .tsv, .json, .yaml,
// .yml, .md, .txt, .html, .pdf, .png, .jpg, .jpeg, .svg, .zip, .h5) -> their
// media type under kMediaTypeFormatPrefix; anything else ->
// ".../application/octet-stream".
std::string FormatForPath(std::string_view path);

// The format URI for a media type: "application/sbml+xml" -> kSbmlFormat,
// "application/sedml+xml" / "application/sed-ml+xml" -> SED-ML,
// "application/cellml+xml" -> CellML, "application/rdf+xml" ->
// kOmexMetadataFormat, "application/omex" / "application/zip+omex" ->
// kOmexFormat; any other media type -> kMediaTypeFormatPrefix + media type
// (parameters such as "; charset=utf-8" are dropped, case is lowered).
std::string FormatForMediaType(std::string_view media_type);

// The media type to serve a file of `format` with: the inverse of
// FormatForMediaType. Versioned specification URIs
// (".../sbml.level-3.version-2") map like the unversioned one; unknown
// formats give "application/octet-stream".
std::string MediaTypeForFormat(std::string_view format);

// "http://identifiers.org/combine.specifications/sbml.level-L.version-V".
std::string SbmlFormat(int level, int version);

// The archive's model: the SBML entry (format kSbmlFormat, with or without a
// level/version suffix) marked master="true", or the only SBML entry when none
// is marked. Errors: kInvalidArgument when there is no SBML entry;
// kUnsupported when several are marked master, or several are present and
// none is marked (the message lists their locations).
Result<const OmexEntry*> MainSbmlEntry(const OmexArchive& archive);

// Reads a COMBINE/OMEX archive (ReadOmex, default limits), writes each of its
// entries under the folder `into` (which must exist; subfolders are created),
// and returns the path of its model (MainSbmlEntry), so that the model's
// comp references to other files of the archive resolve next to it.
// Errors: as ReadOmex and MainSbmlEntry; kIoError when a file cannot be
// written.
Result<std::filesystem::path> ExtractModelArchive(std::string_view zip_bytes, const std::filesystem::path& into);

}  // namespace soma::formats
