// Theophylline: the bundled one-compartment oral model (models/pk-oral-1cpt.xml)
// fitted subject by subject with soma::infer and summarised by the two-stage
// method (FitTwoStage, pk_protocol.h), against the population estimates of
// an independent tool: R nlme's mixed-effects fit of the same model (SSfol,
// as in Pinheiro and Bates 2000), tests/validation/data/theoph_nlme.json,
// written by scripts/validation/theoph_nlme.R.
//
// Acceptance: the mean of the individual estimates of lKe, lKa and lCl lies
// within 2 standard errors (nlme's) of nlme's fixed effect; no estimate is at
// a bound; at most one subject's fit stops without meeting its tolerances
// (subject 9 absorbs so fast that its ka is barely constrained: nlme's own
// estimate for it is the largest, and Levenberg-Marquardt creeps along the
// flat ridge; its estimate still counts).

#include <cmath>
#include <filesystem>
#include <iostream>

#include <gtest/gtest.h>

#include "formats/sbml/sbml_import.h"
#include "pk_protocol.h"

namespace fs = std::filesystem;

namespace soma::validation {
namespace {

const fs::path kTheoph = fs::path(SOMA_SHARED_DIR) / "clinical" / "pk" / "theoph.csv";
const fs::path kNlme = fs::path(SOMA_SOURCE_DIR) / "tests" / "validation" / "data" / "theoph_nlme.json";
const fs::path kModel = fs::path(SOMA_SOURCE_DIR) / "models" / "pk-oral-1cpt.xml";

TEST(TheophyllinePopulationTest, TwoStageMeansAgreeWithNlmeFixedEffects) {
  if (!fs::exists(kTheoph)) GTEST_SKIP() << "no " << kTheoph;
  auto subjects = ReadTheophylline(kTheoph);
  ASSERT_TRUE(subjects.ok()) << subjects.status().ToString();
  ASSERT_EQ(subjects->size(), 12u);
  auto oral = formats::LoadSbmlFile(kModel);
  ASSERT_TRUE(oral.ok()) << oral.status().ToString();
  auto nlme = ReadNlmeReference(kNlme);
  ASSERT_TRUE(nlme.ok()) << nlme.status().ToString();
  auto fit = FitTwoStage(oral->model, *subjects);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  for (const SubjectFit& f : fit->subjects) {
    EXPECT_FALSE(f.at_bound) << "subject " << f.id;
    std::cout << "subject " << f.id << ": lKe " << f.estimates.at("lKe") << ", lKa " << f.estimates.at("lKa")
              << ", lCl " << f.estimates.at("lCl") << ", nllh " << f.nllh << (f.converged ? "" : " (" + f.termination + ")")
              << "\n";
  }
  EXPECT_GE(fit->converged, 11);
  for (const std::string id : {"lKe", "lKa", "lCl"}) {
    const double mean = fit->mean.at(id), fixed = nlme->fixed.at(id), se = nlme->fixed_se.at(id);
    EXPECT_LE(std::abs(mean - fixed), 2.0 * se) << id << ": two-stage mean " << mean << ", nlme " << fixed << " (SE " << se << ")";
    std::cout << id << ": two-stage mean " << mean << ", nlme fixed effect " << fixed << " (SE " << se << ")\n";
  }
}

}  // namespace
}  // namespace soma::validation
