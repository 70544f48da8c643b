#include "formats/fhir/fhir_ingest.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "formats/fhir/fhir_test_data.h"
#include "formats/fhir/loinc.h"
#include "formats/fhir/pseudonym.h"

namespace soma::formats {
namespace {

using namespace testing;  // NOLINT

FhirIngestOptions Options() {
  FhirIngestOptions o;
  o.node_secret = std::string(kSecret);
  return o;
}

void ExpectNear(double x, double ref, double abs_tol = 1e-9, double rel_tol = 1e-12) {
  EXPECT_LE(std::fabs(x - ref), abs_tol + rel_tol * std::fabs(ref)) << "x = " << x << ", ref = " << ref;
}

const char* kHeartRate = R"({"resourceType": "Observation", "id": "hr-1", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
  "subject": {"reference": "Patient/pat-7f3a"}, "effectiveDateTime": "2024-05-02T06:15:00Z",
  "valueQuantity": {"value": 72, "unit": "beats/minute", "system": "http://unitsofmeasure.org", "code": "/min"}})";

const char* kBloodPressure = R"({"resourceType": "Observation", "id": "bp-1", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
  "subject": {"reference": "Patient/pat-7f3a"}, "effectiveDateTime": "2024-05-02T08:15:00+02:00",
  "component": [
    {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
     "valueQuantity": {"value": 118, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
    {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
     "valueQuantity": {"value": 76, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}]})";

const char* kFingerstick = R"({"resourceType": "Observation", "id": "bg-1", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "15074-8"}]},
  "subject": {"reference": "Patient/pat-7f3a"}, "effectivePeriod": {"start": "2024-05-02T06:30:00Z"},
  "valueQuantity": {"value": 6.3, "unit": "mmol/l", "system": "http://unitsofmeasure.org", "code": "mmol/L"}})";

const char* kWeight = R"({"resourceType": "Observation", "id": "wt-1", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
  "subject": {"reference": "Patient/pat-7f3a"}, "effectiveDateTime": "2024-05-02T07:00:00Z",
  "valueQuantity": {"value": 150, "unit": "lb", "system": "http://unitsofmeasure.org", "code": "[lb_av]"}})";

std::string MealObs(const std::string& id, const std::string& time, double value, const std::string& unit) {
  return R"({"resourceType": "Observation", "id": ")" + id + R"(", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "9059-7"}], "text": "Carbohydrates"},
  "subject": {"reference": "Patient/pat-7f3a"}, "effectiveDateTime": ")" + time + R"(",
  "valueQuantity": {"value": )" + std::to_string(value) + R"(, "system": "http://unitsofmeasure.org", "code": ")" +
         unit + R"("}})";
}

const char* kBolus = R"({"resourceType": "MedicationAdministration", "id": "bolus-1", "status": "completed",
  "medicationCodeableConcept": {"coding": [{"system": "http://example.org/medications", "code": "insulin-aspart",
                                            "display": "Insulin aspart 100 U/mL"}], "text": "insulin aspart"},
  "subject": {"reference": "Patient/pat-7f3a"}, "effectiveDateTime": "2024-05-02T08:05:00+02:00",
  "performer": [{"actor": {"display": "Annelies Vermeulen"}}],
  "dosage": {"route": {"coding": [{"system": "http://snomed.info/sct", "code": "34206005",
                                   "display": "Subcutaneous route"}]},
             "dose": {"value": 6, "unit": "U", "system": "http://unitsofmeasure.org", "code": "U"}}})";

const char* kBasal = R"({"resourceType": "MedicationAdministration", "id": "basal-1", "status": "completed",
  "medicationCodeableConcept": {"text": "insulin aspart, pump basal"},
  "subject": {"reference": "Patient/pat-7f3a"},
  "effectivePeriod": {"start": "2024-05-02T00:00:00+02:00", "end": "2024-05-02T06:00:00+02:00"},
  "dosage": {"route": {"text": "subcutaneous infusion"},
             "rateQuantity": {"value": 0.8, "unit": "U/h", "system": "http://unitsofmeasure.org", "code": "U/h"}}})";

