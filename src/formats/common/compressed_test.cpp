#include "formats/common/compressed.h"

#include <bzlib.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

namespace soma::formats {
namespace {

// gzip with zlib's deflate (header and CRC written by zlib itself, as the
// gzip tool writes them).
std::string Gzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Bzip2(const std::string& data) {
  std::string out(data.size() + data.size() / 100 + 700, '\0');
  unsigned size = static_cast<unsigned>(out.size());
  EXPECT_EQ(BZ2_bzBuffToBuffCompress(out.data(), &size, const_cast<char*>(data.data()),
                                     static_cast<unsigned>(data.size()), 9, 0, 0),
            BZ_OK);
  out.resize(size);
  return out;
}

// Half a megabyte of XML-like text with some randomness, so that it spans
// several output chunks and does not compress to nothing.
std::string Text() {
  std::mt19937 rng(7);
  std::string s = "<?xml version=\"1.0\"?>\n<sbml>\n";
  while (s.size() < 500000) s += "  <species id=\"S" + std::to_string(rng() % 100000) + "\"/>\n";
  return s + "</sbml>\n";
}

TEST(CompressedTest, MagicBytesNameTheFormat) {
  EXPECT_EQ(CompressionOf("<?xml"), Compression::kNone);
  EXPECT_EQ(CompressionOf(""), Compression::kNone);
  EXPECT_EQ(CompressionOf("\x1f"), Compression::kNone);
  EXPECT_EQ(CompressionOf(Gzip("x")), Compression::kGzip);
  EXPECT_EQ(CompressionOf(Bzip2("x")), Compression::kBzip2);
  EXPECT_EQ(CompressionOf(std::string("PK\x03\x04rest", 8)), Compression::kZip);
}

TEST(CompressedTest, PlainBytesAreReturnedUnchanged) {
  const std::string text = Text();
  auto out = DecompressIfCompressed(text, "m.xml");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, text);
}

TEST(CompressedTest, GzipAndBzip2RoundTrip) {
  const std::string text = Text();
  for (const std::string& packed : {Gzip(text), Bzip2(text)}) {
    ASSERT_LT(packed.size(), text.size());
    auto out = DecompressIfCompressed(packed, "m.xml.gz");
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, text);
  }
  // Concatenated members (cat a.gz b.gz; the same for bzip2) read as one file.
  auto gz = DecompressIfCompressed(Gzip("<a/>\n") + Gzip("<b/>\n"), "ab.gz");
  ASSERT_TRUE(gz.ok()) << gz.status().ToString();
  EXPECT_EQ(*gz, "<a/>\n<b/>\n");
  auto bz = DecompressIfCompressed(Bzip2("<a/>\n") + Bzip2("<b/>\n"), "ab.bz2");
  ASSERT_TRUE(bz.ok()) << bz.status().ToString();
  EXPECT_EQ(*bz, "<a/>\n<b/>\n");
}

TEST(CompressedTest, TruncatedAndCorruptDataAreErrorsNamingTheFile) {
  const std::string text = Text();
  for (const std::string& packed : {Gzip(text), Bzip2(text)}) {
    const bool gzip = CompressionOf(packed) == Compression::kGzip;
    const std::string format = gzip ? "gzip" : "bzip2";
    for (size_t cut : {size_t{3}, packed.size() / 2, packed.size() - 1}) {
      auto out = DecompressIfCompressed(packed.substr(0, cut), "m.xml.gz");
      ASSERT_FALSE(out.ok()) << format << " cut at " << cut;
      EXPECT_EQ(out.status().code(), ErrorCode::kParseError);
      EXPECT_NE(out.status().message().find("m.xml.gz: " + format + " data is"), std::string::npos)
          << out.status().ToString();
    }
    std::string bad = packed;
    for (size_t i = packed.size() / 3; i < packed.size() / 3 + 64; ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    auto out = DecompressIfCompressed(bad, "m.xml.gz");
    ASSERT_FALSE(out.ok()) << format;
    EXPECT_EQ(out.status().code(), ErrorCode::kParseError) << out.status().ToString();
    EXPECT_NE(out.status().message().find(format + " data is"), std::string::npos) << out.status().ToString();
  }
}

TEST(CompressedTest, OutputBeyondTheLimitIsRefused) {
  // 4 MB of zeros compress to a few kB: a small "bomb" against a 1 MB limit.
  const std::string zeros(size_t{4} << 20, '\0');
  for (const std::string& packed : {Gzip(zeros), Bzip2(zeros)}) {
    auto out = DecompressIfCompressed(packed, "bomb.gz", size_t{1} << 20);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), ErrorCode::kResourceExhausted);
    EXPECT_NE(out.status().message().find("more than 1048576 bytes"), std::string::npos) << out.status().ToString();
    EXPECT_TRUE(DecompressIfCompressed(packed, "ok.gz", size_t{8} << 20).ok());
  }
}

TEST(CompressedTest, ZipArchivesAreUnsupportedWithAHint) {
  auto out = DecompressIfCompressed(std::string("PK\x03\x04....", 8), "model.zip");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(out.status().message().find("model.zip: a zip archive"), std::string::npos);
}

}  // namespace
}  // namespace soma::formats
