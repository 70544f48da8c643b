#include <gtest/gtest.h>

#include "formats/omex/omex.h"

namespace soma::formats {
namespace {

TEST(OmexFormatsTest, FormatForPath) {
  EXPECT_EQ(FormatForPath("model.xml"), kSbmlFormat);
  EXPECT_EQ(FormatForPath("./models/Glucose.SBML"), kSbmlFormat);
  EXPECT_EQ(FormatForPath("sim.sedml"), "http://identifiers.org/combine.specifications/sed-ml");
  EXPECT_EQ(FormatForPath("heart.cellml"), "http://identifiers.org/combine.specifications/cellml");
  EXPECT_EQ(FormatForPath("data/obs.csv"), "http://purl.org/NET/mediatypes/text/csv");
  EXPECT_EQ(FormatForPath("obs.tsv"), "http://purl.org/NET/mediatypes/text/tab-separated-values");
  EXPECT_EQ(FormatForPath("p.json"), "http://purl.org/NET/mediatypes/application/json");
  EXPECT_EQ(FormatForPath("README.md"), "http://purl.org/NET/mediatypes/text/markdown");
  EXPECT_EQ(FormatForPath("paper.pdf"), "http://purl.org/NET/mediatypes/application/pdf");
  EXPECT_EQ(FormatForPath("fig.PNG"), "http://purl.org/NET/mediatypes/image/png");
  EXPECT_EQ(FormatForPath("metadata.rdf"), kOmexMetadataFormat);
  EXPECT_EQ(FormatForPath("inner.omex"), kOmexFormat);
  EXPECT_EQ(FormatForPath("noext"), "http://purl.org/NET/mediatypes/application/octet-stream");
  EXPECT_EQ(FormatForPath("dir.d/file"), "http://purl.org/NET/mediatypes/application/octet-stream");
}

TEST(OmexFormatsTest, MediaTypesBothWays) {
  EXPECT_EQ(FormatForMediaType("application/sbml+xml"), kSbmlFormat);
  EXPECT_EQ(FormatForMediaType("Application/SBML+XML; charset=utf-8"), kSbmlFormat);
  EXPECT_EQ(FormatForMediaType("application/sed-ml+xml"),
            "http://identifiers.org/combine.specifications/sed-ml");
  EXPECT_EQ(FormatForMediaType("text/csv"), "http://purl.org/NET/mediatypes/text/csv");
  EXPECT_EQ(FormatForMediaType("application/x-foo"), "http://purl.org/NET/mediatypes/application/x-foo");

  EXPECT_EQ(MediaTypeForFormat(kSbmlFormat), "application/sbml+xml");
  EXPECT_EQ(MediaTypeForFormat(SbmlFormat(3, 2)), "application/sbml+xml");
  EXPECT_EQ(MediaTypeForFormat("https://identifiers.org/combine.specifications/sed-ml.level-1.version-3"),
            "application/sedml+xml");
  EXPECT_EQ(MediaTypeForFormat("http://purl.org/NET/mediatypes/text/csv"), "text/csv");
  EXPECT_EQ(MediaTypeForFormat(kOmexMetadataFormat), "application/rdf+xml");
  EXPECT_EQ(MediaTypeForFormat(kOmexManifestFormat), "application/xml");
  EXPECT_EQ(MediaTypeForFormat("urn:unknown"), "application/octet-stream");
  for (const char* path : {"a.xml", "a.csv", "a.pdf", "a.cellml", "a.sedml", "a.md", "a.omex"}) {
    std::string format = FormatForPath(path);
    EXPECT_EQ(FormatForMediaType(MediaTypeForFormat(format)), format) << path;
  }
}

TEST(OmexFormatsTest, SbmlFormat) {
  EXPECT_EQ(SbmlFormat(3, 2), "http://identifiers.org/combine.specifications/sbml.level-3.version-2");
}

}  // namespace
}  // namespace soma::formats
