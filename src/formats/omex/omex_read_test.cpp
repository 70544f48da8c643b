#include <gtest/gtest.h>

#include "formats/omex/omex.h"
#include "formats/omex/omex_test_util.h"

namespace soma::formats {
namespace {

using testing::kSbmlL3V2;
using testing::Manifest;
using testing::Zip;

void ExpectError(const Result<OmexArchive>& r, ErrorCode code, std::string_view text) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(text), std::string::npos)
      << "expected '" << text << "' in: " << r.status().ToString();
}

std::string ModelZip(std::string location) {
  return Zip({{"manifest.xml", Manifest({{location, std::string(kSbmlL3V2)}})}, {"model.xml", "<sbml/>"}});
}

TEST(OmexReadTest, NotAZip) {
  ExpectError(ReadOmex("hello, world"), ErrorCode::kParseError, "not a zip");
  ExpectError(ReadOmex(""), ErrorCode::kParseError, "zip");
}

TEST(OmexReadTest, MissingManifest) {
  ExpectError(ReadOmex(Zip({{"model.xml", "<sbml/>"}})), ErrorCode::kParseError, "no manifest.xml");
}

TEST(OmexReadTest, ListedEntryAbsent) {
  std::string zip =
      Zip({{"manifest.xml", Manifest({{"./model.xml", std::string(kSbmlL3V2)}, {"./data.csv", "urn:x"}})},
           {"model.xml", "<sbml/>"}});
  ExpectError(ReadOmex(zip), ErrorCode::kParseError, "'./data.csv': listed in the manifest but absent");
}

TEST(OmexReadTest, DuplicateLocation) {
  std::string zip = Zip({{"manifest.xml", Manifest({{"./model.xml", "urn:x"}, {"model.xml", "urn:y"}})},
                         {"model.xml", "<sbml/>"}});
  ExpectError(ReadOmex(zip), ErrorCode::kParseError, "listed more than once");
}

TEST(OmexReadTest, PathTraversalAndAbsolutePaths) {
  for (const char* location : {"../model.xml", "./a/../../model.xml", "..\\model.xml"}) {
    std::string zip = Zip({{"manifest.xml", Manifest({{location, "urn:x"}})}, {"../model.xml", "x"}});
    ExpectError(ReadOmex(zip), ErrorCode::kParseError, "path traversal");
  }
  ExpectError(ReadOmex(ModelZip("/model.xml")), ErrorCode::kParseError, "absolute path");
  ExpectError(ReadOmex(ModelZip("C:\\model.xml")), ErrorCode::kParseError, "absolute path");
}

TEST(OmexReadTest, ExternalLocationIsUnsupported) {
  ExpectError(ReadOmex(ModelZip("https://example.org/model.xml")), ErrorCode::kUnsupported,
              "external content");
}

TEST(OmexReadTest, TotalSizeLimit) {
  std::string big(1 << 20, '\0');  // deflates to about 1 KiB
  std::string zip = Zip({{"manifest.xml", Manifest({{"./big.bin", "urn:x"}})}, {"big.bin", big}});
  ASSERT_LT(zip.size(), 16u << 10);
  OmexReadOptions options;
  options.max_total_bytes = 64 << 10;
  ExpectError(ReadOmex(zip, options), ErrorCode::kResourceExhausted, "max_total_bytes");
  options.max_total_bytes = 2 << 20;
  Result<OmexArchive> ok = ReadOmex(zip, options);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->entries.at(0).bytes, big);
}

TEST(OmexReadTest, LimitCountsEveryFileRead) {
  // Each file is under the limit; together they are over it.
  std::string part(40 << 10, 'a');
  std::string zip =
      Zip({{"manifest.xml", Manifest({{"./a", "urn:x"}, {"./b", "urn:x"}})}, {"a", part}, {"b", part}});
  OmexReadOptions options;
  options.max_total_bytes = 64 << 10;
  ExpectError(ReadOmex(zip, options), ErrorCode::kResourceExhausted, "max_total_bytes: b: ");
}