const char* kBasalRatio = R"({"resourceType": "MedicationAdministration", "id": "basal-2", "status": "completed",
  "medicationCodeableConcept": {"text": "insulin aspart, pump basal"},
  "subject": {"reference": "Patient/pat-7f3a"},
  "effectivePeriod": {"start": "2024-05-02T06:00:00+02:00", "end": "2024-05-02T12:00:00+02:00"},
  "dosage": {"rateRatio": {"numerator": {"value": 1.2, "system": "http://unitsofmeasure.org", "code": "U"},
                           "denominator": {"value": 1, "system": "http://unitsofmeasure.org", "code": "h"}}}})";

std::string T1dBundle() {
  return Bundle("collection",
                {kPatient, kConsent, Cgm("cgm-1", "2024-05-02T08:15:00+02:00", 120, "mg/dL"),
                 Cgm("cgm-2", "2024-05-02T06:20:00Z", 6.7, "mmol/L"),
                 Cgm("cgm-3", "2024-05-02T01:10:00-05:00", 135, "mg/dL"), kFingerstick, kHeartRate, kBloodPressure,
                 kWeight, MealObs("meal-1", "2024-05-02T08:00:00+02:00", 45, "g"),
                 MealObs("meal-2", "2024-05-02T12:30:00+02:00", 0.06, "kg"), kBolus, kBasal, kBasalRatio});
}

const ClinicalObservation* FindObs(const PatientRecord& p, const std::string& id, const std::string& loinc) {
  for (const auto& o : p.observations) {
    if (o.resource_id == id && o.loinc == loinc) return &o;
  }
  return nullptr;
}

const Dose* FindDose(const PatientRecord& p, const std::string& id) {
  for (const auto& d : p.doses) {
    if (d.resource_id == id) return &d;
  }
  return nullptr;
}

std::string Describe(const ClinicalBundle& b) {
  std::string s;
  for (const auto& i : b.issues) s += i.resource_id + " | " + i.field + " | " + i.reason + "\n";
  return s;
}

TEST(FhirIngest, TypeOneDiabetesBundle) {
  auto r = IngestFhir(T1dBundle(), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->issues.empty()) << Describe(*r);
  EXPECT_EQ(r->records_read, 14u);
  ASSERT_EQ(r->patients.size(), 1u);
  const PatientRecord& p = r->patients[0];
  EXPECT_EQ(p.pseudonym, kPseudonym);
  EXPECT_EQ(p.birth_year, 1987);
  EXPECT_EQ(p.gender, Gender::kFemale);
  EXPECT_TRUE(p.consent);

  ASSERT_EQ(p.observations.size(), 8u);  // 3 CGM, fingerstick, HR, 2 BP, weight
  EXPECT_TRUE(std::is_sorted(p.observations.begin(), p.observations.end(),
                             [](const auto& a, const auto& b) { return a.time < b.time; }));
  EXPECT_EQ(p.observations.front().resource_id, "cgm-3");  // 01:10-05:00 is 06:10Z, the earliest

  const ClinicalObservation* cgm1 = FindObs(p, "cgm-1", "99504-3");
  ASSERT_NE(cgm1, nullptr);
  EXPECT_EQ(cgm1->time, k0615Z);
  EXPECT_EQ(cgm1->value, 120);
  EXPECT_EQ(cgm1->unit, "mg/dL");
  EXPECT_EQ(cgm1->display, "Glucose [Mass/volume] in Interstitial fluid");
  const ClinicalObservation* cgm2 = FindObs(p, "cgm-2", "99504-3");
  ASSERT_NE(cgm2, nullptr);
  EXPECT_EQ(cgm2->unit, "mmol/L");  // kept as given by default
  EXPECT_EQ(cgm2->time, k0615Z + 300);
  const ClinicalObservation* bg = FindObs(p, "bg-1", "15074-8");
  ASSERT_NE(bg, nullptr);
  EXPECT_EQ(bg->time, k0615Z + 900);  // effectivePeriod.start
  const ClinicalObservation* systolic = FindObs(p, "bp-1", "8480-6");
  const ClinicalObservation* diastolic = FindObs(p, "bp-1", "8462-4");
  ASSERT_NE(systolic, nullptr);
  ASSERT_NE(diastolic, nullptr);
  EXPECT_EQ(systolic->value, 118);
  EXPECT_EQ(diastolic->value, 76);
  EXPECT_EQ(systolic->unit, "mm[Hg]");
  EXPECT_EQ(systolic->time, k0615Z);
  ASSERT_NE(FindObs(p, "hr-1", "8867-4"), nullptr);
  EXPECT_EQ(FindObs(p, "wt-1", "29463-7")->unit, "[lb_av]");

  ASSERT_EQ(p.meals.size(), 2u);
  EXPECT_EQ(p.meals[0].resource_id, "meal-1");
  EXPECT_EQ(p.meals[0].time, k0615Z - 900);
  ExpectNear(p.meals[0].carbohydrate_g, 45);
  ExpectNear(p.meals[1].carbohydrate_g, 60);  // 0.06 kg

  ASSERT_EQ(p.doses.size(), 3u);
  const Dose* bolus = FindDose(p, "bolus-1");
  ASSERT_NE(bolus, nullptr);
  EXPECT_EQ(bolus->start, k0615Z - 600);
  EXPECT_EQ(bolus->end, bolus->start);
  ASSERT_TRUE(bolus->amount.has_value());
  EXPECT_EQ(*bolus->amount, 6);
  EXPECT_EQ(bolus->amount_unit, "U");
  EXPECT_FALSE(bolus->rate.has_value());
  EXPECT_EQ(bolus->medication_code, "insulin-aspart");
  EXPECT_EQ(bolus->medication_text, "insulin aspart");
  EXPECT_EQ(bolus->route_code, "34206005");
  EXPECT_EQ(bolus->route_text, "Subcutaneous route");
  const Dose* basal = FindDose(p, "basal-1");
  ASSERT_NE(basal, nullptr);
  EXPECT_EQ(basal->start, 1714600800);  // 2024-05-01T22:00:00Z
  EXPECT_EQ(basal->end, 1714622400);    // 2024-05-02T04:00:00Z
  ASSERT_TRUE(basal->rate.has_value());
  EXPECT_EQ(*basal->rate, 0.8);
  EXPECT_EQ(basal->rate_unit, "U/h");
  const Dose* ratio = FindDose(p, "basal-2");
  ASSERT_NE(ratio, nullptr);
  ExpectNear(*ratio->rate, 1.2);
  EXPECT_EQ(ratio->rate_unit, "U/h");
  EXPECT_EQ(ratio->end - ratio->start, 6 * 3600);
  EXPECT_EQ(p.doses.front().resource_id, "basal-1");  // sorted by start
}

