#pragma once
// Internal to soma::formats_fhir: the JSON helpers and per-resource readers
// shared by fhir_ingest.cpp and fhir_records.cpp.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/fhir/clinical_data.h"
#include "formats/fhir/fhir_ingest.h"
#include "formats/fhir/ingest_common.h"

namespace soma::formats::internal {

using Json = nlohmann::json;

// Where a resource sits in the input, for issue paths and ids.
struct EntryContext {
  std::size_t index = 0;   // entry index (0 for a single resource)
  std::string path;        // "entry[3].resource." or "" for a single resource
  std::string issue_id;    // "Observation/obs-1" or "Observation (entry[3])"
  std::string record_id;   // Observation.id, or "" when absent
};

// Issues in input order (sorted by entry index at the end).
class IssueSink {
 public:
  void Add(const EntryContext& ctx, std::string_view field, std::string reason) {
    Add(ctx.index, ctx.issue_id, ctx.path + std::string(field), std::move(reason));
  }
  void Add(std::size_t index, std::string resource_id, std::string field, std::string reason) {
    items_.push_back({index, IngestIssue{std::move(resource_id), std::move(field), std::move(reason)}});
  }
  std::vector<IngestIssue> Take();

 private:
  std::vector<std::pair<std::size_t, IngestIssue>> items_;
};

// What one Observation or MedicationAdministration produced.
struct RecordOutput {
  std::vector<ClinicalObservation> observations;
  std::vector<Meal> meals;
  std::optional<Dose> dose;
  bool Empty() const { return observations.empty() && meals.empty() && !dose; }
};

// A member of an object, or nullptr when `j` is not an object or lacks it.
const Json* Member(const Json& j, const char* key);
// A string member, or nullptr when missing or not a string.
const std::string* StringMember(const Json& j, const char* key);

// Reads a full FHIR dateTime (seconds precision with timezone) at `field`;
// reports an issue and returns nullopt otherwise.
std::optional<std::int64_t> ReadInstant(const Json& value, const EntryContext& ctx, const std::string& field,
                                        IssueSink& issues);

// Readers: on success fill `out`, report problems to `issues`.
void ReadObservation(const Json& r, const EntryContext& ctx, const QuantityRules& rules, RecordOutput& out,
                     IssueSink& issues);
void ReadMedicationAdministration(const Json& r, const EntryContext& ctx, RecordOutput& out, IssueSink& issues);

}  // namespace soma::formats::internal
