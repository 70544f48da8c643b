#include "formats/common/identifiers.h"

#include <gtest/gtest.h>

namespace soma::formats {
namespace {

TEST(IdentifiersTest, PubmedSpellings) {
  for (const char* uri :
       {"http://identifiers.org/pubmed/12345", "https://identifiers.org/pubmed:12345",
        "urn:miriam:pubmed:12345", "pubmed:12345", "PMID:12345", "https://pubmed.ncbi.nlm.nih.gov/12345/",
        "http://www.ncbi.nlm.nih.gov/pubmed/12345"}) {
    EXPECT_EQ(ReferenceFromUri(uri), std::optional<std::string>("pubmed:12345")) << uri;
  }
}

TEST(IdentifiersTest, DoiSpellings) {
  for (const char* uri :
       {"http://identifiers.org/doi/10.1016/j.bpj.2010.01.1",
        "https://identifiers.org/doi:10.1016/j.bpj.2010.01.1", "urn:miriam:doi:10.1016%2Fj.bpj.2010.01.1",
        "doi:10.1016/j.bpj.2010.01.1", "https://doi.org/10.1016/j.bpj.2010.01.1",
        "http://dx.doi.org/10.1016/j.bpj.2010.01.1"}) {
    EXPECT_EQ(ReferenceFromUri(uri), std::optional<std::string>("doi:10.1016/j.bpj.2010.01.1")) << uri;
  }
}

TEST(IdentifiersTest, OtherUrisAreNotReferences) {
  for (const char* uri : {"http://identifiers.org/uniprot/P12345", "http://identifiers.org/pubmed/12a",
                          "doi:11.1/x", "", "pubmed:", "https://example.org/paper.pdf"}) {
    EXPECT_EQ(ReferenceFromUri(uri), std::nullopt) << uri;
  }
}

TEST(IdentifiersTest, ReferenceToUri) {
  EXPECT_EQ(ReferenceToUri("doi:10.1/x"), "https://identifiers.org/doi:10.1/x");
  EXPECT_EQ(ReferenceToUri("pubmed:1"), "https://identifiers.org/pubmed:1");
  EXPECT_EQ(ReferenceToUri("https://example.org/a"), "https://example.org/a");
  EXPECT_EQ(ReferenceFromUri(ReferenceToUri("doi:10.1/x")), std::optional<std::string>("doi:10.1/x"));
}

TEST(IdentifiersTest, Orcid) {
  for (const char* uri :
       {"https://orcid.org/0000-0002-1825-0097", "http://identifiers.org/orcid/0000-0002-1825-0097",
        "https://identifiers.org/orcid:0000-0002-1825-0097", "orcid:0000-0002-1825-0097",
        "0000-0002-1825-0097"}) {
    EXPECT_EQ(OrcidFromUri(uri), std::optional<std::string>("0000-0002-1825-0097")) << uri;
  }
  EXPECT_EQ(OrcidFromUri("https://orcid.org/0000-0002-1694-233x"),
            std::optional<std::string>("0000-0002-1694-233X"));
  EXPECT_EQ(OrcidFromUri("https://orcid.org/0000-0002-1694"), std::nullopt);
  EXPECT_EQ(OrcidFromUri("mailto:a@b.org"), std::nullopt);
  EXPECT_EQ(OrcidToUri("0000-0002-1825-0097"), "https://orcid.org/0000-0002-1825-0097");
}

}  // namespace
}  // namespace soma::formats