TEST(FhirIngest, TargetUnitsConvertGlucoseWithItsMolarMass) {
  FhirIngestOptions o = Options();
  o.observation_units = {{"99504-3", "mg/dL"}, {"15074-8", "mg/dL"}, {"29463-7", "kg"}};
  auto r = IngestFhir(T1dBundle(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->patients.size(), 1u);
  const PatientRecord& p = r->patients[0];
  const ClinicalObservation* cgm2 = FindObs(p, "cgm-2", "99504-3");
  ASSERT_NE(cgm2, nullptr);
  EXPECT_EQ(cgm2->unit, "mg/dL");
  ExpectNear(cgm2->value, 6.7 * 18.0156);  // 1 mmol/L = 180.156 mg/L
  ExpectNear(FindObs(p, "bg-1", "15074-8")->value, 6.3 * 18.0156);
  ExpectNear(FindObs(p, "wt-1", "29463-7")->value, 150 * 0.45359237);
  EXPECT_EQ(FindObs(p, "cgm-1", "99504-3")->value, 120);
}

TEST(FhirIngest, NoIdentifierReachesTheOutput) {
  // The clean bundle, plus one with problems in every Patient field and an
  // unconsented second patient, so that issues are produced too.
  const std::string bad_patient = R"({"resourceType": "Patient", "id": "pat-2-Vermeulen",
    "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.6.3", "value": "999922233"}],
    "name": [{"text": "Pieter Janssen"}], "gender": "Janssen", "birthDate": "14-03-1987"})";
  const std::string bad_ref = Cgm("cgm-x", "2024-05-02T06:15:00Z", 100, "mg/dL");
  std::string unknown_ref = bad_ref;
  unknown_ref.replace(unknown_ref.find("Patient/pat-7f3a"), 16, "Patient/999911120");
  const std::string second_obs = R"({"resourceType": "Observation", "id": "obs-p2",
    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
    "subject": {"reference": "Patient/pat-2-Vermeulen", "display": "Pieter Janssen"},
    "effectiveDateTime": "2024-05-02T06:15:00Z", "valueQuantity": {"value": 60, "code": "/min"}})";
  for (const std::string& input :
       {T1dBundle(), Bundle("collection", {kPatient, kConsent, bad_patient, second_obs, unknown_ref, kBolus})}) {
    auto r = IngestFhir(input, Options());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const std::string json = ToJson(*r);
    EXPECT_NE(json.find(kPseudonym), std::string::npos);
    for (std::string_view s : kIdentifyingStrings) {
      EXPECT_EQ(json.find(s), std::string::npos) << "'" << s << "' leaked into " << json;
    }
    for (std::string_view s : {"999922233", "Pieter", "Janssen", "14-03-1987", "pat-2-Vermeulen"}) {
      EXPECT_EQ(json.find(s), std::string::npos) << "'" << s << "' leaked into " << json;
    }
  }
}

