#include "formats/sbml/sbml_metadata.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/sbml/sbml_test_util.h"

namespace soma::formats {
namespace {

using testing::L3V2;

constexpr std::string_view kRdfNs =
    R"(xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcterms="http://purl.org/dc/terms/" )"
    R"(xmlns:vCard="http://www.w3.org/2001/vcard-rdf/3.0#" xmlns:vCard4="http://www.w3.org/2006/vcard/ns#" )"
    R"(xmlns:bqbiol="http://biomodels.net/biology-qualifiers/" xmlns:bqmodel="http://biomodels.net/model-qualifiers/")";

std::string Annotated() {
  return std::string(R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
<model id="glucose" name="Glucose   minimal
 model" metaid="meta_model">
<notes><body xmlns="http://www.w3.org/1999/xhtml"><h1>Bergman</h1><p>Glucose &amp; insulin,
   <b>minimal</b>  model.</p><p>Second&#160;paragraph.</p></body></notes>
<annotation>
<rdf:RDF )") +
         std::string(kRdfNs) + R"(>
<rdf:Description rdf:about="#meta_model">
<dcterms:creator><rdf:Bag>
<rdf:li rdf:parseType="Resource">
<vCard:N rdf:parseType="Resource"><vCard:Family>Smith</vCard:Family><vCard:Given>Jane</vCard:Given></vCard:N>
<vCard:EMAIL>jane@example.org</vCard:EMAIL>
<dcterms:identifier rdf:resource="http://identifiers.org/orcid/0000-0002-1825-0097"/>
</rdf:li>
<rdf:li rdf:parseType="Resource">
<vCard4:hasName rdf:parseType="Resource"><vCard4:family-name>Doe</vCard4:family-name><vCard4:given-name>John</vCard4:given-name></vCard4:hasName>
</rdf:li>
</rdf:Bag></dcterms:creator>
<dcterms:created rdf:parseType="Resource"><dcterms:W3CDTF>2020-01-01T00:00:00Z</dcterms:W3CDTF></dcterms:created>
<dcterms:modified rdf:parseType="Resource"><dcterms:W3CDTF>2020-01-02T00:00:00Z</dcterms:W3CDTF></dcterms:modified>
<bqmodel:is><rdf:Bag><rdf:li rdf:resource="http://identifiers.org/biomodels.db/BIOMD0000000001"/></rdf:Bag></bqmodel:is>
<bqmodel:isDescribedBy><rdf:Bag>
<rdf:li rdf:resource="http://identifiers.org/pubmed/443421"/>
<rdf:li rdf:resource="https://identifiers.org/doi:10.1152/ajpendo.1979.236.6.E667"/>
<rdf:li rdf:resource="http://identifiers.org/pubmed/443421"/>
</rdf:Bag></bqmodel:isDescribedBy>
<bqbiol:hasTaxon><rdf:Bag><rdf:li rdf:resource="http://identifiers.org/taxonomy/9606"/></rdf:Bag></bqbiol:hasTaxon>
</rdf:Description></rdf:RDF>
</annotation>
<listOfCompartments>
<compartment id="plasma" name="blood plasma" size="1" constant="true" metaid="meta_c">
<annotation><rdf:RDF )" +
         std::string(kRdfNs) + R"(><rdf:Description rdf:about="#meta_c">
<bqbiol:is><rdf:Bag><rdf:li rdf:resource="http://identifiers.org/GO:0005576"/></rdf:Bag></bqbiol:is>
</rdf:Description></rdf:RDF></annotation>
</compartment>
</listOfCompartments>
<listOfSpecies>
<species id="G" name="glucose" compartment="plasma" initialConcentration="5" hasOnlySubstanceUnits="false"
         boundaryCondition="false" constant="false" metaid="meta_g">
<annotation><rdf:RDF )" +
         std::string(kRdfNs) + R"(><rdf:Description rdf:about="#meta_g">
<bqbiol:is><rdf:Bag><rdf:li rdf:resource="http://identifiers.org/CHEBI:17234"/>
<rdf:li rdf:resource="http://identifiers.org/taxonomy/9606"/></rdf:Bag></bqbiol:is>
</rdf:Description></rdf:RDF></annotation>
</species>
<species id="I" compartment="plasma" initialConcentration="0.1" hasOnlySubstanceUnits="false"
         boundaryCondition="false" constant="false"/>
</listOfSpecies>
<listOfParameters>
<parameter id="p1" name="glucose effectiveness" value="0.03" constant="true"/>
</listOfParameters>
<listOfReactions>
<reaction id="uptake" reversible="false">
<listOfReactants><speciesReference species="G" stoichiometry="1" constant="true"/></listOfReactants>
</reaction>
</listOfReactions>
<listOfEvents>
<event id="meal" useValuesFromTriggerTime="true"><trigger initialValue="false" persistent="true">
<math xmlns="http://www.w3.org/1998/Math/MathML"><apply><gt/><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol><cn>10</cn></apply></math>
</trigger></event>
</listOfEvents>
</model>
</sbml>
)";
}

