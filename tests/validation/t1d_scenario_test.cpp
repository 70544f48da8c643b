// A therapy scenario written in the scenario format (docs/scenarios.md)
// reproduces the simglucose reference day: the generic meal and infusion
// interventions give the same inputs as the validation protocol, so BG
// matches the reference within the same 0.5 mg/dL. This ties the scenario
// engine to external reference data.

#include <gtest/gtest.h>

#include <filesystem>

#include "formats/sbml/sbml_import.h"
#include "scenario/scenario.h"
#include "t1d_protocol.h"

namespace soma::validation {
namespace {
namespace fs = std::filesystem;

const fs::path kClinical = fs::path(SOMA_SHARED_DIR) / "clinical";

TEST(T1dScenario, ReferenceDayAsAScenarioMatchesTheReference) {
  if (!fs::exists(kClinical / "simglucose-reference")) GTEST_SKIP() << "no clinical data";
  auto imported = formats::LoadSbmlFile(fs::path(SOMA_SOURCE_DIR) / "models" / "t1d-uva-padova.xml");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  auto patients = ReadVirtualPatients(kClinical / "simglucose");
  ASSERT_TRUE(patients.ok()) << patients.status().ToString();
  int compared = 0;
  for (const VirtualPatient& p : *patients) {
    std::string file = p.name;
    std::replace(file.begin(), file.end(), '#', '_');
    fs::path ref_path = kClinical / "simglucose-reference" / (file + ".csv");
    if (!fs::exists(ref_path)) continue;
    model::Model m = imported->model;
    ASSERT_TRUE(Personalise(p, m).ok());
    const double bw = p.values.at("BW");
    nlohmann::json s = {
        {"name", "reference day " + p.name},
        {"end", 1440},
        {"steps", 1440},
        {"meal_input", {{"rate", "meal_rate"}, {"ingested", "meal_ingested"}, {"units_per_gram", 1000},
                        {"eat_rate_g_per_step", 5}, {"step", 1}}},
        {"outputs", {"BG"}},
        {"interventions", nlohmann::json::array()}};
    for (auto [t, g] : {std::pair{420.0, 45.0}, {720.0, 70.0}, {1080.0, 80.0}}) {
      s["interventions"].push_back({{"type", "meal"}, {"time", t}, {"grams", g}});
      // A bolus of g / CR units delivered within the meal's first minute.
      s["interventions"].push_back({{"type", "infusion"}, {"target", "insulin_rate"}, {"start", t},
                                    {"duration", 1}, {"rate", g / p.carb_ratio * 6000.0 / bw}});
    }
    auto scenario = scenario::ParseScenario(s);
    ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
    auto run = scenario::RunScenario(*scenario, m, DayOptions(DayProtocol{}));
    ASSERT_TRUE(run.ok()) << p.name << ": " << run.status().ToString();
    auto ref = ReadReference(ref_path);
    ASSERT_TRUE(ref.ok());
    ASSERT_EQ(run->trajectory.rows, ref->rows.size());
    double worst = 0;
    for (size_t r = 0; r < ref->rows.size(); ++r) {
      worst = std::max(worst, std::abs(run->trajectory.at(r, 1) - ref->rows[r][1]));
    }
    EXPECT_LE(worst, kGlucoseTolerance.abs) << p.name;
    ++compared;
  }
  EXPECT_EQ(compared, 10);
}

}  // namespace
}  // namespace soma::validation
