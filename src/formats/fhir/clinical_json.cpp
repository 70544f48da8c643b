#include <nlohmann/json.hpp>

#include "formats/fhir/clinical_data.h"

namespace soma::formats {

std::string_view GenderName(Gender gender) {
  switch (gender) {
    case Gender::kMale: return "male";
    case Gender::kFemale: return "female";
    case Gender::kOther: return "other";
    case Gender::kUnknown: break;
  }
  return "unknown";
}

std::string ToJson(const ClinicalBundle& bundle) {
  using nlohmann::json;
  json patients = json::array();
  for (const PatientRecord& p : bundle.patients) {
    json obs = json::array();
    for (const ClinicalObservation& o : p.observations) {
      obs.push_back({{"resource_id", o.resource_id}, {"loinc", o.loinc}, {"display", o.display},
                     {"time", o.time}, {"value", o.value}, {"unit", o.unit}});
    }
    json doses = json::array();
    for (const Dose& d : p.doses) {
      json j = {{"resource_id", d.resource_id}, {"medication_system", d.medication_system},
                {"medication_code", d.medication_code}, {"medication_text", d.medication_text},
                {"route_code", d.route_code}, {"route_text", d.route_text},
                {"start", d.start}, {"end", d.end}};
      if (d.amount) {
        j["amount"] = *d.amount;
        j["amount_unit"] = d.amount_unit;
      }
      if (d.rate) {
        j["rate"] = *d.rate;
        j["rate_unit"] = d.rate_unit;
      }
      doses.push_back(std::move(j));
    }
    json meals = json::array();
    for (const Meal& m : p.meals) {
      meals.push_back({{"resource_id", m.resource_id}, {"time", m.time}, {"carbohydrate_g", m.carbohydrate_g}});
    }
    json jp = {{"pseudonym", p.pseudonym}, {"gender", GenderName(p.gender)}, {"consent", p.consent},
               {"observations", std::move(obs)}, {"doses", std::move(doses)}, {"meals", std::move(meals)}};
    jp["birth_year"] = p.birth_year ? json(*p.birth_year) : json(nullptr);
    patients.push_back(std::move(jp));
  }
  json issues = json::array();
  for (const IngestIssue& i : bundle.issues) {
    issues.push_back({{"resource_id", i.resource_id}, {"field", i.field}, {"reason", i.reason}});
  }
  json out = {{"patients", std::move(patients)}, {"issues", std::move(issues)},
              {"records_read", bundle.records_read}};
  // Replace invalid UTF-8 rather than throw: input strings are copied through.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace soma::formats