TEST(FhirIngest, PseudonymsAreStableAndKeyed) {
  auto a = IngestFhir(T1dBundle(), Options());
  auto b = IngestFhir(T1dBundle(), Options());
  FhirIngestOptions other = Options();
  other.node_secret = "another-node-secret-9876543210";
  auto c = IngestFhir(T1dBundle(), other);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->patients[0].pseudonym, b->patients[0].pseudonym);
  EXPECT_NE(a->patients[0].pseudonym, c->patients[0].pseudonym);
  EXPECT_EQ(a->patients[0].pseudonym, Pseudonymise(kSecret, kPatientKey));
  EXPECT_EQ(c->patients[0].pseudonym.size(), 4u + 32u);
  EXPECT_EQ(c->patients[0].pseudonym.rfind("psn-", 0), 0u);

  // Without identifiers, the Patient id is the key.
  std::string no_identifier = kPatient;
  const auto from = no_identifier.find("\"identifier\"");
  const auto to = no_identifier.find("\"name\"");
  no_identifier.erase(from, to - from);
  auto d = IngestFhir(Bundle("collection", {no_identifier, kConsent}), Options());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->patients.size(), 1u) << Describe(*d);
  EXPECT_EQ(d->patients[0].pseudonym, Pseudonymise(kSecret, "pat-7f3a"));
}

TEST(FhirIngest, ConsentGatesEverything) {
  const std::string bundle = Bundle("collection", {kPatient, Cgm("cgm-1", "2024-05-02T06:15:00Z", 120, "mg/dL"),
                                                   kBolus, MealObs("meal-1", "2024-05-02T06:00:00Z", 40, "g")});
  auto r = IngestFhir(bundle, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->patients.empty());
  ASSERT_EQ(r->issues.size(), 4u) << Describe(*r);
  EXPECT_EQ(r->issues[0].resource_id, "Patient/" + std::string(kPseudonym));
  EXPECT_EQ(r->issues[0].field, "entry[0].resource");
  EXPECT_EQ(r->issues[1].resource_id, "Observation/cgm-1");
  EXPECT_EQ(r->issues[1].field, "entry[1].resource.subject");
  EXPECT_EQ(r->issues[2].resource_id, "MedicationAdministration/bolus-1");
  EXPECT_EQ(r->issues[3].resource_id, "Observation/meal-1");
  for (const auto& issue : r->issues) EXPECT_EQ(issue.reason, "no active consent");
  EXPECT_EQ(ToJson(*r).find("120"), std::string::npos);

  // Opting out of the gate keeps the data, flagged.
  FhirIngestOptions lenient = Options();
  lenient.require_consent = false;
  auto kept = IngestFhir(bundle, lenient);
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->patients.size(), 1u);
  EXPECT_FALSE(kept->patients[0].consent);
  EXPECT_EQ(kept->patients[0].observations.size(), 1u);

  // An active deny overrides a permit; a draft Consent grants nothing.
  std::string deny = kConsent;
  deny.replace(deny.find("\"permit\""), 8, "\"deny\"");
  deny.replace(deny.find("consent-1"), 9, "consent-2");
  auto denied = IngestFhir(Bundle("collection", {kPatient, kConsent, deny, kBolus}), Options());
  ASSERT_TRUE(denied.ok());
  EXPECT_TRUE(denied->patients.empty());
  std::string draft = kConsent;
  draft.replace(draft.find("\"active\""), 8, "\"draft\"");
  auto drafted = IngestFhir(Bundle("collection", {kPatient, draft, kBolus}), Options());
  ASSERT_TRUE(drafted.ok());
  EXPECT_TRUE(drafted->patients.empty());
  ASSERT_FALSE(drafted->issues.empty());
  EXPECT_EQ(drafted->issues[0].resource_id, "Patient/" + std::string(kPseudonym));
  EXPECT_EQ(drafted->issues[1].resource_id, "Consent/consent-1");
  EXPECT_EQ(drafted->issues[1].field, "entry[1].resource.status");
}

