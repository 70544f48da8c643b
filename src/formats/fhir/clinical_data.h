#pragma once
// The pseudonymised clinical data Soma keeps from FHIR bundles and CSV time
// series: per patient a keyed pseudonym, birth year, administrative gender,
// consent, and time-sorted observations, doses and meals. Nothing here can
// hold a name, address, telecom, identifier or exact birth date; see
// docs/clinical-data.md for what is read and what is dropped.
//
// Times are Unix seconds (UTC), fractional seconds truncated toward the past.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace soma::formats {

// One measurement: a LOINC-coded quantity at an instant.
struct ClinicalObservation {
  std::string resource_id;  // Observation.id (or CSV "row N"); components share their panel's id
  std::string loinc;        // e.g. "99504-3"
  std::string display;      // from the LOINC table when known, else Coding.display
  std::int64_t time = 0;    // effectiveDateTime or effectivePeriod.start
  double value = 0;
  std::string unit;         // UCUM code as given, or the target unit it was converted to
};

// A drug administration: a bolus (amount, end == start) or an infusion
// (rate over [start, end]); an infusion may also carry its total amount.
struct Dose {
  std::string resource_id;
  std::string medication_system;  // Coding.system of medicationCodeableConcept, may be empty
  std::string medication_code;    // Coding.code, may be empty when only text is given
  std::string medication_text;    // CodeableConcept.text or Coding.display
  std::string route_code;         // dosage.route Coding.code (e.g. SNOMED 34206005), may be empty
  std::string route_text;         // dosage.route text or Coding.display, may be empty
  std::int64_t start = 0;
  std::int64_t end = 0;           // == start for a bolus
  std::optional<double> amount;   // dosage.dose.value
  std::string amount_unit;        // its UCUM code as given ("U" is read as [iU])
  std::optional<double> rate;     // dosage.rateQuantity, or rateRatio numerator/denominator
  std::string rate_unit;          // UCUM code of the rate, e.g. "U/h"
};

// Carbohydrate intake (a meal).
struct Meal {
  std::string resource_id;
  std::int64_t time = 0;
  double carbohydrate_g = 0;  // converted to grams through UCUM
};

enum class Gender { kUnknown, kMale, kFemale, kOther };

struct PatientRecord {
  std::string pseudonym;               // "psn-" + 32 hex digits, see pseudonym.h
  std::optional<int> birth_year;       // the year of Patient.birthDate only
  Gender gender = Gender::kUnknown;    // Patient.gender (administrative)
  bool consent = false;                // an active permit Consent names this patient
  std::vector<ClinicalObservation> observations;  // sorted by time, then resource_id
  std::vector<Dose> doses;                        // sorted by start, then resource_id
  std::vector<Meal> meals;                        // sorted by time, then resource_id
};

// A record that was not taken in, and why. Every skipped record gives one.
struct IngestIssue {
  std::string resource_id;  // "Observation/obs-1"; for a Patient "Patient/<pseudonym>"
                            // (its own id may be identifying); CSV: "row 7"
  std::string field;        // JSON path, e.g. "entry[3].resource.valueQuantity.code"
  std::string reason;       // never quotes identifying values
};

struct ClinicalBundle {
  std::vector<PatientRecord> patients;  // sorted by pseudonym
  std::vector<IngestIssue> issues;      // in input order
  std::size_t records_read = 0;         // resources (FHIR) or data rows (CSV) seen
};

std::string_view GenderName(Gender gender);  // "male", "female", "other", "unknown"

// Serialises the bundle (pseudonymised data and issues only) as compact JSON:
// {"patients":[{"pseudonym":..,"birth_year":..,"gender":..,"consent":..,
// "observations":[..],"doses":[..],"meals":[..]}],"issues":[..],"records_read":N}.
std::string ToJson(const ClinicalBundle& bundle);

}  // namespace soma::formats
