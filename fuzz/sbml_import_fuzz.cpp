// libFuzzer entry point for the SBML importer: any byte string must give a
// model or an error Status, never a crash, hang or leak. External comp model
// files are not loaded, so inputs cannot make the importer open files. Bytes
// go through the decompression of compressed model files first, as
// LoadSbmlFile reads a file (gzip and bzip2 inputs; 16 MB at most here).
//
//   build-fuzz/bin/sbml_import_fuzz CORPUS_DIR -max_total_time=600

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/common/compressed.h"
#include "formats/sbml/sbml_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  soma::formats::SbmlImportOptions options;
  options.resolve_external_models = false;
  auto xml = soma::formats::DecompressIfCompressed(std::string(reinterpret_cast<const char*>(data), size), "fuzz",
                                                   size_t{16} << 20);
  if (!xml.ok()) return 0;
  soma::Result<soma::formats::SbmlImport> result = soma::formats::ParseSbml(*xml, options);
  if (result.ok()) {
    // Touch the result so that the whole import is exercised.
    volatile size_t n = result->model.species.size() + result->diagnostics.size();
    (void)n;
  }
  return 0;
}