// An Observation of the patient with `body` spliced in after the subject.
std::string Obs(const std::string& id, const std::string& body) {
  return R"({"resourceType": "Observation", "id": ")" + id + R"(", "subject": {"reference": "Patient/pat-7f3a"}, )" +
         body + "}";
}

TEST(FhirIngest, EveryBadRecordIsReportedWithItsPath) {
  const std::string loinc_cgm = R"("code": {"coding": [{"system": "http://loinc.org", "code": "99504-3"}]})";
  const std::string at = R"("effectiveDateTime": "2024-05-02T06:15:00Z")";
  const std::string ucum = R"("system": "http://unitsofmeasure.org")";
  const std::string bundle = Bundle(
      "collection",
      {kPatient, kConsent,
       Obs("no-value", loinc_cgm + ", " + at + R"(, "valueQuantity": {"unit": "mg/dL", )" + ucum +
                           R"(, "code": "mg/dL"})"),
       Obs("bad-unit", loinc_cgm + ", " + at + R"(, "valueQuantity": {"value": 5, )" + ucum + R"(, "code": "mg/dl/"})"),
       Obs("bad-time", loinc_cgm + R"(, "effectiveDateTime": "2024-05-02 06:15", "valueQuantity": {"value": 5, )" +
                           ucum + R"(, "code": "mg/dL"})"),
       Obs("partial", loinc_cgm + R"(, "effectiveDateTime": "2024-05-02", "valueQuantity": {"value": 5, )" + ucum +
                          R"(, "code": "mg/dL"})"),
       R"({"resourceType": "Observation", "id": "orphan", "subject": {"reference": "Patient/nobody"}, )" + loinc_cgm +
           ", " + at + R"(, "valueQuantity": {"value": 5, "code": "mg/dL"}})",
       R"({"resourceType": "Encounter", "id": "enc-1", "status": "finished"})",
       Obs("hr-kg", R"("code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}, )" + at +
                        R"(, "valueQuantity": {"value": 70, "code": "kg"})"),
       Obs("no-code", loinc_cgm + ", " + at + R"(, "valueQuantity": {"value": 5, "unit": "mg/dL"})"),
       Obs("not-loinc", R"("code": {"coding": [{"system": "http://snomed.info/sct", "code": "434912009"}]}, )" + at +
                            R"(, "valueQuantity": {"value": 5, "code": "mg/dL"})"),
       Obs("bp-half", R"("code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]}, )" + at +
                          R"(, "component": [
             {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
              "valueQuantity": {"value": 120, "code": "mm[Hg]"}},
             {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
              "valueQuantity": {"value": "80", "code": "mm[Hg]"}}])"),
       Obs("string-value", loinc_cgm + ", " + at + R"(, "valueString": "high")"),
       Obs("not-ucum", loinc_cgm + ", " + at +
                           R"(, "valueQuantity": {"value": 5, "system": "http://example.org/units", "code": "mg/dL"})"),
       R"({"resourceType": "MedicationAdministration", "id": "ma-open", "status": "in-progress",
           "medicationCodeableConcept": {"text": "insulin"}, "subject": {"reference": "Patient/pat-7f3a"},
           "effectivePeriod": {"start": "2024-05-02T06:00:00Z"},
           "dosage": {"rateQuantity": {"value": 1, "code": "U/h"}}})",
       R"({"resourceType": "MedicationAdministration", "id": "ma-ref", "status": "completed",
           "medicationReference": {"reference": "Medication/m1"}, "subject": {"reference": "Patient/pat-7f3a"},
           "effectiveDateTime": "2024-05-02T06:00:00Z", "dosage": {"dose": {"value": 1, "code": "U"}}})",
       R"({"resourceType": "MedicationAdministration", "id": "ma-nodose", "status": "completed",
           "medicationCodeableConcept": {"text": "insulin"}, "subject": {"reference": "Patient/pat-7f3a"},
           "effectiveDateTime": "2024-05-02T06:00:00Z", "dosage": {"route": {"text": "sc"}}})",
       Cgm("good", "2024-05-02T06:15:00Z", 99, "mg/dL")});
  auto r = IngestFhir(bundle, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  struct Expected {
    const char* id;
    const char* field;
    const char* reason_part;
  };
  const Expected expected[] = {
      {"Observation/no-value", "entry[2].resource.valueQuantity.value", "missing"},
      {"Observation/bad-unit", "entry[3].resource.valueQuantity.code", "UCUM"},
      {"Observation/bad-time", "entry[4].resource.effectiveDateTime", "unparseable time"},
      {"Observation/partial", "entry[5].resource.effectiveDateTime", "partial date"},
      {"Observation/orphan", "entry[6].resource.subject.reference", "does not name a Patient"},
      {"Encounter/enc-1", "entry[7].resource.resourceType", "unsupported resourceType 'Encounter'"},
      {"Observation/hr-kg", "entry[8].resource.valueQuantity.code", "does not fit LOINC 8867-4"},
      {"Observation/no-code", "entry[9].resource.valueQuantity.code", "missing UCUM code"},
      {"Observation/not-loinc", "entry[10].resource.code.coding", "no LOINC coding"},
      {"Observation/bp-half", "entry[11].resource.component[1].valueQuantity.value", "not a finite number"},
      {"Observation/string-value", "entry[12].resource.valueString", "only valueQuantity"},
      {"Observation/not-ucum", "entry[13].resource.valueQuantity.system", "not UCUM"},
      {"MedicationAdministration/ma-open", "entry[14].resource.effectivePeriod.end", "needs effectivePeriod"},
      {"MedicationAdministration/ma-ref", "entry[15].resource.medicationReference", "not read"},
      {"MedicationAdministration/ma-nodose", "entry[16].resource.dosage.dose", "missing"},
  };
  ASSERT_EQ(r->issues.size(), std::size(expected)) << Describe(*r);
  for (std::size_t i = 0; i < std::size(expected); ++i) {
    EXPECT_EQ(r->issues[i].resource_id, expected[i].id) << i;
    EXPECT_EQ(r->issues[i].field, expected[i].field) << i;
    EXPECT_NE(r->issues[i].reason.find(expected[i].reason_part), std::string::npos)
        << i << ": " << r->issues[i].reason;
  }
  // The good records went through: the CGM and the half of the BP panel.
  ASSERT_EQ(r->patients.size(), 1u);
  const PatientRecord& p = r->patients[0];
  EXPECT_EQ(p.observations.size(), 2u);
  EXPECT_NE(FindObs(p, "good", "99504-3"), nullptr);
  EXPECT_NE(FindObs(p, "bp-half", "8480-6"), nullptr);
  EXPECT_EQ(r->records_read, 18u);
}

