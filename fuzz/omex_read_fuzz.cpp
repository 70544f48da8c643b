// libFuzzer entry point for the COMBINE/OMEX reader: any byte string must give
// an archive or an error Status, never a crash, hang, leak or an allocation
// beyond the configured limits. Whatever is read must survive a write and a
// second read unchanged (or be refused by WriteOmex as invalid input).
//
// Deflated zip members are opaque to mutation, so the first byte picks what
// the rest of the input is:
//   'M'  the text of manifest.xml, zipped with a model, a data file and a
//        metadata.rdf;
//   'R'  the text of metadata.rdf, zipped with a manifest listing it;
//   else the whole input is the archive.
//
//   build-fuzz/bin/omex_read_fuzz CORPUS_DIR -max_total_time=600

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "formats/omex/omex.h"
#include "formats/omex/zip_io.h"

namespace {

constexpr std::string_view kRdf =
    R"(<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcterms="http://purl.org/dc/terms/">)"
    R"(<rdf:Description rdf:about="."><dcterms:title>t</dcterms:title></rdf:Description></rdf:RDF>)";
constexpr std::string_view kManifest =
    R"(<omexManifest xmlns="http://identifiers.org/combine.specifications/omex-manifest">)"
    R"(<content location="./metadata.rdf" format="http://identifiers.org/combine.specifications/omex-metadata"/>)"
    R"(</omexManifest>)";

std::string Archive(std::string_view bytes) {
  using soma::formats::internal::ZipFile;
  if (bytes.empty() || (bytes[0] != 'M' && bytes[0] != 'R')) return std::string(bytes);
  std::string_view text = bytes.substr(1);
  std::vector<ZipFile> files;
  if (bytes[0] == 'M') {
    files = {
        {"manifest.xml", text}, {"model.xml", "<sbml/>"}, {"data/a.csv", "t\n0\n"}, {"metadata.rdf", kRdf}};
  } else {
    files = {{"manifest.xml", kManifest}, {"metadata.rdf", text}};
  }
  soma::Result<std::string> zip = soma::formats::internal::WriteZip(files);
  if (!zip.ok()) std::abort();
  return *zip;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  soma::formats::OmexReadOptions options;
  options.max_total_bytes = 4 << 20;
  options.max_entries = 256;
  std::string bytes = Archive(std::string_view(reinterpret_cast<const char*>(data), size));
  soma::Result<soma::formats::OmexArchive> archive = soma::formats::ReadOmex(bytes, options);
  if (!archive.ok()) return 0;
  soma::Result<std::string> written = soma::formats::WriteOmex(*archive);
  if (!written.ok()) {
    // Only input WriteOmex documents as invalid may be refused (e.g. an entry
    // listed as "metadata.rdf" with another format).
    if (written.status().code() != soma::ErrorCode::kInvalidArgument) std::abort();
    return 0;
  }
  soma::Result<soma::formats::OmexArchive> again = soma::formats::ReadOmex(*written, options);
  if (!again.ok() || !(*again == *archive)) std::abort();
  return 0;
}