TEST(OmexReadTest, EntryCountLimit) {
  std::vector<std::pair<std::string, std::string>> files = {{"manifest.xml", Manifest({})}};
  for (int i = 0; i < 20; ++i) files.emplace_back("f" + std::to_string(i), "x");
  OmexReadOptions options;
  options.max_entries = 10;
  ExpectError(ReadOmex(Zip(files), options), ErrorCode::kResourceExhausted, "21 entries");
}

TEST(OmexReadTest, OptionsAreValidated) {
  OmexReadOptions options;
  options.max_entries = 0;
  ExpectError(ReadOmex(ModelZip("./model.xml"), options), ErrorCode::kInvalidArgument,
              "OmexReadOptions::max_entries = 0");
}

TEST(OmexReadTest, MalformedManifestNamesLine) {
  std::string manifest =
      "<?xml version=\"1.0\"?>\n<omexManifest "
      "xmlns=\"http://identifiers.org/combine.specifications/omex-manifest\">\n"
      "  <content location=\"./a\" format=\"x\">\n</omexManifest>\n";
  ExpectError(ReadOmex(Zip({{"manifest.xml", manifest}})), ErrorCode::kParseError,
              "manifest.xml: not well-formed XML: line 4");
}

TEST(OmexReadTest, ManifestWithWrongNamespace) {
  std::string manifest =
      "<omexManifest xmlns=\"urn:wrong\"><content location=\".\" format=\"x\"/></omexManifest>";
  ExpectError(ReadOmex(Zip({{"manifest.xml", manifest}})), ErrorCode::kParseError, "expected <omexManifest>");
}

TEST(OmexReadTest, ContentWithoutFormat) {
  std::string manifest =
      "<omexManifest xmlns=\"http://identifiers.org/combine.specifications/omex-manifest\">\n"
      "<content location=\"./a\"/></omexManifest>";
  ExpectError(ReadOmex(Zip({{"manifest.xml", manifest}, {"a", ""}})), ErrorCode::kParseError,
              "line 2: <content location=\"./a\"> without format");
}

TEST(OmexReadTest, MalformedMetadataNamesFileAndLine) {
  std::string zip =
      Zip({{"manifest.xml", Manifest({{"./metadata.rdf", std::string(kOmexMetadataFormat)}})},
           {"metadata.rdf",
            "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\n<oops>\n</rdf:RDF>"}});
  ExpectError(ReadOmex(zip), ErrorCode::kParseError, "metadata.rdf: not well-formed XML: line 4");
}

TEST(OmexReadTest, CorruptDataIsParseError) {
  std::string content(4096, 'x');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + (i * 7919) % 26);
  std::string zip = Zip({{"manifest.xml", Manifest({{"./a.txt", "urn:x"}})}, {"a.txt", content}});
  // Flip bytes inside a.txt's compressed data (after its local header and name).
  size_t header = zip.find(std::string("PK\x03\x04", 4), 4);
  ASSERT_NE(header, std::string::npos);
  for (size_t i = header + 60; i < header + 80; ++i) zip[i] = static_cast<char>(zip[i] ^ 0x5a);
  Result<OmexArchive> r = ReadOmex(zip);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kParseError) << r.status().ToString();
}