TEST(FhirIngest, TransactionBundleWithUuidReferences) {
  const std::string patient = R"({"fullUrl": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",
    "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.6.3",
                 "value": "999911120"}], "birthDate": "1987-03"},
    "request": {"method": "POST", "url": "Patient"}})";
  const std::string consent = R"({"resource": {"resourceType": "Consent", "status": "active",
    "patient": {"reference": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"}, "provision": {"type": "permit"}},
    "request": {"method": "POST", "url": "Consent"}})";
  const std::string obs = R"({"resource": {"resourceType": "Observation",
    "code": {"coding": [{"system": "http://loinc.org", "code": "99504-3"}]},
    "subject": {"reference": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"},
    "effectiveDateTime": "2024-05-02T06:15:00Z",
    "valueQuantity": {"value": 101, "system": "http://unitsofmeasure.org", "code": "mg/dL"}},
    "request": {"method": "POST", "url": "Observation"}})";
  const std::string del = R"({"request": {"method": "DELETE", "url": "Observation/old-1"}})";
  const std::string bundle =
      R"({"resourceType": "Bundle", "type": "transaction", "entry": [)" + obs + "," + patient + "," + consent + "," +
      del + "]}";
  auto r = IngestFhir(bundle, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->patients.size(), 1u) << Describe(*r);
  EXPECT_EQ(r->patients[0].pseudonym, kPseudonym);  // same person, same pseudonym
  EXPECT_EQ(r->patients[0].birth_year, 1987);
  ASSERT_EQ(r->patients[0].observations.size(), 1u);
  EXPECT_EQ(r->patients[0].observations[0].resource_id, "");  // no id in a POST
  ASSERT_EQ(r->issues.size(), 1u) << Describe(*r);
  EXPECT_EQ(r->issues[0].field, "entry[3].resource");
}

