#pragma once
// FHIR R4 JSON intake: Bundles (type collection or transaction) or a single
// resource, reading Patient, Observation, MedicationAdministration and Consent
// into the pseudonymised ClinicalBundle of clinical_data.h.
//
// What is read, per resource (everything else in a resource is ignored and
// never copied; docs/clinical-data.md has the full account):
//  * Patient: identifier[] (only to derive the pseudonym, see pseudonym.h),
//    id (the same, when no identifier has a value), birthDate (year only),
//    gender. Names, telecom, address, photo, contact, exact birth date,
//    identifiers, deceased[x], maritalStatus ... are dropped.
//  * Observation: status, subject, code (the LOINC coding), effectiveDateTime
//    | effectivePeriod.start | effectiveInstant (a full time with timezone;
//    partial dates are rejected), valueQuantity {value, system, code},
//    component[] (e.g. blood pressure panel 85354-9 with 8480-6 / 8462-4).
//    Codes in FhirIngestOptions::meal_loinc_codes become meals (grams).
//  * MedicationAdministration: status, subject, medicationCodeableConcept,
//    effectiveDateTime | effectivePeriod, dosage.route, dosage.dose,
//    dosage.rateQuantity | dosage.rateRatio. Dose units are parsed with
//    "U" read as the international unit [iU] (insulin), see units/ucum.h.
//  * Consent: status, provision.type, patient. An "active" Consent with
//    provision.type "permit" sets the patient's consent; an active "deny"
//    overrides any permit.
// Any other resourceType is reported as an issue.
//
// Every record that is not taken in yields an IngestIssue naming the
// resource, the JSON path of the field and the reason; the other records of
// the same bundle go through. Issue reasons never quote names, identifiers,
// references or birth dates.
//
// Thread safety: IngestFhir is a pure function of its arguments.

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "core/status.h"
#include "formats/fhir/clinical_data.h"

namespace soma::formats {

struct FhirIngestOptions {
  // The node's secret key for the pseudonym HMAC. Required: at least 16
  // bytes. Never logged or copied into output.
  std::string node_secret;
  // When true (the default), patients without an active permit Consent are
  // left out entirely and each of their records is reported as "no active
  // consent". When false, they are kept with consent = false, and callers
  // must check PatientRecord::consent before any use.
  bool require_consent = true;
  // Observation codes that are carbohydrate intake (meals), in grams after
  // UCUM conversion. Default: LOINC 9059-7.
  std::set<std::string> meal_loinc_codes = {"9059-7"};
  // Optional target UCUM unit per LOINC code, e.g. {"99504-3", "mg/dL"}:
  // values are converted on ingest (mass <-> amount with the molar mass of
  // loinc.h). Codes not listed keep the unit as given. Default: none.
  std::map<std::string, std::string> observation_units;
  // Inputs longer than this are rejected with kResourceExhausted. Default 64 MiB.
  std::size_t max_bytes = std::size_t{64} << 20;
  // Bundles with more entries are rejected with kResourceExhausted. Default 100,000.
  std::size_t max_entries = 100'000;
  // JSON nested deeper than this is rejected with kResourceExhausted
  // (checked before parsing). Default 64; FHIR resources need about 10.
  std::size_t max_depth = 64;

  // kInvalidArgument naming the field and the rule it broke.
  Status Validate() const;
};

// Reads a FHIR R4 JSON Bundle (type "collection" or "transaction") or one
// resource. Errors (the whole input is refused):
//  * kInvalidArgument: options fail Validate();
//  * kResourceExhausted: json larger than max_bytes, deeper than max_depth,
//    or with more than max_entries entries;
//  * kParseError: malformed JSON (message gives the byte offset), or the top
//    level is not an object with a string resourceType;
//  * kUnsupported: a Bundle whose type is not collection or transaction.
// Record-level problems are IngestIssues in the result, not errors.
Result<ClinicalBundle> IngestFhir(std::string_view json, const FhirIngestOptions& options);

}  // namespace soma::formats
