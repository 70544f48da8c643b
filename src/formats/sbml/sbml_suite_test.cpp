// comp flattening and a sweep over the SBML Test Suite's semantic cases
// (SOMA_SHARED_DIR/sbml-test-suite/semantic; skipped when absent).

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "formats/sbml/sbml_import.h"

namespace soma::formats {
namespace {

namespace fs = std::filesystem;

const fs::path kSuite = fs::path(SOMA_SHARED_DIR) / "sbml-test-suite" / "semantic";

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

bool ExprMentions(const expr::Expr& e, const std::string& symbol) {
  bool found = false;
  expr::ForEachSymbol(e, [&](const std::string& name) { found = found || name == symbol; });
  return found;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const char* kInlineComp = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core"
      xmlns:comp="http://www.sbml.org/sbml/level3/version1/comp/version1"
      level="3" version="1" comp:required="true">
  <model id="top">
    <listOfCompartments>
      <compartment id="c" size="2" constant="true">
        <comp:listOfReplacedElements>
          <comp:replacedElement comp:submodelRef="sub" comp:idRef="c"/>
        </comp:listOfReplacedElements>
      </compartment>
    </listOfCompartments>
    <comp:listOfSubmodels><comp:submodel comp:id="sub" comp:modelRef="inner"/></comp:listOfSubmodels>
  </model>
  <comp:listOfModelDefinitions>
    <comp:modelDefinition id="inner">
      <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
      <listOfSpecies>
        <species id="S" compartment="c" initialAmount="5" hasOnlySubstanceUnits="false"
                 boundaryCondition="false" constant="false"/>
      </listOfSpecies>
    </comp:modelDefinition>
  </comp:listOfModelDefinitions>
</sbml>)";

TEST(SbmlCompTest, FlattensInlineModelDefinition) {
  Result<SbmlImport> r = ParseSbml(kInlineComp);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const model::Model& m = r->model;
  ASSERT_EQ(m.compartments.size(), 1u);
  EXPECT_EQ(m.compartments[0].id, "c");
  EXPECT_EQ(m.compartments[0].size, 2);
  ASSERT_EQ(m.species.size(), 1u);
  EXPECT_EQ(m.species[0].id, "sub__S");
  EXPECT_EQ(m.species[0].compartment, "c");
  EXPECT_EQ(m.species[0].initial_amount, 5);
}

TEST(SbmlCompTest, ExternalModelFromSuite) {
  const fs::path file = kSuite / "01475" / "01475-sbml-l3v2.xml";
  if (!fs::exists(file)) GTEST_SKIP() << "no " << file;
  // Flattened: species s1, parameter timeconv, compartment C, and reaction
  // sub2__sub1__J0 whose rate is divided by the time conversion factor.
  Result<SbmlImport> r = LoadSbmlFile(file);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const model::Model& m = r->model;
  ASSERT_EQ(m.species.size(), 1u);
  EXPECT_EQ(m.species[0].id, "s1");
  EXPECT_NE(m.FindParameter("timeconv"), nullptr);
  EXPECT_NE(m.FindCompartment("C"), nullptr);
  ASSERT_EQ(m.reactions.size(), 1u);
  EXPECT_EQ(m.reactions[0].id, "sub2__sub1__J0");
  ASSERT_TRUE(m.reactions[0].kinetic_law.has_value());
  EXPECT_TRUE(ExprMentions(*m.reactions[0].kinetic_law, "timeconv")) << expr::ToString(*m.reactions[0].kinetic_law);

  // The same text from memory, resolved against base_dir.
  Result<SbmlImport> text = ParseSbml(ReadFile(file), {}, file.parent_path());
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->model.species.size(), 1u);

  // Without base_dir the external file is not found.
  Result<SbmlImport> lost = ParseSbml(ReadFile(file), {}, "/nonexistent");
  EXPECT_EQ(lost.status().code(), ErrorCode::kInvalidModel) << lost.status().ToString();
  EXPECT_TRUE(Contains(lost.status().message(), "external-l3v2.xml")) << lost.status().ToString();

  SbmlImportOptions closed;
  closed.resolve_external_models = false;
  Result<SbmlImport> refused = LoadSbmlFile(file, closed);
  EXPECT_EQ(refused.status().code(), ErrorCode::kUnsupported) << refused.status().ToString();
}

TEST(SbmlCompTest, ConversionFactorFoldedIntoMath) {
  const fs::path file = kSuite / "01137" / "01137-sbml-l3v2.xml";
  if (!fs::exists(file)) GTEST_SKIP() << "no " << file;
  // Flattened: p8 = 80 * conv (the replacement's conversion factor applied).
  Result<SbmlImport> r = LoadSbmlFile(file);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const model::Rule* rule = r->model.FindRuleFor("p8");
  ASSERT_NE(rule, nullptr);
  EXPECT_TRUE(ExprMentions(rule->math, "conv")) << expr::ToString(rule->math);
}

// The model file of a case: the highest Level/Version it provides.
fs::path CaseModel(const fs::path& dir) {
  const std::string id = dir.filename().string();
  for (const char* lv : {"l3v2", "l3v1", "l2v5", "l2v4", "l2v3", "l1v2"}) {
    fs::path p = dir / (id + "-sbml-" + lv + ".xml");
    if (fs::exists(p)) return p;
  }
  return {};
}

TEST(SbmlSuiteTest, EveryCaseImportsOrIsUnsupported) {
  if (!fs::is_directory(kSuite)) GTEST_SKIP() << "no SBML Test Suite at " << kSuite;
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(kSuite)) {
    if (entry.is_directory()) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  int imported = 0;
  int unsupported = 0;
  int no_model = 0;
  std::map<std::string, std::vector<std::string>> reasons;  // reason -> cases
  for (const fs::path& dir : dirs) {
    fs::path file = CaseModel(dir);
    if (file.empty()) {
      ++no_model;
      continue;
    }
    Result<SbmlImport> r = LoadSbmlFile(file);
    if (r.ok()) {
      ++imported;
      continue;
    }
    const Status& s = r.status();
    if (s.code() == ErrorCode::kUnsupported) {
      ++unsupported;
      std::string reason = s.message().substr(s.message().find(": ") + 2);  // drop the path
      reason = reason.substr(0, reason.find(" (first use"));
      reasons[reason].push_back(dir.filename().string());
    } else {
      ADD_FAILURE() << file << ": " << s.ToString();
    }
  }
  std::cout << "SBML Test Suite sweep: " << dirs.size() << " cases, " << imported << " imported, "
            << unsupported << " unsupported, " << no_model << " without a model file\n";
  for (const auto& [reason, cases] : reasons) {
    std::cout << "  " << cases.size() << " x " << reason << " (e.g. " << cases.front() << ")\n";
  }
  EXPECT_GT(imported, 0);
}

}  // namespace
}  // namespace soma::formats
