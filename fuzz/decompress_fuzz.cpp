// libFuzzer entry point for compressed model files
// (formats::DecompressIfCompressed): any bytes give the text or an error,
// never a crash, hang, leak or more output than the limit. Leak detection
// stays on: zlib and libbz2 state is Soma's to release on every path.
//
//   build-fuzz/bin/decompress_fuzz /tmp/corpus-compressed -max_total_time=300

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "formats/common/compressed.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kLimit = size_t{1} << 20;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto out = soma::formats::DecompressIfCompressed(bytes, "fuzz", kLimit);
  if (out.ok()) {
    if (out->size() > kLimit) std::abort();
    // Plain input comes back unchanged.
    if (soma::formats::CompressionOf(bytes) == soma::formats::Compression::kNone && *out != bytes) std::abort();
  }
  return 0;
}