TEST(FhirIngest, SingleResourceAndBundleTypes) {
  auto single = IngestFhir(Cgm("cgm-1", "2024-05-02T06:15:00Z", 120, "mg/dL"), Options());
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  ASSERT_EQ(single->issues.size(), 1u);
  EXPECT_EQ(single->issues[0].resource_id, "Observation/cgm-1");
  EXPECT_EQ(single->issues[0].field, "subject.reference");

  auto document = IngestFhir(R"({"resourceType": "Bundle", "type": "document", "entry": []})", Options());
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kUnsupported);
  auto empty = IngestFhir(R"({"resourceType": "Bundle", "type": "collection"})", Options());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->patients.empty());
  auto no_type = IngestFhir(R"({"id": "x"})", Options());
  ASSERT_FALSE(no_type.ok());
  EXPECT_EQ(no_type.status().code(), ErrorCode::kParseError);
}

TEST(FhirIngest, MalformedJsonGivesTheByteOffset) {
  const std::string text = R"({"resourceType": "Bundle", "type": "collection", "entry": [}})";
  const std::size_t bad = text.find("[}") + 1;  // the '}' where a value should be
  auto r = IngestFhir(text, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kParseError);
  EXPECT_NE(r.status().message().find("at byte offset " + std::to_string(bad) + " "), std::string::npos)
      << r.status().message();
  // The parser's "last read" echo of the input is cut.
  auto leak = IngestFhir(R"({"name": "Vermeulen" "x"})", Options());
  ASSERT_FALSE(leak.ok());
  EXPECT_EQ(leak.status().message().find("Vermeulen"), std::string::npos) << leak.status().message();
}

TEST(FhirIngest, SizeLimits) {
  FhirIngestOptions o = Options();
  o.max_bytes = 100;
  auto big = IngestFhir(T1dBundle(), o);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(big.status().message().find("max_bytes"), std::string::npos);

  o = Options();
  o.max_entries = 3;
  auto many = IngestFhir(T1dBundle(), o);
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(many.status().message().find("max_entries"), std::string::npos);

  auto deep = IngestFhir(std::string(100000, '[') + std::string(100000, ']'), Options());
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().code(), ErrorCode::kResourceExhausted);
}

TEST(FhirIngest, OptionsAreValidated) {
  FhirIngestOptions o;
  o.node_secret = "short";
  auto r = IngestFhir(T1dBundle(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("FhirIngestOptions::node_secret"), std::string::npos);
  o = Options();
  o.observation_units = {{"99504-3", "mg/dX"}};
  EXPECT_EQ(o.Validate().code(), ErrorCode::kInvalidArgument);
  o = Options();
  o.max_depth = 2;
  EXPECT_EQ(o.Validate().code(), ErrorCode::kInvalidArgument);
}

TEST(FhirIngest, MealCodesAreAnOption) {
  FhirIngestOptions o = Options();
  o.meal_loinc_codes = {"2339-0"};  // an odd choice, but the caller's to make
  auto r = IngestFhir(Bundle("collection", {kPatient, kConsent, MealObs("meal-1", "2024-05-02T06:00:00Z", 30, "g")}),
                      o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->patients.size(), 1u);
  EXPECT_TRUE(r->patients[0].meals.empty());
  EXPECT_EQ(r->patients[0].observations.size(), 1u);  // 9059-7 is now an ordinary observation
}

TEST(Loinc, TableIsConsistent) {
  for (const LoincInfo& info : KnownLoincCodes()) {
    EXPECT_FALSE(info.display.empty()) << info.code;
    EXPECT_EQ(FindLoinc(info.code), &info);
  }
  ASSERT_NE(FindLoinc("99504-3"), nullptr);
  EXPECT_EQ(FindLoinc("99504-3")->molar_mass_g_per_mol, kGlucoseMolarMass);
  EXPECT_EQ(FindLoinc("0000-0"), nullptr);
}

}  // namespace
}  // namespace soma::formats
