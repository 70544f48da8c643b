#include "formats/fhir/csv_ingest.h"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <vector>

#include "formats/fhir/fhir_time.h"
#include "formats/fhir/ingest_common.h"
#include "formats/fhir/pseudonym.h"

namespace soma::formats {
namespace {

constexpr std::array<std::string_view, 5> kColumns = {"patient", "time", "loinc", "value", "unit"};

// Splits one CSV record. Quoted fields may contain commas and doubled quotes
// but, for simplicity, not line breaks. False on a malformed quote.
bool SplitRecord(std::string_view line, std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  std::size_t i = 0;
  while (true) {
    field.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      if (i < line.size() && line[i] != ',') return false;
    } else {
      while (i < line.size() && line[i] != ',') {
        if (line[i] == '"') return false;
        field += line[i++];
      }
    }
    fields.push_back(field);
    if (i >= line.size()) return true;
    ++i;  // ','
  }
}

bool ParseNumber(const std::string& text, double& out) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) return false;
  }
  errno = 0;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && errno == 0 && std::isfinite(out);
}

}  // namespace

Status CsvIngestOptions::Validate() const {
  SOMA_RETURN_IF_ERROR(
      internal::ValidateCommon("CsvIngestOptions", node_secret, meal_loinc_codes, observation_units, max_bytes));
  if (max_rows == 0) return InvalidArgument("CsvIngestOptions::max_rows = 0; must be > 0");
  return Status::Ok();
}

Result<ClinicalBundle> IngestCsvTimeSeries(std::string_view csv, const CsvIngestOptions& options) {
  SOMA_RETURN_IF_ERROR(options.Validate());
  if (csv.size() > options.max_bytes) {
    return ResourceExhausted("CSV of " + std::to_string(csv.size()) +
                             " bytes exceeds CsvIngestOptions::max_bytes = " + std::to_string(options.max_bytes));
  }
  const internal::QuantityRules rules{&options.meal_loinc_codes, &options.observation_units};
  ClinicalBundle bundle;
  std::vector<IngestIssue> issues;
  struct Patient {
    PatientRecord record;
  };
  std::map<std::string, Patient> patients;  // by pseudonym
  std::array<std::size_t, kColumns.size()> column{};
  bool have_header = false;
  std::vector<std::string> fields;

  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < csv.size()) {
    std::size_t eol = csv.find('\n', pos);
    if (eol == std::string_view::npos) eol = csv.size();
    std::string_view line = csv.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::string row_id = "line " + std::to_string(line_no);

    if (!have_header) {
      if (!SplitRecord(line, fields) || fields.size() != kColumns.size()) {
        return ParseError("CSV line " + std::to_string(line_no) + ": header must be the columns " +
                          "patient,time,loinc,value,unit (any order)");
      }
      std::array<bool, kColumns.size()> seen{};
      for (std::size_t f = 0; f < fields.size(); ++f) {
        std::size_t c = 0;
        while (c < kColumns.size() && kColumns[c] != fields[f]) ++c;
        if (c == kColumns.size() || seen[c]) {
          return ParseError("CSV line " + std::to_string(line_no) + ": header column " + std::to_string(f + 1) +
                            " is not one of patient,time,loinc,value,unit or repeats one");
        }
        seen[c] = true;
        column[c] = f;
      }
      have_header = true;
      continue;
    }

    if (++bundle.records_read > options.max_rows) {
      return ResourceExhausted("CSV has more than CsvIngestOptions::max_rows = " + std::to_string(options.max_rows) +
                               " data rows");
    }
    if (!SplitRecord(line, fields) || fields.size() != kColumns.size()) {
      issues.push_back({row_id, "(row)", "expected 5 comma-separated fields with balanced quotes"});
      continue;
    }
    const std::string& key = fields[column[0]];
    const std::string& time_text = fields[column[1]];
    const std::string& loinc = fields[column[2]];
    const std::string& value_text = fields[column[3]];
    const std::string& unit = fields[column[4]];
    if (key.empty()) {
      issues.push_back({row_id, "patient", "empty"});
      continue;
    }
    auto time = ParseFhirDateTime(time_text);
    if (!time.ok()) {
      issues.push_back({row_id, "time", "unparseable time: " + time.status().message()});
      continue;
    }
    if (time->precision != DatePrecision::kSecond) {
      issues.push_back({row_id, "time", "partial date; a time of day with a timezone offset is required"});
      continue;
    }
    if (loinc.empty()) {
      issues.push_back({row_id, "loinc", "empty"});
      continue;
    }
    double value = 0;
    if (!ParseNumber(value_text, value)) {
      issues.push_back({row_id, "value", "not a finite decimal number"});
      continue;
    }
    auto rec = internal::MakeQuantityRecord(rules, row_id, loinc, "", time->unix_seconds, value, unit);
    if (auto* problem = std::get_if<internal::QuantityProblem>(&rec)) {
      issues.push_back({row_id, problem->field == internal::QuantityField::kUnit ? "unit" : "value", problem->reason});
      continue;
    }
    const std::string pseudonym = Pseudonymise(options.node_secret, key);
    Patient& p = patients[pseudonym];
    if (p.record.pseudonym.empty()) {
      p.record.pseudonym = pseudonym;
      p.record.consent = options.consented_patients.count(key) != 0;
    }
    if (options.require_consent && !p.record.consent) {
      issues.push_back({row_id, "patient", "no active consent"});
      continue;
    }
    if (auto* obs = std::get_if<ClinicalObservation>(&rec)) p.record.observations.push_back(std::move(*obs));
    if (auto* meal = std::get_if<Meal>(&rec)) p.record.meals.push_back(*meal);
  }
  if (!have_header) return ParseError("CSV has no header line (patient,time,loinc,value,unit)");
  for (auto& [pseudonym, p] : patients) {
    if (options.require_consent && !p.record.consent) continue;
    bundle.patients.push_back(std::move(p.record));
  }
  bundle.issues = std::move(issues);
  internal::SortBundle(bundle);
  return bundle;
}

}  // namespace soma::formats