TEST(OmexReadTest, UnlistedFilesAreIgnoredAndMasterIsRead) {
  std::string manifest = R"(<omexManifest xmlns="http://identifiers.org/combine.specifications/omex-manifest">
  <content location="." format="http://identifiers.org/combine.specifications/omex"/>
  <content location="./manifest.xml" format="http://identifiers.org/combine.specifications/omex-manifest"/>
  <content location="./model.xml" format="http://identifiers.org/combine.specifications/sbml" master="true"/>
</omexManifest>)";
  Result<OmexArchive> r =
      ReadOmex(Zip({{"manifest.xml", manifest}, {"model.xml", "<sbml/>"}, {"stray.txt", "?"}, {"dir/", ""}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_EQ(r->entries[0], (OmexEntry{"./model.xml", std::string(kSbmlFormat), true, "<sbml/>"}));
}

// The OMEX Metadata 1.2 style (dc: elements, creators as ORCID resources
// described by separate nodes) and libCombine's vCard 3 style.
TEST(OmexReadTest, MetadataSpellingsOfOtherTools) {
  std::string rdf = R"(<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"
         xmlns:foaf="http://xmlns.com/foaf/0.1/" xmlns:bqmodel="http://biomodels.net/model-qualifiers/"
         xmlns:vCard="http://www.w3.org/2001/vcard-rdf/3.0#" xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/">
  <rdf:Description rdf:about="http://omex-library.org/BioSim0001.omex">
    <dc:title>Example archive</dc:title>
    <dc:description>Short</dc:description>
    <dc:creator rdf:resource="https://orcid.org/0000-0002-1825-0097"/>
    <dc:creator>
      <rdf:Bag><rdf:li rdf:parseType="Resource">
        <vCard:N rdf:parseType="Resource"><vCard:Family>Smith</vCard:Family><vCard:Given>Jane</vCard:Given></vCard:N>
      </rdf:li></rdf:Bag>
    </dc:creator>
    <dcterms:license rdf:resource="https://spdx.org/licenses/CC0-1.0.html"/>
    <prism:keyword>insulin</prism:keyword>
    <bqmodel:isDescribedBy><rdf:Bag><rdf:li rdf:resource="http://identifiers.org/pubmed/443421"/></rdf:Bag></bqmodel:isDescribedBy>
    <dcterms:references rdf:resource="urn:miriam:doi:10.1000%2F182"/>
    <dcterms:created rdf:parseType="Resource"><dcterms:W3CDTF>2014-01-01T00:00:00Z</dcterms:W3CDTF></dcterms:created>
    <dcterms:modified rdf:parseType="Resource"><dcterms:W3CDTF>2015-01-01T00:00:00Z</dcterms:W3CDTF></dcterms:modified>
    <dcterms:modified rdf:parseType="Resource"><dcterms:W3CDTF>2016-01-01T00:00:00Z</dcterms:W3CDTF></dcterms:modified>
  </rdf:Description>
  <rdf:Description rdf:about="https://orcid.org/0000-0002-1825-0097">
    <foaf:name>Josiah Carberry</foaf:name>
  </rdf:Description>
  <rdf:Description rdf:about="http://omex-library.org/BioSim0001.omex/model.xml">
    <dc:title>Not the archive's title</dc:title>
  </rdf:Description>
</rdf:RDF>)";
  std::string zip = Zip({{"manifest.xml", Manifest({{"./metadata.rdf", std::string(kOmexMetadataFormat)}})},
                         {"metadata.rdf", rdf}});
  Result<OmexArchive> r = ReadOmex(zip);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const OmexMetadata& m = r->metadata;
  EXPECT_EQ(m.title, "Example archive");
  EXPECT_EQ(m.description, "Short");
  using Creators = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(m.creators, (Creators{{"Josiah Carberry", "0000-0002-1825-0097"}, {"Jane Smith", ""}}));
  EXPECT_EQ(m.license, "CC0-1.0");
  EXPECT_EQ(m.keywords, std::vector<std::string>{"insulin"});
  EXPECT_EQ(m.references, (std::vector<std::string>{"pubmed:443421", "doi:10.1000/182"}));
  EXPECT_EQ(m.created, "2014-01-01T00:00:00Z");
  EXPECT_EQ(m.modified, "2016-01-01T00:00:00Z");
  EXPECT_TRUE(r->entries.empty());
}

TEST(OmexReadTest, UnlistedMetadataRdfIsStillRead) {
  std::string rdf =
      R"(<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcterms="http://purl.org/dc/terms/">
  <rdf:Description rdf:about="."><dcterms:description>found</dcterms:description></rdf:Description></rdf:RDF>)";
  Result<OmexArchive> r = ReadOmex(Zip({{"manifest.xml", Manifest({})}, {"metadata.rdf", rdf}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->metadata.description, "found");
}

}  // namespace
}  // namespace soma::formats
