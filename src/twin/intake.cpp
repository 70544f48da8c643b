// Mapping pseudonymised clinical records onto a twin's model.

#include "twin/intake.h"

#include <algorithm>
#include <cmath>

#include "formats/fhir/loinc.h"
#include "units/ucum.h"

namespace soma::twin {

namespace {

Json Issue(const std::string& resource, const std::string& field, const std::string& reason) {
  return {{"resource_id", resource}, {"field", field}, {"reason", reason}};
}

const DoseMapping* MatchDose(const TwinDefinition& def, const formats::Dose& d) {
  for (const DoseMapping& m : def.doses) {
    if (!m.medication_code.empty() && m.medication_code != d.medication_code) continue;
    if (!m.route_code.empty() && m.route_code != d.route_code) continue;
    return &m;
  }
  return nullptr;
}

Result<double> ConvertDoseUnit(double value, const std::string& from, const std::string& to) {
  units::ConversionOptions o;
  o.parse.enzyme_unit = units::EnzymeUnitPolicy::kInternationalUnit;
  return units::Convert(value, from, to, o);
}

// A dose through its mapping as a scenario-format intervention: `value` (an
// amount for a bolus, a rate for an infusion) in `unit` is converted to the
// mapping's unit and scaled by its factor. Errors: the unit conversion's.
Result<Json> DoseIntervention(const DoseMapping& m, double value, const std::string& unit, double start,
                              double duration) {
  SOMA_ASSIGN_OR_RETURN(double v, ConvertDoseUnit(value, unit, m.unit));
  if (m.kind == DoseMapping::Kind::kBolus) {
    return Json{{"type", "bolus"}, {"time", start}, {"target", m.target}, {"amount", v * m.factor}};
  }
  return Json{{"type", "infusion"}, {"start", start}, {"duration", duration}, {"target", m.target},
              {"rate", v * m.factor}};
}

}  // namespace

formats::FhirIngestOptions FhirOptionsFor(const TwinDefinition& def, const std::string& node_secret) {
  formats::FhirIngestOptions o;
  o.node_secret = node_secret;
  o.require_consent = true;
  for (const auto& m : def.observations) o.observation_units[m.loinc] = m.unit;
  return o;
}

formats::CsvIngestOptions CsvOptionsFor(const TwinDefinition& def, const std::string& node_secret) {
  formats::CsvIngestOptions o;
  o.node_secret = node_secret;
  for (const auto& m : def.observations) o.observation_units[m.loinc] = m.unit;
  return o;
}

std::int64_t EarliestTime(const formats::PatientRecord& p, std::int64_t fallback) {
  bool any = false;
  std::int64_t t = 0;
  auto see = [&](std::int64_t v) {
    t = any ? std::min(t, v) : v;
    any = true;
  };
  for (const auto& o : p.observations) see(o.time);
  for (const auto& d : p.doses) see(d.start);
  for (const auto& m : p.meals) see(m.time);
  return any ? t : fallback;
}

TwinData MapPatientData(const TwinDefinition& def, const formats::PatientRecord& p, std::int64_t origin) {
  TwinData out;
  const double tu = def.time_unit_seconds;
  auto model_time = [&](std::int64_t unix) { return static_cast<double>(unix - origin) / tu; };
  for (const auto& o : p.observations) {
    const ObservationMapping* m = def.FindObservation(o.loinc);
    if (!m) {
      out.issues.push_back(Issue(o.resource_id, "code", "LOINC " + o.loinc + " is not mapped by the twin definition"));
      continue;
    }
    double value = o.value;
    if (o.unit != m->unit) {
      // Mass <-> amount (glucose mg/dL <-> mmol/L) with the code's molar mass.
      units::ConversionOptions co;
      if (const formats::LoincInfo* info = formats::FindLoinc(o.loinc)) co.molar_mass_g_per_mol = info->molar_mass_g_per_mol;
      auto v = units::Convert(o.value, o.unit, m->unit, co);
      if (!v.ok()) {
        out.issues.push_back(Issue(o.resource_id, "valueQuantity", "unit '" + o.unit + "' cannot be converted to '" +
                                                                     m->unit + "': " + v.status().message()));
        continue;
      }
      value = *v;
    }
    out.observations.push_back({model_time(o.time), o.time, o.loinc, m->symbol, value, m->unit});
  }
  std::stable_sort(out.observations.begin(), out.observations.end(),
                   [](const TwinObservation& a, const TwinObservation& b) { return a.time < b.time; });
  for (const auto& meal : p.meals) {
    if (!def.meal) {
      out.issues.push_back(Issue(meal.resource_id, "code", "a meal, but the twin definition has no inputs.meal"));
      continue;
    }
    if (!(meal.carbohydrate_g > 0)) {
      out.issues.push_back(Issue(meal.resource_id, "valueQuantity", "meal carbohydrate must be > 0 g"));
      continue;
    }
    out.interventions.push_back({{"type", "meal"}, {"time", model_time(meal.time)}, {"grams", meal.carbohydrate_g}});
  }
  for (const auto& d : p.doses) {
    const DoseMapping* m = MatchDose(def, d);
    if (!m) {
      out.issues.push_back(Issue(d.resource_id, "medicationCodeableConcept",
                                 "no dose mapping matches medication '" + d.medication_code + "' by route '" +
                                     d.route_code + "'"));
      continue;
    }
    if (m->kind == DoseMapping::Kind::kBolus) {
      if (!d.amount) {
        out.issues.push_back(Issue(d.resource_id, "dosage.dose", "mapping '" + m->name + "' is a bolus but the dose has no amount"));
        continue;
      }
      auto iv = DoseIntervention(*m, *d.amount, d.amount_unit, model_time(d.start), 0);
      if (!iv.ok()) {
        out.issues.push_back(Issue(d.resource_id, "dosage.dose", iv.status().message()));
        continue;
      }
      out.interventions.push_back(std::move(*iv));
    } else {
      if (!d.rate || d.end <= d.start) {
        out.issues.push_back(Issue(d.resource_id, "dosage.rateQuantity",
                                   "mapping '" + m->name + "' is an infusion but the dose has no rate and period"));
        continue;
      }
      auto iv = DoseIntervention(*m, *d.rate, d.rate_unit, model_time(d.start),
                                 static_cast<double>(d.end - d.start) / tu);
      if (!iv.ok()) {
        out.issues.push_back(Issue(d.resource_id, "dosage.rateQuantity", iv.status().message()));
        continue;
      }
      out.interventions.push_back(std::move(*iv));
    }
  }
  return out;
}

Result<Json> PlannedInterventions(const TwinDefinition& def, const Json& actions, double now,
                                  const std::string& where) {
  if (!actions.is_array()) return InvalidArgument(where + ": must be an array of actions");
  auto number = [](const Json& a, const char* key, const std::string& at, bool positive) -> Result<double> {
    auto it = a.find(key);
    if (it == a.end() || !it->is_number() || !std::isfinite(it->get<double>())) {
      return InvalidArgument(at + "." + key + ": a number is required");
    }
    const double v = it->get<double>();
    if (positive ? !(v > 0) : v < 0) return InvalidArgument(at + "." + key + (positive ? ": must be > 0" : ": must be >= 0"));
    return v;
  };
  Json out = Json::array();
  for (size_t i = 0; i < actions.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    const Json& a = actions[i];
    if (!a.is_object()) return InvalidArgument(at + ": must be an object");
    for (auto it = a.begin(); it != a.end(); ++it) {
      static const std::vector<std::string> kKeys = {"meal", "dose", "amount", "rate", "unit", "in", "for"};
      if (std::find(kKeys.begin(), kKeys.end(), it.key()) == kKeys.end()) {
        return InvalidArgument(at + "." + it.key() + ": unknown field");
      }
    }
    SOMA_ASSIGN_OR_RETURN(double in, number(a, "in", at, false));
    const double time = now + in;
    if (a.contains("meal") == a.contains("dose")) return InvalidArgument(at + ": give either meal (grams) or dose");
    if (a.contains("meal")) {
      if (!def.meal) return InvalidArgument(at + ".meal: this twin's definition has no meal input");
      SOMA_ASSIGN_OR_RETURN(double grams, number(a, "meal", at, true));
      out.push_back({{"type", "meal"}, {"time", time}, {"grams", grams}});
      continue;
    }
    if (!a["dose"].is_string()) return InvalidArgument(at + ".dose: must name one of the definition's doses");
    const std::string name = a["dose"];
    auto m = std::find_if(def.doses.begin(), def.doses.end(), [&](const DoseMapping& d) { return d.name == name; });
    if (m == def.doses.end()) {
      std::string known;
      for (const DoseMapping& d : def.doses) known += (known.empty() ? "" : ", ") + ("'" + d.name + "'");
      return InvalidArgument(at + ".dose: no dose '" + name + "' in this twin's definition (it has " +
                             (known.empty() ? std::string("none") : known) + ")");
    }
    if (!a.contains("unit") || !a["unit"].is_string()) return InvalidArgument(at + ".unit: a UCUM unit is required");
    const bool bolus = m->kind == DoseMapping::Kind::kBolus;
    SOMA_ASSIGN_OR_RETURN(double value, number(a, bolus ? "amount" : "rate", at, true));
    double duration = 0;
    if (!bolus) {
      SOMA_ASSIGN_OR_RETURN(duration, number(a, "for", at, true));
    }
    auto iv = DoseIntervention(*m, value, a["unit"].get<std::string>(), time, duration);
    if (!iv.ok()) return InvalidArgument(at + ".unit: " + iv.status().message());
    out.push_back(std::move(*iv));
  }
  return out;
}

}  // namespace soma::twin
