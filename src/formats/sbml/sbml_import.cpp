// Document handling: reading, package checks, comp flattening, conversion to
// L3V2, then ImportModel (sbml_model.cpp) for the elements.

#include "formats/sbml/sbml_import.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <system_error>

#include <sbml/SBMLTypes.h>

#include "core/files.h"
#include "formats/sbml/sbml_comp.h"
#include "formats/sbml/sbml_diagnostics.h"
#include "formats/sbml/sbml_fbc.h"
#include "formats/sbml/sbml_model.h"
#include "formats/common/compressed.h"
#include "formats/sbml/sbml_packages.h"
#include "formats/sbml/sbml_reader.h"

namespace soma::formats {
namespace {

using internal::ErrorLines;
using internal::IsError;
using internal::LibsbmlMutex;
using internal::WithXmlDeclaration;

bool IsPackageNotice(const ::SBMLError& e) {
  return e.getErrorId() == internal::kUnknownRequiredPackage || e.getErrorId() == internal::kUnknownPackage;
}

// Appends the reader's warnings and infos (package notices are reported by
// CheckPackages instead).
void AppendReadNotices(const ::SBMLDocument& doc, std::vector<Diagnostic>* out) {
  for (unsigned int i = 0; i < doc.getNumErrors(); ++i) {
    const ::SBMLError* e = doc.getError(i);
    if (e == nullptr || IsError(*e) || IsPackageNotice(*e)) continue;
    out->push_back(internal::ToDiagnostic(*e));
  }
}

// SBML L1 gives a compartment without a volume the volume 1; libSBML's
// converter leaves such sizes unset. (In L1 getVolume() returns the default.)
void ApplyLevel1Defaults(::SBMLDocument& doc) {
  if (doc.getLevel() != 1 || doc.getModel() == nullptr) return;
  ::Model& m = *doc.getModel();
  for (unsigned int i = 0; i < m.getNumCompartments(); ++i) {
    ::Compartment* c = m.getCompartment(i);
    c->setVolume(c->getVolume());
  }
}

Status ConvertToL3V2(::SBMLDocument& doc, std::vector<Diagnostic>* diagnostics) {
  if (doc.getLevel() == 3 && doc.getVersion() == 2) return Status::Ok();
  const std::string from = "SBML Level " + std::to_string(doc.getLevel()) + " Version " +
                           std::to_string(doc.getVersion());
  unsigned int first = doc.getNumErrors();
  if (!doc.setLevelAndVersion(3, 2, /*strict=*/false)) {
    std::string details = ErrorLines(doc, first);
    return Unsupported("could not convert " + from + " to Level 3 Version 2" +
                       (details.empty() ? std::string() : ":\n" + details));
  }
  // Errors logged by a successful non-strict conversion describe what it
  // changed; the one about fast reactions is handled by SourceFacts::fast.
  for (unsigned int i = first; i < doc.getNumErrors(); ++i) {
    const ::SBMLError* e = doc.getError(i);
    if (e == nullptr || e->getErrorId() == ::FastReactionsNotSupported) continue;
    Diagnostic d = internal::ToDiagnostic(*e);
    d.severity = Severity::kInfo;
    d.category = "conversion from " + from;
    diagnostics->push_back(std::move(d));
  }
  return Status::Ok();
}

void CheckUnits(::SBMLDocument& doc, std::vector<Diagnostic>* diagnostics) {
  for (auto category : {::LIBSBML_CAT_GENERAL_CONSISTENCY, ::LIBSBML_CAT_IDENTIFIER_CONSISTENCY,
                        ::LIBSBML_CAT_MATHML_CONSISTENCY, ::LIBSBML_CAT_SBO_CONSISTENCY,
                        ::LIBSBML_CAT_OVERDETERMINED_MODEL, ::LIBSBML_CAT_MODELING_PRACTICE}) {
    doc.setConsistencyChecks(category, false);
  }
  doc.setConsistencyChecks(::LIBSBML_CAT_UNITS_CONSISTENCY, true);
  unsigned int first = doc.getNumErrors();
  doc.checkConsistency();
  for (unsigned int i = first; i < doc.getNumErrors(); ++i) {
    const ::SBMLError* e = doc.getError(i);
    if (e == nullptr) continue;
    Diagnostic d = internal::ToDiagnostic(*e);
    if (d.severity == Severity::kError) d.severity = Severity::kWarning;  // units never fail an import
    diagnostics->push_back(std::move(d));
  }
}

Result<SbmlImport> Import(::SBMLDocument& doc, const SbmlImportOptions& options,
                          const std::filesystem::path& base_dir) {
  SbmlImport out;
  std::string errors = ErrorLines(doc, 0, {internal::kUnknownRequiredPackage, internal::kUnknownPackage});
  if (!errors.empty()) return ParseError("SBML document could not be read:\n" + errors);
  if (doc.getModel() == nullptr) return InvalidModel("SBML document contains no <model>");
  AppendReadNotices(doc, &out.diagnostics);

  SOMA_ASSIGN_OR_RETURN(internal::PackageUse packages, internal::CheckPackages(doc, &out.diagnostics));
  internal::SourceFacts facts;
  facts.level = static_cast<int>(doc.getLevel());
  facts.version = static_cast<int>(doc.getVersion());
  if (packages.comp) {
    SOMA_RETURN_IF_ERROR(
        internal::FlattenComp(doc, base_dir, options.resolve_external_models, &out.diagnostics));
    if (doc.getModel() == nullptr) return InvalidModel("comp: flattening left no <model>");
  }
  const ::Model& before = *doc.getModel();
  std::optional<model::FluxBalance> flux_balance;
  if (packages.fbc) {
    SOMA_ASSIGN_OR_RETURN(flux_balance, internal::ReadFluxBalance(before, &out.diagnostics));
  }
  for (unsigned int i = 0; i < before.getNumReactions(); ++i) {
    const ::Reaction* r = before.getReaction(i);
    facts.fast.push_back(r->isSetFast() && r->getFast());
  }
  ApplyLevel1Defaults(doc);
  SOMA_RETURN_IF_ERROR(ConvertToL3V2(doc, &out.diagnostics));
  const ::Model* m = doc.getModel();
  if (m == nullptr) return Internal("SBML conversion to L3V2 lost the model");
  if (m->getNumReactions() != facts.fast.size()) {
    return Internal("SBML conversion to L3V2 changed the number of reactions");
  }
  if (options.check_units) CheckUnits(doc, &out.diagnostics);
  SOMA_ASSIGN_OR_RETURN(out.model, internal::ImportModel(*m, facts, &out.diagnostics));
  out.model.flux_balance = std::move(flux_balance);
  return out;
}

}  // namespace

namespace {

// Text that cannot be XML at all (a CSV, a JSON file, an empty file) gets a
// message saying so; libSBML would say "Main XML content is empty".
Status CheckLooksLikeXml(std::string_view xml) {
  std::string_view body = xml;
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);  // UTF-8 byte order mark
  // UTF-16 and UTF-32 documents start with a byte order mark or a zero byte:
  // libSBML decides.
  if (!body.empty() && (static_cast<unsigned char>(body[0]) >= 0xFE || body[0] == '\0')) return Status::Ok();
  const size_t start = body.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return ParseError("the file is empty: no SBML document");
  if (body[start] == '<') return Status::Ok();
  std::string head;
  for (char c : body.substr(start, 40)) {
    if (c == '\n' || c == '\r') break;
    head += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  return ParseError("not an XML document: it begins with \"" + head +
                    "\" (an SBML file begins with '<?xml' or '<sbml')");
}

}  // namespace

Result<SbmlImport> ParseSbml(std::string_view xml, const SbmlImportOptions& options,
                             const std::filesystem::path& base_dir) {
  SOMA_RETURN_IF_ERROR(CheckLooksLikeXml(xml));
  try {
    std::error_code ec;
    std::filesystem::path base = base_dir.empty() ? std::filesystem::current_path(ec)
                                                  : std::filesystem::absolute(base_dir, ec);
    if (ec) base = base_dir;
    std::lock_guard<std::mutex> lock(LibsbmlMutex());
    ::SBMLReader reader;
    std::unique_ptr<::SBMLDocument> doc(reader.readSBMLFromString(WithXmlDeclaration(xml)));
    if (doc == nullptr) return Internal("libSBML returned no document");
    return Import(*doc, options, base);
  } catch (const ::SBMLConstructorException& e) {
    // libSBML 5.19 lets this escape its reader for some element/namespace
    // mismatches (and leaks the partly read document when it does).
    return ParseError(std::string("SBML document could not be read: libSBML rejected an element: ") + e.what());
  } catch (const std::exception& e) {
    return Internal(std::string("SBML import: unexpected exception: ") + e.what());
  }
}

namespace {

ModelArchiveReader g_archive_reader = nullptr;
// Set while an archive's model is read: an archive's model that is itself an
// archive is refused (a zip that contains itself would never end).
thread_local bool t_in_archive = false;
struct InArchiveScope {
  InArchiveScope() { t_in_archive = true; }
  ~InArchiveScope() { t_in_archive = false; }
  InArchiveScope(const InArchiveScope&) = delete;
  InArchiveScope& operator=(const InArchiveScope&) = delete;
};

// A private temporary folder, removed with everything in it.
class TempFolder {
 public:
  static Result<TempFolder> Create() {
    std::error_code ec;
    std::string pattern = (std::filesystem::temp_directory_path(ec) / "soma-archive-XXXXXX").string();
    if (ec) return IoError("no temporary folder: " + ec.message());
    if (mkdtemp(pattern.data()) == nullptr) return IoError("cannot create a folder like " + pattern);
    return TempFolder(pattern);
  }
  TempFolder(TempFolder&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempFolder& operator=(TempFolder&&) = delete;
  ~TempFolder() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit TempFolder(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

// `s` with the temporary folder's path replaced by the archive's name.
std::string InArchive(std::string s, const std::filesystem::path& folder, const std::filesystem::path& archive) {
  const std::string from = folder.string() + "/", to = archive.string() + ":";
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// Reads the file; gzip and bzip2 files read as the content inside them.
Result<std::string> ReadModelBytes(const std::filesystem::path& path) {
  auto read = ReadWholeFile(path);
  if (!read.ok()) return read.status().WithContext("SBML file");
  std::string bytes = std::move(*read);
  if (CompressionOf(bytes) == Compression::kZip) return bytes;  // an archive: the caller's part
  return DecompressIfCompressed(std::move(bytes), path.string());
}

// An archive's files extracted to a temporary folder (removed with this).
struct ExtractedArchive {
  TempFolder folder;
  std::filesystem::path main;  // the model file in it
};

Result<ExtractedArchive> ExtractArchive(const std::string& bytes, const std::filesystem::path& path) {
  if (g_archive_reader == nullptr) {
    return Unsupported(path.string() + ": a zip archive, which this program does not read (the `soma` command "
                       "does: a COMBINE/OMEX archive is read as its master SBML file)");
  }
  if (t_in_archive) return Unsupported(path.string() + ": the archive's model is itself a zip archive");
  SOMA_ASSIGN_OR_RETURN(TempFolder folder, TempFolder::Create());
  auto main = g_archive_reader(bytes, folder.path());
  if (!main.ok()) {
    return Status(main.status().code(), InArchive(main.status().message(), folder.path(), path))
        .WithContext(path.string());
  }
  return ExtractedArchive{std::move(folder), *main};
}

}  // namespace

void SetModelArchiveReader(ModelArchiveReader reader) { g_archive_reader = reader; }

Result<SbmlImport> LoadSbmlFile(const std::filesystem::path& path, const SbmlImportOptions& options) {
  std::error_code ec;
  SOMA_ASSIGN_OR_RETURN(std::string xml, ReadModelBytes(path));
  if (CompressionOf(xml) == Compression::kZip) {
    SOMA_ASSIGN_OR_RETURN(ExtractedArchive archive, ExtractArchive(xml, path));
    Result<SbmlImport> result = [&] {
      InArchiveScope scope;
      return LoadSbmlFile(archive.main, options);
    }();
    if (!result.ok()) {
      return Status(result.status().code(), InArchive(result.status().message(), archive.folder.path(), path));
    }
    return result;
  }
  std::filesystem::path dir = std::filesystem::absolute(path, ec).parent_path();
  if (ec) dir = path.parent_path();
  Result<SbmlImport> result = ParseSbml(xml, options, dir);
  if (!result.ok()) return result.status().WithContext(path.string());
  return result;
}

SbmlCheckReport CheckSbmlFile(const std::filesystem::path& path) {
  SbmlCheckReport report;
  auto add = [&](Diagnostic d) {
    if (d.severity == Severity::kError) ++report.errors;
    if (d.severity == Severity::kWarning) ++report.warnings;
    report.diagnostics.push_back(std::move(d));
  };
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    add({Severity::kError, 0, 0, "file", "SBML file '" + path.string() + "' not found or not a file"});
    return report;
  }
  try {
    std::filesystem::path absolute = std::filesystem::absolute(path, ec);
    if (ec) absolute = path;
    // One read, as LoadSbmlFile does: compressed files by their content
    // (libSBML would go by the file name's extension), archives by their model.
    auto xml = ReadModelBytes(path);
    if (!xml.ok()) {
      add({Severity::kError, 0, 0, "file", xml.status().message()});
      return report;
    }
    if (CompressionOf(*xml) == Compression::kZip) {
      // An archive: its model file is checked where it was extracted.
      auto archive = ExtractArchive(*xml, path);
      if (!archive.ok()) {
        add({Severity::kError, 0, 0, "file", archive.status().message()});
        return report;
      }
      SbmlCheckReport inner = [&] {
        InArchiveScope scope;
        return CheckSbmlFile(archive->main);
      }();
      for (Diagnostic& d : inner.diagnostics) d.message = InArchive(d.message, archive->folder.path(), path);
      return inner;
    }
    std::lock_guard<std::mutex> lock(LibsbmlMutex());
    ::SBMLReader reader;
    std::unique_ptr<::SBMLDocument> doc(reader.readSBMLFromString(WithXmlDeclaration(*xml)));
    // comp's external model files are found next to the file.
    if (doc != nullptr) doc->setLocationURI("file:" + absolute.string());
    if (doc == nullptr) {
      add({Severity::kError, 0, 0, "file", "libSBML could not read '" + path.string() + "'"});
      return report;
    }
    bool readable = doc->getNumErrors(::LIBSBML_SEV_ERROR) == 0 &&
                    doc->getNumErrors(::LIBSBML_SEV_FATAL) == 0;
    if (readable) {
      for (auto category : {::LIBSBML_CAT_GENERAL_CONSISTENCY, ::LIBSBML_CAT_IDENTIFIER_CONSISTENCY,
                            ::LIBSBML_CAT_UNITS_CONSISTENCY, ::LIBSBML_CAT_MATHML_CONSISTENCY,
                            ::LIBSBML_CAT_SBO_CONSISTENCY, ::LIBSBML_CAT_OVERDETERMINED_MODEL}) {
        doc->setConsistencyChecks(category, true);
      }
      doc->setConsistencyChecks(::LIBSBML_CAT_MODELING_PRACTICE, false);
      doc->checkConsistency();
    }
    std::vector<Diagnostic> all;
    internal::AppendLog(*doc, 0, &all);
    for (Diagnostic& d : all) add(std::move(d));
  } catch (const ::SBMLConstructorException& e) {
    add({Severity::kError, 0, 0, "read", std::string("libSBML rejected an element: ") + e.what()});
  } catch (const std::exception& e) {
    add({Severity::kError, 0, 0, "internal", std::string("unexpected exception: ") + e.what()});
  }
  return report;
}

}  // namespace soma::formats
