// The demo patients in data/demo-patients go through FHIR ingestion whole:
// every CGM reading, meal and insulin dose is taken in, no record is
// reported, and none of the bundle's direct identifiers survive.

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "formats/fhir/fhir_ingest.h"

namespace fs = std::filesystem;

namespace {

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DemoPatientsTest, BundlesIngestCompletelyAndLoseTheirIdentifiers) {
  const fs::path dir = fs::path(SOMA_SOURCE_DIR) / "data" / "demo-patients";
  int bundles = 0;
  for (int i = 1; fs::exists(dir / ("demo-patient-" + std::to_string(i) + ".json")); ++i) {
    ++bundles;
    const std::string text = Slurp(dir / ("demo-patient-" + std::to_string(i) + ".json"));
    const nlohmann::json bundle = nlohmann::json::parse(text);
    const nlohmann::json truth = nlohmann::json::parse(Slurp(dir / ("demo-patient-" + std::to_string(i) + ".truth.json")));
    size_t cgm = 0, meals = 0, doses = 0;
    for (const auto& e : bundle["entry"]) {
      const auto& r = e["resource"];
      if (r["resourceType"] == "Observation" && r["code"]["coding"][0]["code"] == "99504-3") ++cgm;
      if (r["resourceType"] == "Observation" && r["code"]["coding"][0]["code"] == "9059-7") ++meals;
      if (r["resourceType"] == "MedicationAdministration") ++doses;
    }
    soma::formats::FhirIngestOptions options;
    options.node_secret = "demo-patients-test-secret-0123456789";
    auto ingested = soma::formats::IngestFhir(text, options);
    ASSERT_TRUE(ingested.ok()) << ingested.status().ToString();
    EXPECT_TRUE(ingested->issues.empty()) << ingested->issues.front().resource_id << " " << ingested->issues.front().reason;
    ASSERT_EQ(ingested->patients.size(), 1u);
    const auto& p = ingested->patients[0];
    EXPECT_TRUE(p.consent);
    EXPECT_EQ(p.observations.size(), cgm);
    EXPECT_EQ(p.meals.size(), meals);
    EXPECT_EQ(p.doses.size(), doses);
    EXPECT_EQ(meals, truth["meals"].size());
    EXPECT_EQ(cgm, truth["cgm_noise_free"].size());
    // The readings are the noise-free CGM plus noise of SD 7 mg/dL: their
    // mean error over two days is within 5 standard errors of 0 and their
    // SD within 30% of 7 (clipping and rounding aside).
    double sum = 0, sum2 = 0;
    for (size_t k = 0; k < p.observations.size(); ++k) {
      const double d = p.observations[k].value - truth["cgm_noise_free"][k][1].get<double>();
      sum += d;
      sum2 += d * d;
    }
    const double n = static_cast<double>(p.observations.size()), mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
    EXPECT_LT(std::abs(mean), 5 * 7.0 / std::sqrt(n));
    EXPECT_NEAR(sd, 7.0, 0.3 * 7.0);
    const std::string kept = soma::formats::ToJson(*ingested);
    for (const auto& pat : bundle["entry"]) {
      const auto& r = pat["resource"];
      if (r["resourceType"] != "Patient") continue;
      for (const std::string& leak : {r["name"][0]["family"].get<std::string>(), r["identifier"][0]["value"].get<std::string>(),
                                      r["address"][0]["city"].get<std::string>(), r["birthDate"].get<std::string>(),
                                      r["telecom"][0]["value"].get<std::string>(), r["id"].get<std::string>()}) {
        EXPECT_EQ(kept.find(leak), std::string::npos) << "leaked " << leak;
      }
    }
  }
  EXPECT_GE(bundles, 3);
}

}  // namespace
