// libFuzzer entry point for the SBML importer: any byte string must give a
// model or an error Status, never a crash, hang or leak. External comp model
// files are not loaded, so inputs cannot make the importer open files.
//
//   build-fuzz/bin/sbml_import_fuzz CORPUS_DIR -max_total_time=600

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/sbml/sbml_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  soma::formats::SbmlImportOptions options;
  options.resolve_external_models = false;
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  soma::Result<soma::formats::SbmlImport> result = soma::formats::ParseSbml(xml, options);
  if (result.ok()) {
    // Touch the result so that the whole import is exercised.
    volatile size_t n = result->model.species.size() + result->diagnostics.size();
    (void)n;
  }
  return 0;
}
