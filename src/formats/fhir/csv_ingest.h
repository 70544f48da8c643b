#pragma once
// CSV time series intake (e.g. a CGM or wearable export) into the same
// pseudonymised ClinicalBundle as FHIR.
//
// Layout (RFC 4180 quoting; UTF-8; LF or CRLF line ends):
//   # lines starting with '#' are comments; blank lines are skipped
//   patient,time,loinc,value,unit
//   urn:oid:2.16.840.1.113883.2.4.6.3|123456789,2024-05-02T10:15:00+02:00,99504-3,120,mg/dL
//   urn:oid:2.16.840.1.113883.2.4.6.3|123456789,2024-05-02T12:00:00Z,9059-7,45,g
// The first other line is the header: exactly the five columns patient, time,
// loinc, value, unit, in any order. Then one measurement per row:
//  * patient: the pseudonymisation key, the same string FHIR intake hashes,
//    i.e. "system|value" of the patient's identifier (or a bare Patient id),
//    so that CSV and FHIR data of one patient share one pseudonym. It is
//    never copied into the output or into issues.
//  * time: a FHIR dateTime with seconds and timezone offset.
//  * loinc: a LOINC code; CsvIngestOptions::meal_loinc_codes become meals.
//  * value: a decimal number; unit: a UCUM code.
// Records are named "line N" (1-based line of the file) in the output and in
// issues; issue fields are the column names ("value", "unit", ...).

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "core/status.h"
#include "formats/fhir/clinical_data.h"

namespace soma::formats {

struct CsvIngestOptions {
  // The node's secret key for the pseudonym HMAC; at least 16 bytes.
  std::string node_secret;
  // As FhirIngestOptions::require_consent. A CSV file carries no Consent:
  // the caller lists the patient keys with an active permit Consent on record.
  bool require_consent = true;
  std::set<std::string> consented_patients;
  std::set<std::string> meal_loinc_codes = {"9059-7"};
  std::map<std::string, std::string> observation_units;  // as FhirIngestOptions
  std::size_t max_bytes = std::size_t{64} << 20;          // default 64 MiB
  std::size_t max_rows = 1'000'000;                       // data rows; default 1,000,000

  Status Validate() const;
};

// Errors: kInvalidArgument (options), kResourceExhausted (max_bytes,
// max_rows), kParseError (no header or a header that is not the five columns).
// Bad rows are IngestIssues.
Result<ClinicalBundle> IngestCsvTimeSeries(std::string_view csv, const CsvIngestOptions& options);

}  // namespace soma::formats