TEST(SbmlMetadataTest, ExtractsEverythingFromAnAnnotatedModel) {
  Result<SbmlMetadata> r = ExtractSbmlMetadata(Annotated());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const SbmlMetadata& m = *r;
  EXPECT_EQ(m.title, "Glucose minimal model");
  EXPECT_EQ(m.description, "Bergman Glucose & insulin, minimal model. Second\xC2\xA0paragraph.");
  using Creators = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(m.creators, (Creators{{"Jane Smith", "0000-0002-1825-0097"}, {"John Doe", ""}}));
  EXPECT_EQ(m.references, (std::vector<std::string>{"pubmed:443421", "doi:10.1152/ajpendo.1979.236.6.E667"}));
  EXPECT_EQ(m.annotations, (std::vector<std::string>{
                               "http://identifiers.org/biomodels.db/BIOMD0000000001",
                               "http://identifiers.org/pubmed/443421",
                               "https://identifiers.org/doi:10.1152/ajpendo.1979.236.6.E667",
                               "http://identifiers.org/taxonomy/9606",
                               "http://identifiers.org/GO:0005576",
                               "http://identifiers.org/CHEBI:17234",
                           }));
  EXPECT_EQ(m.index_text,
            "glucose Glucose minimal model plasma blood plasma G I p1 glucose effectiveness uptake meal");
  EXPECT_EQ(m.compartments, 1);
  EXPECT_EQ(m.species, 2);
  EXPECT_EQ(m.parameters, 1);
  EXPECT_EQ(m.reactions, 1);
  EXPECT_EQ(m.events, 1);
  EXPECT_EQ(m.level, 3);
  EXPECT_EQ(m.version, 2);
}

TEST(SbmlMetadataTest, BareModelGivesIdAsTitleAndEmptyLists) {
  Result<SbmlMetadata> r = ExtractSbmlMetadata(L3V2(""));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->title, "m");
  EXPECT_EQ(r->description, "");
  EXPECT_TRUE(r->creators.empty());
  EXPECT_TRUE(r->references.empty());
  EXPECT_TRUE(r->annotations.empty());
  EXPECT_EQ(r->index_text, "m");
  EXPECT_EQ(r->species, 0);
}

TEST(SbmlMetadataTest, OlderLevelsAreReadAsWritten) {
  std::string l2 = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level2/version4" level="2" version="4">
  <model id="old" name="Old model">
    <notes><p xmlns="http://www.w3.org/1999/xhtml">Level 2 notes</p></notes>
    <listOfCompartments><compartment id="c"/></listOfCompartments>
    <listOfSpecies><species id="S" compartment="c" initialAmount="1"/></listOfSpecies>
  </model>
</sbml>)";
  Result<SbmlMetadata> r = ExtractSbmlMetadata(l2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->level, 2);
  EXPECT_EQ(r->version, 4);
  EXPECT_EQ(r->title, "Old model");
  EXPECT_EQ(r->description, "Level 2 notes");
  EXPECT_EQ(r->species, 1);
}

TEST(SbmlMetadataTest, MalformedXmlIsParseErrorWithLine) {
  std::string bad = L3V2("<listOfSpecies>\n<species id=\"S\"\n</listOfSpecies>");
  Result<SbmlMetadata> r = ExtractSbmlMetadata(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kParseError) << r.status().ToString();
  EXPECT_NE(r.status().message().find("line "), std::string::npos) << r.status().ToString();
  EXPECT_EQ(ExtractSbmlMetadata("").status().code(), ErrorCode::kParseError);
  EXPECT_EQ(ExtractSbmlMetadata("not xml at all").status().code(), ErrorCode::kParseError);
}

TEST(SbmlMetadataTest, DocumentWithoutModel) {
  Result<SbmlMetadata> r = ExtractSbmlMetadata(
      R"(<?xml version="1.0" encoding="UTF-8"?><sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"/>)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidModel) << r.status().ToString();
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Never fails on valid models: every 25th test-suite case (all levels it
// ships) and the bundled models.
TEST(SbmlMetadataTest, SweepOverValidModels) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(SOMA_SOURCE_DIR) / "models", ec)) {
    if (entry.path().extension() == ".xml") files.push_back(entry.path());
  }
  fs::path suite = fs::path(SOMA_SHARED_DIR) / "sbml-test-suite" / "semantic";
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(suite, ec)) cases.push_back(entry.path());
  std::sort(cases.begin(), cases.end());
  for (size_t i = 0; i < cases.size(); i += 25) {
    for (const auto& entry : fs::directory_iterator(cases[i], ec)) {
      if (entry.path().extension() == ".xml") files.push_back(entry.path());
    }
  }
  if (files.empty()) GTEST_SKIP() << "no models found";
  int checked = 0;
  for (const fs::path& file : files) {
    Result<SbmlMetadata> r = ExtractSbmlMetadata(ReadFile(file));
    ASSERT_TRUE(r.ok()) << file << ": " << r.status().ToString();
    EXPECT_FALSE(r->title.empty()) << file;
    EXPECT_GT(r->level, 0) << file;
    ++checked;
  }
  EXPECT_GT(checked, 1);
}

}  // namespace
}  // namespace soma::formats
