#pragma once
// Compressed model files. libSBML reads `.gz`, `.bz2` and `.zip` files by
// their extension when it opens them itself; Soma reads the bytes first (to
// keep the file's folder for comp's external models and to check the read),
// so the compression is recognised here, by the format's magic bytes rather
// than the file name: `model.xml.gz`, or a gzip file with any name, reads
// like the XML inside it.

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace soma::formats {

enum class Compression { kNone, kGzip, kBzip2, kZip };

// What the first bytes say: gzip (1f 8b), bzip2 ("BZh"), zip ("PK\3\4") or
// none of these.
Compression CompressionOf(std::string_view bytes);

// The largest decompressed size accepted (1 GiB): a model file beyond it is
// refused instead of filling memory (a "zip bomb" expands a thousandfold).
inline constexpr size_t kMaxDecompressedBytes = size_t{1} << 30;

// `bytes` decompressed when they are gzip (also several concatenated gzip
// members, as `cat a.gz b.gz` gives) or bzip2; returned unchanged when they
// are not compressed. `what` names the file in errors. Errors: kParseError
// for corrupt or truncated data (naming the format and the library's
// message), kResourceExhausted past `max_size`, kUnsupported for zip
// archives (several files, not one compressed stream: LoadSbmlFile reads
// COMBINE/OMEX archives before it gets here).
Result<std::string> DecompressIfCompressed(std::string bytes, std::string_view what,
                                           size_t max_size = kMaxDecompressedBytes);

}  // namespace soma::formats
