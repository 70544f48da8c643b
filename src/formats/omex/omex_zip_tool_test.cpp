// Archives made by other tools: the Info-ZIP `zip` command (when installed)
// and any .omex files in the shared data folder.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/omex/omex.h"

namespace soma::formats {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A handwritten archive in libCombine's style, zipped by Info-ZIP.
TEST(OmexZipToolTest, ReadsArchiveMadeByZipCommand) {
  if (std::system("command -v zip >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "the zip command is not installed (scripts/setup.sh)";
  fs::path dir = fs::temp_directory_path() / ("soma_omex_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  WriteFile(dir / "src/manifest.xml", R"(<?xml version="1.0" encoding="utf-8"?>
<omexManifest xmlns="http://identifiers.org/combine.specifications/omex-manifest">
  <content location="." format="http://identifiers.org/combine.specifications/omex"/>
  <content location="./manifest.xml" format="http://identifiers.org/combine.specifications/omex-manifest"/>
  <content location="./model/bergman.xml" format="http://identifiers.org/combine.specifications/sbml.level-3.version-2" master="true"/>
  <content location="./data/cgm.csv" format="http://purl.org/NET/mediatypes/text/csv"/>
  <content location="./metadata.rdf" format="http://identifiers.org/combine.specifications/omex-metadata"/>
</omexManifest>
)");
  WriteFile(dir / "src/model/bergman.xml", "<?xml version=\"1.0\"?>\n<sbml/>\n");
  WriteFile(dir / "src/data/cgm.csv", "time,glucose\n0,5.5\n5,5.7\n");
  WriteFile(dir / "src/metadata.rdf", R"(<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcterms="http://purl.org/dc/terms/"
         xmlns:vCard="http://www.w3.org/2006/vcard/ns#">
  <rdf:Description rdf:about=".">
    <dcterms:description>CGM data with the Bergman model</dcterms:description>
    <dcterms:creator>
      <rdf:Bag>
        <rdf:li rdf:parseType="Resource">
          <vCard:hasName rdf:parseType="Resource">
            <vCard:family-name>Bergmann</vCard:family-name>
            <vCard:given-name>Frank</vCard:given-name>
          </vCard:hasName>
          <vCard:hasEmail rdf:resource="mailto:fbergman@example.org"/>
          <vCard:organization-name>Example University</vCard:organization-name>
        </rdf:li>
      </rdf:Bag>
    </dcterms:creator>
    <dcterms:created rdf:parseType="Resource">
      <dcterms:W3CDTF>2014-05-07T13:45:33Z</dcterms:W3CDTF>
    </dcterms:created>
  </rdf:Description>
</rdf:RDF>
)");
  std::string command = "cd '" + (dir / "src").string() + "' && zip -q -r -X '" + (dir / "a.omex").string() +
                        "' manifest.xml model data metadata.rdf";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  Result<OmexArchive> r = ReadOmex(ReadFile(dir / "a.omex"));
  fs::remove_all(dir);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->entries.size(), 2u);
  EXPECT_EQ(r->entries[0],
            (OmexEntry{"./model/bergman.xml", SbmlFormat(3, 2), true, "<?xml version=\"1.0\"?>\n<sbml/>\n"}));
  EXPECT_EQ(r->entries[1].location, "./data/cgm.csv");
  EXPECT_EQ(r->entries[1].bytes, "time,glucose\n0,5.5\n5,5.7\n");
  EXPECT_EQ(r->metadata.description, "CGM data with the Bergman model");
  EXPECT_EQ(r->metadata.creators, (std::vector<std::pair<std::string, std::string>>{{"Frank Bergmann", ""}}));
  EXPECT_EQ(r->metadata.created, "2014-05-07T13:45:33Z");
}

// Archives from elsewhere, if the shared data folder holds any.
TEST(OmexZipToolTest, ReadsSharedArchives) {
  fs::path shared = SOMA_SHARED_DIR;
  std::error_code ec;
  int read = 0;
  if (fs::is_directory(shared, ec)) {
    for (auto it = fs::recursive_directory_iterator(shared, ec); it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (ec) break;
      if (it->path().extension() != ".omex") continue;
      Result<OmexArchive> r = ReadOmex(ReadFile(it->path()));
      EXPECT_TRUE(r.ok()) << it->path() << ": " << r.status().ToString();
      ++read;
    }
  }
  if (read == 0) GTEST_SKIP() << "no .omex files under " << shared;
}

}  // namespace
}  // namespace soma::formats
