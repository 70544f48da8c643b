#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <set>

#include "formats/omex/omex.h"
#include "formats/omex/omex_test_util.h"

namespace soma::formats {
namespace {

using testing::kSbmlL3V2;

OmexArchive Example() {
  OmexArchive a;
  a.entries = {
      {"./model.xml", std::string(kSbmlL3V2), true, "<sbml/>"},
      {"./data/obs.csv", FormatForPath("obs.csv"), false, "t,glucose\n0,5.1\n"},
      {"./figures/plot.png", FormatForPath("plot.png"), false, std::string("\x89PNG\0\x01\xff", 7)},
  };
  a.metadata.title = "Glucose & insulin <minimal>";
  a.metadata.description = "Bergman minimal model.\nTwo lines, \"quoted\", tab\there.";
  a.metadata.license = "CC-BY-4.0";
  a.metadata.creators = {
      {"Richard N. Bergman", "0000-0002-1825-0097"}, {"Zoë Doe", ""}, {"", "0000-0001-5109-3700"}};
  a.metadata.keywords = {"diabetes", "glucose"};
  a.metadata.references = {"doi:10.1152/ajpendo.1979.236.6.E667", "pubmed:443421",
                           "https://example.org/report"};
  a.metadata.created = "2024-05-01T12:00:00Z";
  a.metadata.modified = "2024-05-02T08:30:00Z";
  return a;
}

TEST(OmexWriteTest, RoundTrip) {
  OmexArchive in = Example();
  Result<std::string> zip = WriteOmex(in);
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  Result<OmexArchive> out = ReadOmex(*zip);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->entries, in.entries);
  EXPECT_EQ(out->metadata, in.metadata);
}

TEST(OmexWriteTest, LicenceSpellingsRoundTrip) {
  for (const char* license :
       {"CC-BY-4.0", "GPL-3.0-or-later", "https://example.org/licence", "All rights reserved"}) {
    OmexArchive in;
    in.metadata.license = license;
    Result<std::string> zip = WriteOmex(in);
    ASSERT_TRUE(zip.ok()) << zip.status().ToString();
    Result<OmexArchive> out = ReadOmex(*zip);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->metadata.license, license);
  }
}

TEST(OmexWriteTest, EmptyArchiveRoundTrips) {
  Result<std::string> zip = WriteOmex({});
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  Result<OmexArchive> out = ReadOmex(*zip);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, OmexArchive{});
}

TEST(OmexWriteTest, LocationsWithoutDotSlashAreNormalised) {
  OmexArchive in;
  in.entries = {{"model.xml", std::string(kSbmlFormat), true, "x"}};
  Result<std::string> zip = WriteOmex(in);
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  Result<OmexArchive> out = ReadOmex(*zip);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->entries.size(), 1u);
  EXPECT_EQ(out->entries[0].location, "./model.xml");
}

TEST(OmexWriteTest, OutputIsDeterministicWithFixedTimestamps) {
  Result<std::string> a = WriteOmex(Example());
  Result<std::string> b = WriteOmex(Example());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  // Every local file header carries DOS time 0 and date 1980-01-01 (0x0021).
  int headers = 0;
  for (size_t pos = a->find("PK\x03\x04"); pos != std::string::npos; pos = a->find("PK\x03\x04", pos + 4)) {
    ASSERT_LE(pos + 14, a->size());
    EXPECT_EQ(a->substr(pos + 10, 4), std::string("\x00\x00\x21\x00", 4)) << "header at " << pos;
    ++headers;
  }
  EXPECT_GE(headers, 5);  // manifest, three entries, metadata (a payload could add false hits)
}

// Parses XML with libxml2 directly, independent of the reader under test.
struct Doc {
  explicit Doc(const std::string& text)
      : doc(xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr, XML_PARSE_NONET)) {}
  ~Doc() { xmlFreeDoc(doc); }
  xmlDoc* doc;
};

std::string Ns(const xmlNode* n) { return n->ns ? reinterpret_cast<const char*>(n->ns->href) : ""; }
std::string Name(const xmlNode* n) { return reinterpret_cast<const char*>(n->name); }
std::string Attr(xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  std::string s = v ? reinterpret_cast<const char*>(v) : "";
  xmlFree(v);
  return s;
}

