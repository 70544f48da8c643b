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

// One step of a decoder: how much input it used, how much output it made,
// and where the stream stands.
struct Step {
  size_t consumed = 0;
  size_t produced = 0;
  enum State { kMore, kEnd, kTruncated, kCorrupt } state = kMore;
  std::string error;  // the library's words, for kCorrupt
};

// zlib's inflate with gzip framing (16 + MAX_WBITS: header and trailer, CRC-32
// and length checked).
class GzipDecoder {
 public:
  static constexpr std::string_view kName = "gzip";
  static constexpr Compression kFormat = Compression::kGzip;
  GzipDecoder() { ok_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK; }
  ~GzipDecoder() {
    if (ok_) inflateEnd(&z_);
  }
  GzipDecoder(const GzipDecoder&) = delete;
  GzipDecoder& operator=(const GzipDecoder&) = delete;
  bool ok() const { return ok_; }
  bool Restart() { return inflateReset(&z_) == Z_OK; }
  Step Run(const char* in, unsigned in_len, char* out, unsigned out_len) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in));
    z_.avail_in = in_len;
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = out_len;
    const int rc = inflate(&z_, Z_NO_FLUSH);
    Step s{in_len - z_.avail_in, out_len - z_.avail_out};
    if (rc == Z_STREAM_END) s.state = Step::kEnd;
    // Z_BUF_ERROR: no progress possible, i.e. the input ended inside the
    // stream (there is always fresh output space).
    else if (rc == Z_BUF_ERROR) s.state = Step::kTruncated;
    else if (rc != Z_OK) s = {s.consumed, s.produced, Step::kCorrupt, z_.msg != nullptr ? z_.msg : ""};
    return s;
  }

 private:
  z_stream z_{};
  bool ok_ = false;
};

class Bzip2Decoder {
 public:
  static constexpr std::string_view kName = "bzip2";
  static constexpr Compression kFormat = Compression::kBzip2;
  Bzip2Decoder() { ok_ = BZ2_bzDecompressInit(&b_, 0, 0) == BZ_OK; }
  ~Bzip2Decoder() {
    if (ok_) BZ2_bzDecompressEnd(&b_);
  }
  Bzip2Decoder(const Bzip2Decoder&) = delete;
  Bzip2Decoder& operator=(const Bzip2Decoder&) = delete;
  bool ok() const { return ok_; }
  bool Restart() {
    if (ok_) BZ2_bzDecompressEnd(&b_);
    b_ = bz_stream{};
    ok_ = BZ2_bzDecompressInit(&b_, 0, 0) == BZ_OK;
    return ok_;
  }
  Step Run(const char* in, unsigned in_len, char* out, unsigned out_len) {
    b_.next_in = const_cast<char*>(in);
    b_.avail_in = in_len;
    b_.next_out = out;
    b_.avail_out = out_len;
    const int rc = BZ2_bzDecompress(&b_);
    Step s{in_len - b_.avail_in, out_len - b_.avail_out};
    if (rc == BZ_STREAM_END) s.state = Step::kEnd;
    else if (rc != BZ_OK) s = {s.consumed, s.produced, Step::kCorrupt, "libbz2 error " + std::to_string(rc)};
    // No progress with all input used: the stream was cut short.
    else if (s.consumed == in_len && s.produced < out_len) s.state = Step::kTruncated;
    return s;
  }

 private:
  bz_stream b_{};
  bool ok_ = false;
};

// Decodes `in` in chunks, member after member (concatenated files), with the
// output bounded by `max_size`.
template <typename Decoder>
Result<std::string> Decode(const std::string& in, std::string_view what, size_t max_size) {
  const std::string name(Decoder::kName);
  Decoder decoder;
  if (!decoder.ok()) return Internal(name + ": initialising the decoder failed");
  std::string out;
  size_t pos = 0;  // consumed input
  while (true) {
    const auto avail = static_cast<unsigned>(std::min(in.size() - pos, static_cast<size_t>(UINT_MAX)));
    const size_t old = out.size();
    out.resize(old + kChunk);
    const Step step = decoder.Run(in.data() + pos, avail, out.data() + old, static_cast<unsigned>(kChunk));
    pos += step.consumed;
    out.resize(old + step.produced);
    if (out.size() > max_size) return TooLarge(what, max_size);
    switch (step.state) {
      case Step::kMore: continue;
      case Step::kEnd:
        // Another member may follow.
        if (pos < in.size() && CompressionOf(std::string_view(in).substr(pos)) == Decoder::kFormat) {
          if (!decoder.Restart()) return Internal(name + ": restarting the decoder failed");
          continue;
        }
        return out;
      case Step::kTruncated: return ParseError(Prefix(what) + name + " data is truncated");
      case Step::kCorrupt:
        return ParseError(Prefix(what) + name + " data is corrupt" + (step.error.empty() ? "" : " (" + step.error + ")"));
    }
  }
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
    case Compression::kGzip: return Decode<GzipDecoder>(bytes, what, max_size);
    case Compression::kBzip2: return Decode<Bzip2Decoder>(bytes, what, max_size);
    case Compression::kZip:
      return Unsupported(Prefix(what) +
                         "a zip archive, not a compressed file (COMBINE/OMEX model archives are read by "
                         "formats::LoadSbmlFile where an archive reader is set)");
  }
  return bytes;
}

}  // namespace soma::formats
