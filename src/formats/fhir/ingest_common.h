#pragma once
// Shared by the FHIR and CSV readers (internal to soma::formats_fhir): turning
// a LOINC-coded quantity into an observation or a meal, with unit checks.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <variant>

#include "core/status.h"
#include "formats/fhir/clinical_data.h"

namespace soma::formats::internal {

struct QuantityRules {
  const std::set<std::string>* meal_loinc_codes;
  const std::map<std::string, std::string>* observation_units;
};

// Which input field a QuantityProblem is about.
enum class QuantityField { kValue, kUnit };

struct QuantityProblem {
  QuantityField field;
  std::string reason;
};

// Checks `unit` (UCUM), its dimension against the LOINC table, converts to a
// target unit or to grams for meals. `display` is used when the code is not
// in the table.
std::variant<ClinicalObservation, Meal, QuantityProblem> MakeQuantityRecord(
    const QuantityRules& rules, const std::string& resource_id, const std::string& loinc, const std::string& display,
    std::int64_t time, double value, const std::string& unit);

// Sorts each patient's lists by time (then resource id) and the patients by
// pseudonym.
void SortBundle(ClinicalBundle& bundle);

// Checks the options shared by both readers; `owner` names the struct.
Status ValidateCommon(std::string_view owner, const std::string& node_secret,
                      const std::set<std::string>& meal_loinc_codes,
                      const std::map<std::string, std::string>& observation_units, std::size_t max_bytes);

}  // namespace soma::formats::internal
