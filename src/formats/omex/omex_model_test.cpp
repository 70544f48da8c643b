// The model of an archive: which SBML file is it, and its files on disk.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/omex/omex.h"

namespace soma::formats {
namespace {

namespace fs = std::filesystem;

OmexEntry Entry(std::string location, std::string format, bool master = false, std::string bytes = "x") {
  return OmexEntry{std::move(location), std::move(format), master, std::move(bytes)};
}

const std::string kSedml = "http://identifiers.org/combine.specifications/sed-ml";

TEST(OmexModelTest, MasterSbmlOrTheOnlyOneIsTheModel) {
  OmexArchive a;
  a.entries = {Entry("./sim.sedml", kSedml, true), Entry("./model.xml", SbmlFormat(3, 1))};
  auto only = MainSbmlEntry(a);
  ASSERT_TRUE(only.ok()) << only.status().ToString();
  EXPECT_EQ((*only)->location, "./model.xml");

  a.entries.push_back(Entry("./sub/other.xml", std::string(kSbmlFormat), true));
  auto master = MainSbmlEntry(a);
  ASSERT_TRUE(master.ok()) << master.status().ToString();
  EXPECT_EQ((*master)->location, "./sub/other.xml");

  a.entries[2].master = false;
  auto several = MainSbmlEntry(a);
  ASSERT_FALSE(several.ok());
  EXPECT_EQ(several.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(several.status().message().find("./model.xml, ./sub/other.xml"), std::string::npos)
      << several.status().ToString();

  a.entries[1].master = a.entries[2].master = true;
  EXPECT_EQ(MainSbmlEntry(a).status().code(), ErrorCode::kUnsupported);

  OmexArchive none;
  none.entries = {Entry("./sim.sedml", kSedml, true)};
  EXPECT_EQ(MainSbmlEntry(none).status().code(), ErrorCode::kInvalidArgument);
}

TEST(OmexModelTest, ExtractWritesEveryFileAndNamesTheModel) {
  OmexArchive a;
  a.entries = {Entry("./model.xml", std::string(kSbmlFormat), true, "<sbml/>\n"),
               Entry("./parts/sub.xml", std::string(kSbmlFormat), false, "<sbml id='sub'/>\n"),
               Entry("./data/obs.csv", "http://purl.org/NET/mediatypes/text/csv", false, "t,x\n0,1\n")};
  auto zip = WriteOmex(a);
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  std::string pattern = (fs::temp_directory_path() / "soma-omex-model-test-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const fs::path dir = pattern;
  auto main = ExtractModelArchive(*zip, dir);
  ASSERT_TRUE(main.ok()) << main.status().ToString();
  EXPECT_EQ(*main, dir / "model.xml");
  for (const OmexEntry& e : a.entries) {
    std::ifstream in(dir / e.location.substr(2), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    EXPECT_EQ(bytes.str(), e.bytes) << e.location;
  }
  // Not an archive, or no model in it: errors, nothing returned.
  EXPECT_FALSE(ExtractModelArchive("not a zip", dir).ok());
  OmexArchive data_only;
  data_only.entries = {a.entries[2]};
  auto no_model = ExtractModelArchive(*WriteOmex(data_only), dir);
  EXPECT_EQ(no_model.status().code(), ErrorCode::kInvalidArgument) << no_model.status().ToString();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace soma::formats
