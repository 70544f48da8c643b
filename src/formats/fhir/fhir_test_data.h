#pragma once
// FHIR test inputs shared by the FHIR and CSV tests: a type 1 diabetes
// patient with CGM, insulin and meals, written as an EHR would send them.

#include <initializer_list>
#include <string>
#include <string_view>

namespace soma::formats::testing {

inline constexpr std::string_view kSecret = "node-secret-0123456789abcdef";
inline constexpr std::string_view kPatientKey = "urn:oid:2.16.840.1.113883.2.4.6.3|999911120";
// First 32 hex digits of HMAC-SHA256(kSecret, kPatientKey), computed with
// `openssl dgst -sha256 -hmac`.
inline constexpr std::string_view kPseudonym = "psn-cfbbe0d1f8cf913b7dda6a397e9ecb57";

// Unix seconds of 2024-05-02T06:15:00Z (Python calendar.timegm).
inline constexpr long long k0615Z = 1714630500;

inline const char* kPatient = R"({
  "resourceType": "Patient", "id": "pat-7f3a",
  "identifier": [{"use": "official", "system": "urn:oid:2.16.840.1.113883.2.4.6.3", "value": "999911120"},
                 {"system": "http://hospital.example.org/mrn", "value": "MRN-445566"}],
  "name": [{"family": "Vermeulen", "given": ["Annelies", "Maria"]}],
  "telecom": [{"system": "phone", "value": "+31 6 12345678"},
              {"system": "email", "value": "annelies.vermeulen@example.nl"}],
  "gender": "female", "birthDate": "1987-03-14",
  "address": [{"line": ["Prinsengracht 263"], "city": "Amsterdam", "postalCode": "1016 GV"}],
  "photo": [{"contentType": "image/png", "data": "iVBORw0KGgoAAAANSUhEUg"}],
  "maritalStatus": {"text": "Getrouwd"},
  "contact": [{"name": {"family": "Vermeulen", "given": ["Joost"]},
               "telecom": [{"system": "phone", "value": "+31 20 5556677"}]}]
})";

// Every identifying string of kPatient, to scan outputs for.
inline constexpr std::string_view kIdentifyingStrings[] = {
    "pat-7f3a", "999911120", "MRN-445566", "Vermeulen", "Annelies", "Maria", "+31 6 12345678",
    "annelies.vermeulen", "1987-03-14", "Prinsengracht", "Amsterdam", "1016 GV", "iVBORw0KGgo",
    "Getrouwd", "Joost", "+31 20 5556677", "2.16.840.1.113883.2.4.6.3"};

inline const char* kConsent = R"({
  "resourceType": "Consent", "id": "consent-1", "status": "active",
  "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "research"}]},
  "patient": {"reference": "Patient/pat-7f3a", "display": "Annelies Vermeulen"},
  "provision": {"type": "permit"}
})";

inline std::string Cgm(const std::string& id, const std::string& time, double value, const std::string& unit) {
  return R"({"resourceType": "Observation", "id": ")" + id + R"(", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "99504-3",
                       "display": "Glucose [Mass/volume] in Interstitial fluid"}]},
  "subject": {"reference": "Patient/pat-7f3a", "display": "Annelies Vermeulen"},
  "effectiveDateTime": ")" + time + R"(",
  "valueQuantity": {"value": )" + std::to_string(value) + R"(, "unit": ")" + unit +
         R"(", "system": "http://unitsofmeasure.org", "code": ")" + unit + R"("}})";
}

inline std::string Bundle(std::string_view type, std::initializer_list<std::string> resources) {
  std::string out = R"({"resourceType": "Bundle", "type": ")" + std::string(type) + R"(", "entry": [)";
  bool first = true;
  for (const std::string& r : resources) {
    if (!first) out += ",";
    first = false;
    out += R"({"resource": )" + r + "}";
  }
  return out + "]}";
}

}  // namespace soma::formats::testing
