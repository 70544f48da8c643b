#include "formats/common/compressed.h"

#include <bzlib.h>
#include <zlib.h>

#include <algorithm>
#include <climits>

namespace soma::formats {

namespace {

constexpr size_t kChunk = size_t{1} << 16;

std::string Prefix(std::string_view what) { return what.empty() ? std::string() : std::string(what) + ": "; }

Status TooLarge(std::string_view what, size_t max_size) {
  return ResourceExhausted(Prefix(what) + "decompresses to more than " + std::to_string(max_size) +
                           " bytes, the most a model file may hold");
}

Result<std::string> Gunzip(const std::string& in, std::string_view what, size_t max_size) {
  z_stream z{};
  // 16 + MAX_WBITS: gzip header and trailer (CRC-32 and length checked).
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return Internal("zlib: inflateInit2 failed");
  std::string out;
  size_t pos = 0;  // consumed input
  int rc = Z_OK;
  while (true) {
    const size_t avail = std::min(in.size() - pos, static_cast<size_t>(UINT_MAX));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + pos));
    z.avail_in = static_cast<uInt>(avail);
    const size_t old = out.size();
    out.resize(old + kChunk);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    z.avail_out = static_cast<uInt>(kChunk);
    rc = inflate(&z, Z_NO_FLUSH);
    pos += avail - z.avail_in;
    out.resize(old + (kChunk - z.avail_out));
    if (out.size() > max_size) {
      inflateEnd(&z);
      return TooLarge(what, max_size);
    }
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (concatenated files).
      if (pos < in.size() && CompressionOf(std::string_view(in).substr(pos)) == Compression::kGzip) {
        inflateReset(&z);
        continue;
      }
      break;
    }
    // Z_BUF_ERROR: no progress possible, i.e. the input ended inside the
    // stream (there is always fresh output space).
    if (rc != Z_OK) break;
  }
  const std::string message = z.msg != nullptr ? z.msg : "";
  inflateEnd(&z);
  if (rc == Z_STREAM_END) return out;
  if (rc == Z_OK || rc == Z_BUF_ERROR) return ParseError(Prefix(what) + "gzip data is truncated");
  return ParseError(Prefix(what) + "gzip data is corrupt" + (message.empty() ? "" : " (" + message + ")"));
}

Result<std::string> Bunzip2(const std::string& in, std::string_view what, size_t max_size) {
  bz_stream b{};
  if (BZ2_bzDecompressInit(&b, 0, 0) != BZ_OK) return Internal("bzip2: BZ2_bzDecompressInit failed");
  std::string out;
  size_t pos = 0;
  int rc = BZ_OK;
  while (true) {
    const size_t avail = std::min(in.size() - pos, static_cast<size_t>(UINT_MAX));
    b.next_in = const_cast<char*>(in.data() + pos);
    b.avail_in = static_cast<unsigned>(avail);
    const size_t old = out.size();
    out.resize(old + kChunk);
    b.next_out = out.data() + old;
    b.avail_out = static_cast<unsigned>(kChunk);
    rc = BZ2_bzDecompress(&b);
    pos += avail - b.avail_in;
    out.resize(old + (kChunk - b.avail_out));
    if (out.size() > max_size) {
      BZ2_bzDecompressEnd(&b);
      return TooLarge(what, max_size);
    }
    if (rc == BZ_STREAM_END) {
      if (pos < in.size() && CompressionOf(std::string_view(in).substr(pos)) == Compression::kBzip2) {
        BZ2_bzDecompressEnd(&b);
        b = bz_stream{};
        if (BZ2_bzDecompressInit(&b, 0, 0) != BZ_OK) return Internal("bzip2: BZ2_bzDecompressInit failed");
        continue;
      }
      break;
    }
    if (rc != BZ_OK) break;
    // No progress with all input consumed: the stream was cut short.
    if (pos >= in.size() && b.avail_out != 0) break;
  }
  BZ2_bzDecompressEnd(&b);
  if (rc == BZ_STREAM_END) return out;
  if (rc == BZ_OK) return ParseError(Prefix(what) + "bzip2 data is truncated");
  return ParseError(Prefix(what) + "bzip2 data is corrupt (libbz2 error " + std::to_string(rc) + ")");
}

}  // namespace

Compression CompressionOf(std::string_view bytes) {
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
      static_cast<unsigned char>(bytes[1]) == 0x8b) {
    return Compression::kGzip;
  }
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "BZh") return Compression::kBzip2;
  if (bytes.size() >= 4 && bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4)) return Compression::kZip;
  return Compression::kNone;
}

Result<std::string> DecompressIfCompressed(std::string bytes, std::string_view what, size_t max_size) {
  switch (CompressionOf(bytes)) {
    case Compression::kNone: return bytes;
    case Compression::kGzip: return Gunzip(bytes, what, max_size);
    case Compression::kBzip2: return Bunzip2(bytes, what, max_size);
    case Compression::kZip:
      return Unsupported(Prefix(what) +
                         "a zip archive, not an SBML file: unzip the model first (a COMBINE archive, .omex, is "
                         "imported with `soma repo import`)");
  }
  return bytes;
}

}  // namespace soma::formats
