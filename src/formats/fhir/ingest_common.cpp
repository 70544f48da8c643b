#include "formats/fhir/ingest_common.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "formats/fhir/loinc.h"
#include "units/ucum.h"

namespace soma::formats::internal {

std::variant<ClinicalObservation, Meal, QuantityProblem> MakeQuantityRecord(
    const QuantityRules& rules, const std::string& resource_id, const std::string& loinc, const std::string& display,
    std::int64_t time, double value, const std::string& unit) {
  if (!std::isfinite(value)) return QuantityProblem{QuantityField::kValue, "not a finite number"};
  auto parsed = units::ParseUnit(unit);
  if (!parsed.ok()) {
    return QuantityProblem{QuantityField::kUnit, "unknown or malformed UCUM unit: " + parsed.status().message()};
  }
  const LoincInfo* info = FindLoinc(loinc);
  const units::ConversionOptions conv{.molar_mass_g_per_mol = info != nullptr ? info->molar_mass_g_per_mol : 0.0};

  if (rules.meal_loinc_codes->count(loinc) != 0) {
    auto grams = units::ParseUnit("g");
    auto c = units::MakeConversion(*parsed, *grams, conv);
    if (!c.ok()) {
      return QuantityProblem{QuantityField::kUnit, "carbohydrate intake must be a mass: " + c.status().message()};
    }
    const double g = c->Apply(value);
    if (g < 0) return QuantityProblem{QuantityField::kValue, "negative carbohydrate intake"};
    return Meal{.resource_id = resource_id, .time = time, .carbohydrate_g = g};
  }

  if (info != nullptr) {
    auto example = units::ParseUnit(info->example_unit);
    if (example.ok() && !units::MakeConversion(*parsed, *example, conv).ok()) {
      return QuantityProblem{QuantityField::kUnit, "unit '" + unit + "' does not fit LOINC " + loinc + " (" +
                                                       std::string(info->display) + "; expects a unit like '" +
                                                       std::string(info->example_unit) + "')"};
    }
  }
  ClinicalObservation obs{.resource_id = resource_id,
                          .loinc = loinc,
                          .display = info != nullptr ? std::string(info->display) : display,
                          .time = time,
                          .value = value,
                          .unit = unit};
  auto target = rules.observation_units->find(loinc);
  if (target != rules.observation_units->end() && target->second != unit) {
    auto to = units::ParseUnit(target->second);
    if (!to.ok()) return QuantityProblem{QuantityField::kUnit, to.status().message()};
    auto c = units::MakeConversion(*parsed, *to, conv);
    if (!c.ok()) return QuantityProblem{QuantityField::kUnit, c.status().message()};
    obs.value = c->Apply(value);
    obs.unit = target->second;
  }
  return obs;
}

void SortBundle(ClinicalBundle& bundle) {
  for (PatientRecord& p : bundle.patients) {
    std::stable_sort(p.observations.begin(), p.observations.end(), [](const auto& a, const auto& b) {
      return std::tie(a.time, a.resource_id) < std::tie(b.time, b.resource_id);
    });
    std::stable_sort(p.doses.begin(), p.doses.end(), [](const auto& a, const auto& b) {
      return std::tie(a.start, a.resource_id) < std::tie(b.start, b.resource_id);
    });
    std::stable_sort(p.meals.begin(), p.meals.end(), [](const auto& a, const auto& b) {
      return std::tie(a.time, a.resource_id) < std::tie(b.time, b.resource_id);
    });
  }
  std::sort(bundle.patients.begin(), bundle.patients.end(),
            [](const auto& a, const auto& b) { return a.pseudonym < b.pseudonym; });
}

Status ValidateCommon(std::string_view owner, const std::string& node_secret,
                      const std::set<std::string>& meal_loinc_codes,
                      const std::map<std::string, std::string>& observation_units, std::size_t max_bytes) {
  const std::string o(owner);
  if (node_secret.size() < 16) {
    return InvalidArgument(o + "::node_secret has " + std::to_string(node_secret.size()) +
                           " bytes; must have at least 16");
  }
  if (max_bytes == 0) return InvalidArgument(o + "::max_bytes = 0; must be > 0");
  for (const std::string& code : meal_loinc_codes) {
    if (code.empty()) return InvalidArgument(o + "::meal_loinc_codes holds an empty code");
  }
  for (const auto& [loinc, unit] : observation_units) {
    if (meal_loinc_codes.count(loinc) != 0) {
      return InvalidArgument(o + "::observation_units[" + loinc + "]: a meal code is always converted to g");
    }
    auto parsed = units::ParseUnit(unit);
    if (!parsed.ok()) return InvalidArgument(o + "::observation_units[" + loinc + "] = '" + unit + "': " +
                                             parsed.status().message());
  }
  return Status::Ok();
}

}  // namespace soma::formats::internal
