// Mapping pseudonymised clinical records onto a twin's model.

#include "twin/intake.h"

#include <algorithm>

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
      auto v = ConvertDoseUnit(*d.amount, d.amount_unit, m->unit);
      if (!v.ok()) {
        out.issues.push_back(Issue(d.resource_id, "dosage.dose", v.status().message()));
        continue;
      }
      out.interventions.push_back({{"type", "bolus"}, {"time", model_time(d.start)}, {"target", m->target},
                                   {"amount", *v * m->factor}});
    } else {
      if (!d.rate || d.end <= d.start) {
        out.issues.push_back(Issue(d.resource_id, "dosage.rateQuantity",
                                   "mapping '" + m->name + "' is an infusion but the dose has no rate and period"));
        continue;
      }
      auto v = ConvertDoseUnit(*d.rate, d.rate_unit, m->unit);
      if (!v.ok()) {
        out.issues.push_back(Issue(d.resource_id, "dosage.rateQuantity", v.status().message()));
        continue;
      }
      out.interventions.push_back({{"type", "infusion"}, {"start", model_time(d.start)},
                                   {"duration", static_cast<double>(d.end - d.start) / tu}, {"target", m->target},
                                   {"rate", *v * m->factor}});
    }
  }
  return out;
}

}  // namespace soma::twin