TEST(OmexWriteTest, ManifestAndMetadataAreStructurallyValid) {
  Result<std::string> zip = WriteOmex(Example());
  ASSERT_TRUE(zip.ok());
  Result<internal::ZipReader> reader = internal::ZipReader::Open(*zip, 100);
  ASSERT_TRUE(reader.ok());
  auto read = [&](const char* name) {
    std::optional<std::uint64_t> index = reader->Find(name);
    EXPECT_TRUE(index.has_value()) << name;
    Result<std::string> bytes = reader->Read(index.value_or(0), name, 1 << 20);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    return bytes.ok() ? *bytes : std::string();
  };

  Doc manifest(read("manifest.xml"));
  ASSERT_NE(manifest.doc, nullptr);
  xmlNode* root = xmlDocGetRootElement(manifest.doc);
  EXPECT_EQ(Name(root), "omexManifest");
  EXPECT_EQ(Ns(root), "http://identifiers.org/combine.specifications/omex-manifest");
  std::vector<std::pair<std::string, std::string>> contents;
  for (xmlNode* c = root->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    EXPECT_EQ(Name(c), "content");
    EXPECT_EQ(Ns(c), Ns(root));
    contents.emplace_back(Attr(c, "location"), Attr(c, "format"));
  }
  std::vector<std::pair<std::string, std::string>> expected = {
      {".", std::string(kOmexFormat)},
      {"./manifest.xml", std::string(kOmexManifestFormat)},
      {"./model.xml", std::string(kSbmlL3V2)},
      {"./data/obs.csv", "http://purl.org/NET/mediatypes/text/csv"},
      {"./figures/plot.png", "http://purl.org/NET/mediatypes/image/png"},
      {"./metadata.rdf", std::string(kOmexMetadataFormat)}};
  EXPECT_EQ(contents, expected);

  Doc rdf(read("metadata.rdf"));
  ASSERT_NE(rdf.doc, nullptr);
  xmlNode* rdf_root = xmlDocGetRootElement(rdf.doc);
  EXPECT_EQ(Name(rdf_root), "RDF");
  EXPECT_EQ(Ns(rdf_root), "http://www.w3.org/1999/02/22-rdf-syntax-ns#");
  xmlNode* description = rdf_root->children;
  while (description && description->type != XML_ELEMENT_NODE) description = description->next;
  ASSERT_NE(description, nullptr);
  EXPECT_EQ(Name(description), "Description");
  std::set<std::string> namespaces;
  for (xmlNode* p = description->children; p; p = p->next) {
    if (p->type == XML_ELEMENT_NODE) namespaces.insert(Ns(p));
  }
  EXPECT_EQ(namespaces,
            (std::set<std::string>{"http://purl.org/dc/terms/", "http://biomodels.net/model-qualifiers/"}));
}

TEST(OmexWriteTest, RejectsBadEntries) {
  auto write_one = [](std::string location, std::string format = "urn:x") {
    OmexArchive a;
    a.entries = {{std::move(location), std::move(format), false, "x"}};
    return WriteOmex(a).status();
  };
  for (const char* bad : {"", "../evil.xml", "./a/../../b", "/etc/passwd", "C:/x", "a\\..\\b", ".",
                          "./manifest.xml", "metadata.rdf", "a//b", "bad\x01name"}) {
    Status s = write_one(bad);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << "'" << bad << "': " << s.ToString();
  }
  EXPECT_EQ(write_one("a.xml", "").code(), ErrorCode::kInvalidArgument);

  OmexArchive dup;
  dup.entries = {{"./a.xml", "urn:x", false, ""}, {"a.xml", "urn:x", false, ""}};
  Status s = WriteOmex(dup).status();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("more than once"), std::string::npos) << s.ToString();

  OmexArchive bad_text;
  bad_text.metadata.title = "\xC3\x28";  // invalid UTF-8
  s = WriteOmex(bad_text).status();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("OmexMetadata::title"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace soma::formats
