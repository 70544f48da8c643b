// Bundle walking, patients, consent and assembly. Two passes: Patients and
// Consents first (so that entry order does not matter), then the records,
// which are held per patient until consent is known.

#include "formats/fhir/fhir_ingest.h"

#include <algorithm>
#include <exception>
#include <new>
#include <string>
#include <unordered_map>

#include "formats/fhir/fhir_internal.h"
#include "formats/fhir/fhir_time.h"
#include "formats/fhir/pseudonym.h"

namespace soma::formats {
namespace internal {

const Json* Member(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

const std::string* StringMember(const Json& j, const char* key) {
  const Json* m = Member(j, key);
  return m != nullptr && m->is_string() ? &m->get_ref<const std::string&>() : nullptr;
}

std::vector<IngestIssue> IssueSink::Take() {
  std::stable_sort(items_.begin(), items_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<IngestIssue> out;
  out.reserve(items_.size());
  for (auto& item : items_) out.push_back(std::move(item.second));
  items_.clear();
  return out;
}

}  // namespace internal

namespace {

using internal::EntryContext;
using internal::IssueSink;
using internal::Json;
using internal::Member;
using internal::RecordOutput;
using internal::StringMember;

// Maximum nesting of arrays and objects, outside strings; stops early.
bool DeeperThan(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

struct PatientState {
  PatientRecord record;
  bool permit = false;
  bool deny = false;
  std::size_t first_entry = 0;
  std::string issue_id;
  std::string path;  // of the first Patient resource, e.g. "entry[0].resource"
  // Records held until consent is known: (entry, issue id, subject path).
  struct Held {
    std::size_t entry;
    std::string issue_id;
    std::string field;
  };
  std::vector<Held> held;
};

class Ingester {
 public:
  explicit Ingester(const FhirIngestOptions& options)
      : options_(options), rules_{&options.meal_loinc_codes, &options.observation_units} {}

  Result<ClinicalBundle> Run(const Json& root) {
    const std::string* type = StringMember(root, "resourceType");
    if (type == nullptr) return ParseError("FHIR JSON: top level is not an object with a string 'resourceType'");
    std::vector<std::pair<EntryContext, const Json*>> entries;
    if (*type == "Bundle") {
      const std::string* btype = StringMember(root, "type");
      if (btype == nullptr || (*btype != "collection" && *btype != "transaction")) {
        return Unsupported("FHIR Bundle.type '" + (btype ? btype->substr(0, 40) : std::string("(missing)")) +
                           "' is not read; expected 'collection' or 'transaction'");
      }
      const Json* list = Member(root, "entry");
      if (list != nullptr && !list->is_array()) return ParseError("FHIR Bundle.entry is not an array");
      if (list != nullptr && list->size() > options_.max_entries) {
        return ResourceExhausted("FHIR Bundle has " + std::to_string(list->size()) +
                                 " entries; FhirIngestOptions::max_entries = " + std::to_string(options_.max_entries));
      }
      if (list != nullptr) {
        for (std::size_t i = 0; i < list->size(); ++i) {
          const std::string entry_path = "entry[" + std::to_string(i) + "]";
          const Json& e = (*list)[i];
          const Json* resource = Member(e, "resource");
          EntryContext ctx{.index = i, .path = entry_path + ".resource.", .issue_id = entry_path, .record_id = {}};
          if (resource == nullptr || !resource->is_object()) {
            issues_.Add(i, entry_path, entry_path + ".resource",
                        resource == nullptr ? "missing (an entry without a resource carries no data)"
                                            : "not an object");
            continue;
          }
          if (const std::string* full_url = StringMember(e, "fullUrl")) full_urls_[i] = *full_url;
          entries.emplace_back(std::move(ctx), resource);
        }
      }
    } else {
      entries.emplace_back(EntryContext{.index = 0, .path = "", .issue_id = "", .record_id = {}}, &root);
    }
    bundle_.records_read = entries.size();

    // Name each entry after its resource.
    for (auto& [ctx, r] : entries) {
      const std::string* rtype = StringMember(*r, "resourceType");
      const std::string* id = StringMember(*r, "id");
      ctx.record_id = id != nullptr ? *id : std::string();
      const std::string where = ctx.path.empty() ? "" : " (" + ctx.issue_id + ")";
      if (rtype == nullptr) {
        issues_.Add(ctx.index, ctx.issue_id.empty() ? "(resource)" : ctx.issue_id, ctx.path + "resourceType",
                    "missing or not a string");
        r = nullptr;
        continue;
      }
      if (*rtype != "Patient") {
        ctx.issue_id = id != nullptr ? *rtype + "/" + *id : *rtype + where;
      }
    }

    for (auto& [ctx, r] : entries) {
      if (r != nullptr && *StringMember(*r, "resourceType") == "Patient") ReadPatient(*r, ctx);
    }
    for (auto& [ctx, r] : entries) {
      if (r != nullptr && *StringMember(*r, "resourceType") == "Consent") ReadConsent(*r, ctx);
    }
    for (auto& [ctx, r] : entries) {
      if (r == nullptr) continue;
      const std::string& rtype = *StringMember(*r, "resourceType");
      if (rtype == "Patient" || rtype == "Consent") continue;
      if (rtype == "Observation" || rtype == "MedicationAdministration") {
        ReadRecord(*r, ctx, rtype);
      } else {
        issues_.Add(ctx, "resourceType", "unsupported resourceType '" + rtype.substr(0, 64) + "'");
      }
    }
    return Finish();
  }

 private:
  void ReadPatient(const Json& r, EntryContext& ctx) {
    std::string key;
    if (const Json* ids = Member(r, "identifier"); ids != nullptr && ids->is_array()) {
      for (const Json& identifier : *ids) {
        const std::string* value = StringMember(identifier, "value");
        if (value == nullptr || value->empty()) continue;
        const std::string* system = StringMember(identifier, "system");
        key = (system != nullptr ? *system : std::string()) + "|" + *value;
        break;
      }
    }
    if (key.empty() && !ctx.record_id.empty()) key = ctx.record_id;
    if (key.empty()) {
      ctx.issue_id = "Patient" + (ctx.path.empty() ? std::string() : " (" + ctx.issue_id + ")");
      issues_.Add(ctx, "identifier", "Patient has neither an identifier with a value nor an id: no stable pseudonym");
      return;
    }
    const std::string pseudonym = Pseudonymise(options_.node_secret, key);
    ctx.issue_id = "Patient/" + pseudonym;
    auto [it, inserted] = patients_.try_emplace(pseudonym);
    PatientState& p = it->second;
    if (inserted) {
      p.record.pseudonym = pseudonym;
      p.first_entry = ctx.index;
      p.issue_id = ctx.issue_id;
      p.path = ctx.path.empty() ? "(resource)" : ctx.path.substr(0, ctx.path.size() - 1);
    }
    if (!ctx.record_id.empty()) references_["Patient/" + ctx.record_id] = pseudonym;
    if (auto url = full_urls_.find(ctx.index); url != full_urls_.end()) references_[url->second] = pseudonym;

    if (const Json* birth = Member(r, "birthDate")) {
      auto date = birth->is_string() ? ParseFhirDateTime(birth->get_ref<const std::string&>())
                                     : Result<FhirDateTime>(ParseError(""));
      // The reason must not quote the value: a birth date identifies.
      if (!date.ok() || date->precision == DatePrecision::kSecond) {
        issues_.Add(ctx, "birthDate", "not a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD); birth year left unknown");
      } else if (!p.record.birth_year) {
        p.record.birth_year = date->year;
      }
    }
    if (const Json* gender = Member(r, "gender")) {
      static const std::pair<const char*, Gender> kCodes[] = {
          {"male", Gender::kMale}, {"female", Gender::kFemale}, {"other", Gender::kOther},
          {"unknown", Gender::kUnknown}};
      bool known = false;
      for (const auto& [code, g] : kCodes) {
        if (*gender == code) {
          if (p.record.gender == Gender::kUnknown) p.record.gender = g;
          known = true;
        }
      }
      if (!known) issues_.Add(ctx, "gender", "not an AdministrativeGender code (male|female|other|unknown)");
    }
  }

  // The pseudonym a reference resolves to, or nullptr.
  const std::string* Resolve(const std::string& reference) const {
    auto it = references_.find(reference);
    if (it != references_.end()) return &it->second;
    // An absolute URL ending in "Patient/<id>".
    const std::size_t at = reference.rfind("/Patient/");
    if (at != std::string::npos && reference.find("://") != std::string::npos) {
      it = references_.find(reference.substr(at + 1));
      if (it != references_.end()) return &it->second;
    }
    return nullptr;
  }

  // The patient a reference object at `field` names; reports an issue (never
  // quoting the reference) and returns nullptr when it names none.
  PatientState* SubjectOf(const Json& r, const EntryContext& ctx, const char* field) {
    const Json* subject = Member(r, field);
    const std::string* reference = subject != nullptr ? StringMember(*subject, "reference") : nullptr;
    if (reference == nullptr) {
      issues_.Add(ctx, std::string(field) + ".reference", "missing (a literal reference to a Patient is required)");
      return nullptr;
    }
    const std::string* pseudonym = Resolve(*reference);
    if (pseudonym == nullptr) {
      issues_.Add(ctx, std::string(field) + ".reference", "does not name a Patient in this bundle");
      return nullptr;
    }
    return &patients_.at(*pseudonym);
  }

  void ReadConsent(const Json& r, const EntryContext& ctx) {
    PatientState* p = SubjectOf(r, ctx, "patient");
    if (p == nullptr) return;
    const std::string* status = StringMember(r, "status");
    if (status == nullptr || *status != "active") {
      issues_.Add(ctx, "status", "Consent is not active; it grants nothing");
      return;
    }
    const Json* provision = Member(r, "provision");
    const std::string* type = provision != nullptr ? StringMember(*provision, "type") : nullptr;
    if (type != nullptr && *type == "permit") {
      p->permit = true;
    } else if (type != nullptr && *type == "deny") {
      p->deny = true;
    } else {
      issues_.Add(ctx, "provision.type", "missing or not 'permit' / 'deny'; the Consent grants nothing");
    }
  }

  void ReadRecord(const Json& r, const EntryContext& ctx, const std::string& rtype) {
    PatientState* p = SubjectOf(r, ctx, "subject");
    if (p == nullptr) return;
    RecordOutput out;
    if (rtype == "Observation") {
      internal::ReadObservation(r, ctx, rules_, out, issues_);
    } else {
      internal::ReadMedicationAdministration(r, ctx, out, issues_);
    }
    if (out.Empty()) return;
    p->held.push_back({ctx.index, ctx.issue_id, ctx.path + "subject"});
    auto& rec = p->record;
    rec.observations.insert(rec.observations.end(), out.observations.begin(), out.observations.end());
    rec.meals.insert(rec.meals.end(), out.meals.begin(), out.meals.end());
    if (out.dose) rec.doses.push_back(std::move(*out.dose));
  }

  Result<ClinicalBundle> Finish() {
    for (auto& [pseudonym, p] : patients_) {
      p.record.consent = p.permit && !p.deny;
      if (options_.require_consent && !p.record.consent) {
        const std::string reason = p.deny ? "no active consent (an active Consent denies use)" : "no active consent";
        issues_.Add(p.first_entry, p.issue_id, p.path, reason);
        for (const auto& h : p.held) issues_.Add(h.entry, h.issue_id, h.field, reason);
        continue;
      }
      bundle_.patients.push_back(std::move(p.record));
    }
    bundle_.issues = issues_.Take();
    internal::SortBundle(bundle_);
    return std::move(bundle_);
  }

  const FhirIngestOptions& options_;
  internal::QuantityRules rules_;
  IssueSink issues_;
  ClinicalBundle bundle_;
  std::map<std::string, PatientState> patients_;              // by pseudonym
  std::unordered_map<std::string, std::string> references_;  // reference -> pseudonym
  std::unordered_map<std::size_t, std::string> full_urls_;   // entry -> fullUrl
};

}  // namespace

Status FhirIngestOptions::Validate() const {
  SOMA_RETURN_IF_ERROR(
      internal::ValidateCommon("FhirIngestOptions", node_secret, meal_loinc_codes, observation_units, max_bytes));
  if (max_entries == 0) return InvalidArgument("FhirIngestOptions::max_entries = 0; must be > 0");
  if (max_depth < 8) {
    return InvalidArgument("FhirIngestOptions::max_depth = " + std::to_string(max_depth) +
                           "; must be >= 8 (FHIR resources nest that deep)");
  }
  return Status::Ok();
}

Result<ClinicalBundle> IngestFhir(std::string_view json, const FhirIngestOptions& options) {
  SOMA_RETURN_IF_ERROR(options.Validate());
  if (json.size() > options.max_bytes) {
    return ResourceExhausted("FHIR JSON of " + std::to_string(json.size()) +
                             " bytes exceeds FhirIngestOptions::max_bytes = " + std::to_string(options.max_bytes));
  }
  if (DeeperThan(json, options.max_depth)) {
    return ResourceExhausted("FHIR JSON nests deeper than FhirIngestOptions::max_depth = " +
                             std::to_string(options.max_depth));
  }
  try {
    Json root;
    try {
      root = Json::parse(json.begin(), json.end());
    } catch (const Json::parse_error& e) {
      // nlohmann's message ends with "; last read: '...'", which may quote
      // identifying text; keep only the position and the kind of error.
      std::string what = e.what();
      if (auto cut = what.find("; last read"); cut != std::string::npos) what.resize(cut);
      if (auto start = what.find("] "); start != std::string::npos) what = what.substr(start + 2);
      // e.byte counts the bytes read, the offending one included.
      const std::size_t offset = e.byte > 0 ? e.byte - 1 : 0;
      return ParseError("malformed FHIR JSON at byte offset " + std::to_string(offset) + " (0-based): " + what);
    }
    return Ingester(options).Run(root);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory reading FHIR JSON");
  } catch (const std::exception& e) {
    return Internal(std::string("FHIR ingest: unexpected exception: ") + e.what());
  }
}

}  // namespace soma::formats
