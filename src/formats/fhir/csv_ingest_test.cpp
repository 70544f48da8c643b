#include "formats/fhir/csv_ingest.h"

#include <string>

#include <gtest/gtest.h>

#include "formats/fhir/fhir_ingest.h"
#include "formats/fhir/fhir_test_data.h"

namespace soma::formats {
namespace {

using namespace testing;  // NOLINT

CsvIngestOptions Options() {
  CsvIngestOptions o;
  o.node_secret = std::string(kSecret);
  o.consented_patients = {std::string(kPatientKey)};
  return o;
}

const char* kCsv =
    "# CGM export\r\n"
    "patient,time,loinc,value,unit\r\n"
    "urn:oid:2.16.840.1.113883.2.4.6.3|999911120,2024-05-02T08:20:00+02:00,99504-3,125,mg/dL\r\n"
    "urn:oid:2.16.840.1.113883.2.4.6.3|999911120,2024-05-02T08:15:00+02:00,99504-3,6.7,mmol/L\r\n"
    "\r\n"
    "\"urn:oid:2.16.840.1.113883.2.4.6.3|999911120\",2024-05-02T06:00:00Z,9059-7,45,g\r\n";

TEST(CsvIngest, ReadsTheDocumentedLayout) {
  auto r = IngestCsvTimeSeries(kCsv, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->issues.empty());
  EXPECT_EQ(r->records_read, 3u);
  ASSERT_EQ(r->patients.size(), 1u);
  const PatientRecord& p = r->patients[0];
  EXPECT_EQ(p.pseudonym, kPseudonym);  // the same pseudonym as from FHIR
  EXPECT_TRUE(p.consent);
  ASSERT_EQ(p.observations.size(), 2u);
  EXPECT_EQ(p.observations[0].time, k0615Z);  // sorted by time
  EXPECT_EQ(p.observations[0].resource_id, "line 4");
  EXPECT_EQ(p.observations[0].unit, "mmol/L");
  EXPECT_EQ(p.observations[1].value, 125);
  ASSERT_EQ(p.meals.size(), 1u);
  EXPECT_EQ(p.meals[0].carbohydrate_g, 45);
  EXPECT_EQ(ToJson(*r).find("999911120"), std::string::npos);
}

TEST(CsvIngest, SamePatientSamePseudonymAsFhir) {
  FhirIngestOptions fo;
  fo.node_secret = std::string(kSecret);
  auto fhir = IngestFhir(Bundle("collection", {kPatient, kConsent}), fo);
  auto csv = IngestCsvTimeSeries(kCsv, Options());
  ASSERT_TRUE(fhir.ok() && csv.ok());
  EXPECT_EQ(fhir->patients.at(0).pseudonym, csv->patients.at(0).pseudonym);
}

TEST(CsvIngest, ColumnsInAnyOrderAndBadRowsReported) {
  const std::string csv =
      "time,unit,value,loinc,patient\n"
      "2024-05-02T06:15:00Z,mg/dL,120,99504-3,p1\n"
      "2024-05-02T06:15:00Z,mg/dL,abc,99504-3,p1\n"
      "2024-05-02,mg/dL,120,99504-3,p1\n"
      "2024-05-02T06:15:00Z,mg/dQ,120,99504-3,p1\n"
      "2024-05-02T06:15:00Z,kg,70,8867-4,p1\n"
      "2024-05-02T06:15:00Z,mg/dL,120,99504-3\n"
      "2024-05-02T06:15:00Z,mg/dL,120,,p1\n"
      "2024-05-02T06:15:00Z,mg/dL,120,99504-3,p2-not-consented\n";
  CsvIngestOptions o = Options();
  o.consented_patients = {"p1"};
  auto r = IngestCsvTimeSeries(csv, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->patients.size(), 1u);
  EXPECT_EQ(r->patients[0].observations.size(), 1u);
  struct Expected {
    const char* id;
    const char* field;
  };
  const Expected expected[] = {{"line 3", "value"}, {"line 4", "time"},   {"line 5", "unit"},
                               {"line 6", "unit"},  {"line 7", "(row)"},  {"line 8", "loinc"},
                               {"line 9", "patient"}};
  ASSERT_EQ(r->issues.size(), std::size(expected));
  for (std::size_t i = 0; i < std::size(expected); ++i) {
    EXPECT_EQ(r->issues[i].resource_id, expected[i].id) << i;
    EXPECT_EQ(r->issues[i].field, expected[i].field) << i << ": " << r->issues[i].reason;
  }
  EXPECT_EQ(r->issues.back().reason, "no active consent");
  EXPECT_EQ(ToJson(*r).find("p2-not-consented"), std::string::npos);
}

TEST(CsvIngest, HeaderAndLimits) {
  EXPECT_EQ(IngestCsvTimeSeries("", Options()).status().code(), ErrorCode::kParseError);
  EXPECT_EQ(IngestCsvTimeSeries("patient,time,loinc,value\n", Options()).status().code(), ErrorCode::kParseError);
  EXPECT_EQ(IngestCsvTimeSeries("patient,time,loinc,value,name\n", Options()).status().code(),
            ErrorCode::kParseError);
  CsvIngestOptions o = Options();
  o.max_rows = 2;
  EXPECT_EQ(IngestCsvTimeSeries(kCsv, o).status().code(), ErrorCode::kResourceExhausted);
  o = Options();
  o.max_bytes = 10;
  EXPECT_EQ(IngestCsvTimeSeries(kCsv, o).status().code(), ErrorCode::kResourceExhausted);
  o = Options();
  o.node_secret.clear();
  EXPECT_EQ(IngestCsvTimeSeries(kCsv, o).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace soma::formats
