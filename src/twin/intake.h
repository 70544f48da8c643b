#pragma once
// Clinical data into a twin: a pseudonymised patient record (FHIR or CSV
// intake, formats/fhir) mapped through the twin definition into observations
// on model symbols and scenario-format interventions in model time.
//
// Observations whose LOINC code has no mapping, meals without a meal input,
// doses matching no dose mapping or lacking the amount/rate their mapping
// needs, and values whose unit cannot be converted each become one issue
// ({"resource_id", "field", "reason"}); nothing is dropped silently. Issue
// texts never quote identifying values (the intake has removed them).
//
// Thread safety: plain functions.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "formats/fhir/clinical_data.h"
#include "formats/fhir/csv_ingest.h"
#include "formats/fhir/fhir_ingest.h"
#include "twin/definition.h"
#include "twin/state.h"

namespace soma::twin {

struct TwinData {
  std::vector<TwinObservation> observations;  // sorted by time
  Json interventions = Json::array();         // scenario format, model time
  Json issues = Json::array();
};

// FHIR intake options for a definition: observation units converted to the
// mappings' units, consent required.
formats::FhirIngestOptions FhirOptionsFor(const TwinDefinition& def, const std::string& node_secret);
formats::CsvIngestOptions CsvOptionsFor(const TwinDefinition& def, const std::string& node_secret);

// The earliest time (Unix seconds) of any record of the patient, or
// `fallback` when it has none.
std::int64_t EarliestTime(const formats::PatientRecord& patient, std::int64_t fallback);

// Maps one patient's records; model time t = (unix - origin) / time_unit_seconds.
TwinData MapPatientData(const TwinDefinition& def, const formats::PatientRecord& patient, std::int64_t origin);

// Planned actions for a what-if forecast, in the clinical terms of the
// definition, as scenario-format interventions in model time. "in" (and an
// infusion's "for") are model time units after `now`:
//   {"meal": grams, "in": t}  (the definition's meal input)
//   {"dose": "<dose mapping name>", "amount": v, "unit": "U", "in": t}  a bolus mapping
//   {"dose": "<dose mapping name>", "rate": v, "unit": "U/h", "in": t, "for": d}  an infusion mapping
// Units are converted to the mapping's (UCUM). Errors: kInvalidArgument
// naming the field under `where` (e.g. "scenarios[1].actions[0].unit").
Result<Json> PlannedInterventions(const TwinDefinition& def, const Json& actions, double now,
                                  const std::string& where);

}  // namespace soma::twin
