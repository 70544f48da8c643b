// Readers for Observation and MedicationAdministration. Each problem becomes
// one IngestIssue with the JSON path of the field; what is still good in the
// resource (e.g. the other component of a blood-pressure panel) goes through.

#include <cmath>
#include <string>

#include "formats/fhir/fhir_internal.h"
#include "formats/fhir/fhir_time.h"
#include "units/ucum.h"

namespace soma::formats::internal {
namespace {

constexpr const char* kUcumSystem = "http://unitsofmeasure.org";
constexpr const char* kLoincSystem = "http://loinc.org";

struct Quantity {
  double value = 0;
  std::string code;
};

// Reads a FHIR Quantity at `field` (relative to the resource).
std::optional<Quantity> ReadQuantity(const Json& q, const EntryContext& ctx, const std::string& field,
                                     IssueSink& issues) {
  if (!q.is_object()) {
    issues.Add(ctx, field, "expected a Quantity object");
    return std::nullopt;
  }
  const Json* value = Member(q, "value");
  if (value == nullptr) {
    issues.Add(ctx, field + ".value", "missing");
    return std::nullopt;
  }
  if (!value->is_number() || !std::isfinite(value->get<double>())) {
    issues.Add(ctx, field + ".value", "not a finite number");
    return std::nullopt;
  }
  if (const Json* system = Member(q, "system"); system != nullptr && *system != kUcumSystem) {
    issues.Add(ctx, field + ".system", "not UCUM (expected system http://unitsofmeasure.org)");
    return std::nullopt;
  }
  const std::string* code = StringMember(q, "code");
  if (code == nullptr) {
    issues.Add(ctx, field + ".code",
               StringMember(q, "unit") != nullptr
                   ? "missing UCUM code ('unit' is display text only and is not interpreted)"
                   : "missing UCUM code");
    return std::nullopt;
  }
  return Quantity{value->get<double>(), *code};
}

// The LOINC coding of a CodeableConcept at `field`: (code, display).
std::optional<std::pair<std::string, std::string>> ReadLoinc(const Json& resource, const EntryContext& ctx,
                                                             const std::string& field, IssueSink& issues) {
  const Json* cc = Member(resource, "code");
  const Json* codings = cc != nullptr ? Member(*cc, "coding") : nullptr;
  if (codings != nullptr && codings->is_array()) {
    for (const Json& coding : *codings) {
      const std::string* system = StringMember(coding, "system");
      const std::string* code = StringMember(coding, "code");
      if (system != nullptr && *system == kLoincSystem && code != nullptr && !code->empty()) {
        const std::string* display = StringMember(coding, "display");
        return std::make_pair(*code, display != nullptr ? *display : std::string());
      }
    }
  }
  issues.Add(ctx, field, "no LOINC coding (system http://loinc.org with a code)");
  return std::nullopt;
}

void AddQuantityRecord(const QuantityRules& rules, const EntryContext& ctx, const std::string& loinc,
                       const std::string& display, std::int64_t time, const Quantity& q, const std::string& field,
                       RecordOutput& out, IssueSink& issues) {
  auto rec = MakeQuantityRecord(rules, ctx.record_id, loinc, display, time, q.value, q.code);
  if (auto* obs = std::get_if<ClinicalObservation>(&rec)) {
    out.observations.push_back(std::move(*obs));
  } else if (auto* meal = std::get_if<Meal>(&rec)) {
    out.meals.push_back(*meal);
  } else {
    const auto& p = std::get<QuantityProblem>(rec);
    issues.Add(ctx, field + (p.field == QuantityField::kUnit ? ".code" : ".value"), p.reason);
  }
}

// effectiveDateTime | effectivePeriod.start | effectiveInstant.
std::optional<std::int64_t> ReadObservationTime(const Json& r, const EntryContext& ctx, IssueSink& issues) {
  if (const Json* t = Member(r, "effectiveDateTime")) return ReadInstant(*t, ctx, "effectiveDateTime", issues);
  if (const Json* period = Member(r, "effectivePeriod")) {
    if (const Json* start = Member(*period, "start")) return ReadInstant(*start, ctx, "effectivePeriod.start", issues);
    issues.Add(ctx, "effectivePeriod.start", "missing");
    return std::nullopt;
  }
  if (const Json* t = Member(r, "effectiveInstant")) return ReadInstant(*t, ctx, "effectiveInstant", issues);
  issues.Add(ctx, "effectiveDateTime", "missing (need effectiveDateTime, effectivePeriod.start or effectiveInstant)");
  return std::nullopt;
}

// The name of a value[x] other than valueQuantity, if the resource has one.
std::string OtherValueElement(const Json& r) {
  for (const char* name : {"valueCodeableConcept", "valueString", "valueBoolean", "valueInteger", "valueRange",
                           "valueRatio", "valueSampledData", "valueTime", "valueDateTime", "valuePeriod"}) {
    if (Member(r, name) != nullptr) return name;
  }
  return {};
}

}  // namespace

std::optional<std::int64_t> ReadInstant(const Json& value, const EntryContext& ctx, const std::string& field,
                                        IssueSink& issues) {
  if (!value.is_string()) {
    issues.Add(ctx, field, "expected a dateTime string");
    return std::nullopt;
  }
  auto parsed = ParseFhirDateTime(value.get_ref<const std::string&>());
  if (!parsed.ok()) {
    issues.Add(ctx, field, "unparseable time: " + parsed.status().message());
    return std::nullopt;
  }
  if (parsed->precision != DatePrecision::kSecond) {
    issues.Add(ctx, field, "partial date; a time of day with a timezone offset is required");
    return std::nullopt;
  }
  return parsed->unix_seconds;
}

void ReadObservation(const Json& r, const EntryContext& ctx, const QuantityRules& rules, RecordOutput& out,
                     IssueSink& issues) {
  if (const std::string* status = StringMember(r, "status");
      status != nullptr && (*status == "entered-in-error" || *status == "cancelled")) {
    issues.Add(ctx, "status", "status '" + *status + "': not a valid measurement");
    return;
  }
  auto loinc = ReadLoinc(r, ctx, "code.coding", issues);
  if (!loinc) return;
  auto time = ReadObservationTime(r, ctx, issues);
  if (!time) return;

  const Json* value = Member(r, "valueQuantity");
  const Json* components = Member(r, "component");
  if (value != nullptr) {
    if (auto q = ReadQuantity(*value, ctx, "valueQuantity", issues)) {
      AddQuantityRecord(rules, ctx, loinc->first, loinc->second, *time, *q, "valueQuantity", out, issues);
    }
  }
  if (components != nullptr) {
    if (!components->is_array()) {
      issues.Add(ctx, "component", "expected an array");
      return;
    }
    for (std::size_t i = 0; i < components->size(); ++i) {
      const Json& c = (*components)[i];
      const std::string path = "component[" + std::to_string(i) + "]";
      auto code = ReadLoinc(c, ctx, path + ".code.coding", issues);
      if (!code) continue;
      const Json* cv = Member(c, "valueQuantity");
      if (cv == nullptr) {
        issues.Add(ctx, path + ".valueQuantity", "missing (only valueQuantity is read)");
        continue;
      }
      if (auto q = ReadQuantity(*cv, ctx, path + ".valueQuantity", issues)) {
        AddQuantityRecord(rules, ctx, code->first, code->second, *time, *q, path + ".valueQuantity", out, issues);
      }
    }
  }
  if (value == nullptr && components == nullptr) {
    const std::string other = OtherValueElement(r);
    if (!other.empty()) {
      issues.Add(ctx, other, "only valueQuantity is read");
    } else if (Member(r, "dataAbsentReason") != nullptr) {
      issues.Add(ctx, "dataAbsentReason", "no value (dataAbsentReason given)");
    } else {
      issues.Add(ctx, "valueQuantity", "missing value");
    }
  }
}

namespace {

// A UCUM code for a dose or rate, read with U = [iU] (insulin).
std::optional<units::Unit> ParseDoseUnit(const std::string& code, const EntryContext& ctx, const std::string& field,
                                         IssueSink& issues) {
  auto unit = units::ParseUnit(code, {.enzyme_unit = units::EnzymeUnitPolicy::kInternationalUnit});
  if (!unit.ok()) {
    issues.Add(ctx, field, "unknown or malformed UCUM unit: " + unit.status().message());
    return std::nullopt;
  }
  return *unit;
}

void ReadMedication(const Json& r, Dose& dose) {
  const Json* cc = Member(r, "medicationCodeableConcept");
  if (const std::string* text = StringMember(*cc, "text")) dose.medication_text = *text;
  if (const Json* codings = Member(*cc, "coding"); codings != nullptr && codings->is_array()) {
    for (const Json& coding : *codings) {
      const std::string* code = StringMember(coding, "code");
      if (code == nullptr) continue;
      dose.medication_code = *code;
      if (const std::string* system = StringMember(coding, "system")) dose.medication_system = *system;
      if (const std::string* display = StringMember(coding, "display"); display && dose.medication_text.empty()) {
        dose.medication_text = *display;
      }
      break;
    }
  }
}

void ReadRoute(const Json& dosage, Dose& dose) {
  const Json* route = Member(dosage, "route");
  if (route == nullptr) return;
  if (const std::string* text = StringMember(*route, "text")) dose.route_text = *text;
  if (const Json* codings = Member(*route, "coding"); codings != nullptr && codings->is_array()) {
    for (const Json& coding : *codings) {
      const std::string* code = StringMember(coding, "code");
      if (code == nullptr) continue;
      dose.route_code = *code;
      if (const std::string* display = StringMember(coding, "display"); display && dose.route_text.empty()) {
        dose.route_text = *display;
      }
      break;
    }
  }
}

// dosage.rateQuantity or dosage.rateRatio; false after reporting an issue.
bool ReadRate(const Json& dosage, const EntryContext& ctx, Dose& dose, IssueSink& issues) {
  if (const Json* rq = Member(dosage, "rateQuantity")) {
    auto q = ReadQuantity(*rq, ctx, "dosage.rateQuantity", issues);
    if (!q) return false;
    auto unit = ParseDoseUnit(q->code, ctx, "dosage.rateQuantity.code", issues);
    if (!unit) return false;
    if (unit->dimension[units::BaseDimension::kTime] >= 0) {
      issues.Add(ctx, "dosage.rateQuantity.code", "a rate needs a per-time unit such as 'U/h' or 'mL/h'");
      return false;
    }
    dose.rate = q->value;
    dose.rate_unit = q->code;
  } else if (const Json* ratio = Member(dosage, "rateRatio")) {
    const Json* num = Member(*ratio, "numerator");
    const Json* den = Member(*ratio, "denominator");
    if (num == nullptr || den == nullptr) {
      issues.Add(ctx, "dosage.rateRatio", "needs numerator and denominator");
      return false;
    }
    auto n = ReadQuantity(*num, ctx, "dosage.rateRatio.numerator", issues);
    auto d = ReadQuantity(*den, ctx, "dosage.rateRatio.denominator", issues);
    if (!n || !d) return false;
    if (!(d->value > 0)) {
      issues.Add(ctx, "dosage.rateRatio.denominator.value", "must be > 0");
      return false;
    }
    const bool compound = d->code.find_first_of("./") != std::string::npos;
    const std::string code = n->code + "/" + (compound ? "(" + d->code + ")" : d->code);
    auto unit = ParseDoseUnit(code, ctx, "dosage.rateRatio", issues);
    if (!unit) return false;
    if (unit->dimension[units::BaseDimension::kTime] >= 0) {
      issues.Add(ctx, "dosage.rateRatio.denominator.code", "a rate needs a time in the denominator");
      return false;
    }
    dose.rate = n->value / d->value;
    dose.rate_unit = code;
  }
  if (dose.rate && (*dose.rate < 0 || !std::isfinite(*dose.rate))) {
    issues.Add(ctx, "dosage.rate[x]", "must be finite and >= 0");
    return false;
  }
  return true;
}

}  // namespace

void ReadMedicationAdministration(const Json& r, const EntryContext& ctx, RecordOutput& out, IssueSink& issues) {
  if (const std::string* status = StringMember(r, "status");
      status != nullptr && (*status == "not-done" || *status == "entered-in-error")) {
    issues.Add(ctx, "status", "status '" + *status + "': nothing was administered");
    return;
  }
  Dose dose;
  dose.resource_id = ctx.record_id;
  if (Member(r, "medicationCodeableConcept") == nullptr) {
    issues.Add(ctx, Member(r, "medicationReference") != nullptr ? "medicationReference" : "medicationCodeableConcept",
               Member(r, "medicationReference") != nullptr
                   ? "medicationReference is not read; give the drug as medicationCodeableConcept"
                   : "missing");
    return;
  }
  ReadMedication(r, dose);
  if (dose.medication_code.empty() && dose.medication_text.empty()) {
    issues.Add(ctx, "medicationCodeableConcept", "neither a coding with a code nor text");
    return;
  }

  bool has_end = false;
  if (const Json* t = Member(r, "effectiveDateTime")) {
    auto start = ReadInstant(*t, ctx, "effectiveDateTime", issues);
    if (!start) return;
    dose.start = dose.end = *start;
  } else if (const Json* period = Member(r, "effectivePeriod")) {
    const Json* start = Member(*period, "start");
    if (start == nullptr) {
      issues.Add(ctx, "effectivePeriod.start", "missing");
      return;
    }
    auto s = ReadInstant(*start, ctx, "effectivePeriod.start", issues);
    if (!s) return;
    dose.start = dose.end = *s;
    if (const Json* end = Member(*period, "end")) {
      auto e = ReadInstant(*end, ctx, "effectivePeriod.end", issues);
      if (!e) return;
      if (*e < *s) {
        issues.Add(ctx, "effectivePeriod.end", "before effectivePeriod.start");
        return;
      }
      dose.end = *e;
      has_end = true;
    }
  } else {
    issues.Add(ctx, "effectiveDateTime", "missing (need effectiveDateTime or effectivePeriod)");
    return;
  }

  const Json* dosage = Member(r, "dosage");
  if (dosage == nullptr || !dosage->is_object()) {
    issues.Add(ctx, "dosage", "missing (need dosage.dose or dosage.rate[x])");
    return;
  }
  ReadRoute(*dosage, dose);
  if (const Json* dq = Member(*dosage, "dose")) {
    auto q = ReadQuantity(*dq, ctx, "dosage.dose", issues);
    if (!q) return;
    if (!ParseDoseUnit(q->code, ctx, "dosage.dose.code", issues)) return;
    if (q->value < 0) {
      issues.Add(ctx, "dosage.dose.value", "negative dose");
      return;
    }
    dose.amount = q->value;
    dose.amount_unit = q->code;
  }
  if (!ReadRate(*dosage, ctx, dose, issues)) return;
  if (!dose.amount && !dose.rate) {
    issues.Add(ctx, "dosage.dose", "missing (need dosage.dose or dosage.rateQuantity / rateRatio)");
    return;
  }
  if (dose.rate && !has_end) {
    issues.Add(ctx, "effectivePeriod.end", "an infusion rate needs effectivePeriod with an end");
    return;
  }
  out.dose = std::move(dose);
}

}  // namespace soma::formats::internal
