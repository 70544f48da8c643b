// Twins over the repository: create, read, observe, forecast, events.

#include "server/twin_service.h"

#include <sys/stat.h>

#include <algorithm>
#include <initializer_list>
#include <string_view>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "formats/fhir/csv_ingest.h"
#include "formats/fhir/fhir_ingest.h"
#include "formats/fhir/fhir_time.h"
#include "formats/sbml/sbml_import.h"
#include "repo/crypto.h"
#include "server/api_service.h"
#include "server/bundled_models.h"
#include "twin/fit.h"
#include "twin/intake.h"

namespace soma::server {

namespace {

constexpr const char* kDefinitionFile = "definition.json";
constexpr const char* kStateFile = "state.json";
constexpr const char* kModelFile = "model.xml";
constexpr size_t kPublishedKept = 1000;

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Json EventJson(const twin::TwinEvent& e) { return twin::ToJson(e); }

Result<std::int64_t> ReadTime(const Json& v, const std::string& path) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number()) return static_cast<std::int64_t>(std::floor(v.get<double>()));
  if (v.is_string()) {
    auto t = formats::ParseFhirDateTime(v.get<std::string>());
    if (!t.ok()) return InvalidArgument(path + ": " + t.status().message());
    if (t->precision != formats::DatePrecision::kSecond) return InvalidArgument(path + ": a full date-time with seconds is required");
    return t->unix_seconds;
  }
  return InvalidArgument(path + ": must be Unix seconds or an ISO-8601 date-time");
}

Result<double> ReadNumber(const Json& o, const char* key, const std::string& path) {
  if (!o.contains(key) || !o.at(key).is_number()) return InvalidArgument(path + "." + key + ": required number");
  return o.at(key).get<double>();
}

std::string StringOr(const Json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

// The JSON observation form of POST /v1/twins/{id}/observations as a
// patient record (the same mapping as FHIR data then applies).
Result<formats::PatientRecord> RecordFromJson(const Json& body) {
  formats::PatientRecord r;
  for (const char* key : {"observations", "meals", "doses"}) {
    if (body.contains(key) && !body.at(key).is_array()) return InvalidArgument(std::string(key) + ": must be an array");
  }
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "observations" && it.key() != "meals" && it.key() != "doses") {
      return InvalidArgument(it.key() + ": unknown field (expected observations, meals, doses, csv or a FHIR resource)");
    }
  }
  const Json empty = Json::array();
  const Json& obs = body.contains("observations") ? body.at("observations") : empty;
  for (size_t i = 0; i < obs.size(); ++i) {
    std::string path = "observations[" + std::to_string(i) + "]";
    const Json& o = obs[i];
    if (!o.is_object()) return InvalidArgument(path + ": must be an object");
    formats::ClinicalObservation c;
    c.resource_id = path;
    SOMA_ASSIGN_OR_RETURN(c.time, ReadTime(o.value("time", Json()), path + ".time"));
    c.loinc = StringOr(o, "loinc");
    c.unit = StringOr(o, "unit");
    if (c.loinc.empty() || c.unit.empty()) return InvalidArgument(path + ": loinc and unit are required");
    SOMA_ASSIGN_OR_RETURN(c.value, ReadNumber(o, "value", path));
    r.observations.push_back(c);
  }
  const Json& meals = body.contains("meals") ? body.at("meals") : empty;
  for (size_t i = 0; i < meals.size(); ++i) {
    std::string path = "meals[" + std::to_string(i) + "]";
    if (!meals[i].is_object()) return InvalidArgument(path + ": must be an object");
    formats::Meal m;
    m.resource_id = path;
    SOMA_ASSIGN_OR_RETURN(m.time, ReadTime(meals[i].value("time", Json()), path + ".time"));
    SOMA_ASSIGN_OR_RETURN(m.carbohydrate_g, ReadNumber(meals[i], "grams", path));
    r.meals.push_back(m);
  }
  const Json& doses = body.contains("doses") ? body.at("doses") : empty;
  for (size_t i = 0; i < doses.size(); ++i) {
    std::string path = "doses[" + std::to_string(i) + "]";
    const Json& o = doses[i];
    if (!o.is_object()) return InvalidArgument(path + ": must be an object");
    formats::Dose d;
    d.resource_id = path;
    SOMA_ASSIGN_OR_RETURN(d.start, ReadTime(o.value("time", Json()), path + ".time"));
    d.end = d.start;
    if (o.contains("end")) {
    SOMA_ASSIGN_OR_RETURN(d.end, ReadTime(o.at("end"), path + ".end"));
  }
    d.medication_code = StringOr(o, "medication_code");
    d.route_code = StringOr(o, "route_code");
    if (o.contains("amount")) {
      SOMA_ASSIGN_OR_RETURN(double a, ReadNumber(o, "amount", path));
      d.amount = a;
      d.amount_unit = StringOr(o, "unit");
    }
    if (o.contains("rate")) {
      SOMA_ASSIGN_OR_RETURN(double a, ReadNumber(o, "rate", path));
      d.rate = a;
      d.rate_unit = StringOr(o, "unit");
    }
    r.doses.push_back(d);
  }
  return r;
}

// Writes need what a version push needs: the owner, a curator who can read
// it (the caller has just read it), or an admin. Checked before any
// computation; PushVersion enforces it again.
Status CheckWrite(const repo::Principal& p, const repo::Resource& r) {
  if (p.anonymous()) return Unauthenticated("sign in to change a twin");
  if (p.user == r.owner || p.role >= repo::Role::kCurator) return Status::Ok();
  return PermissionDenied("only the owner, curators and admins may change twin '" + r.id + "'");
}

Json IssuesJson(const std::vector<formats::IngestIssue>& issues) {
  Json out = Json::array();
  for (const auto& i : issues) out.push_back({{"resource_id", i.resource_id}, {"field", i.field}, {"reason", i.reason}});
  return out;
}

void Append(Json& to, const Json& from) {
  for (const auto& x : from) to.push_back(x);
}

Json ForecastJson(const std::string& id, const twin::TwinForecast& f, std::int64_t origin, double tu) {
  Json series = Json::object();
  Json times_unix = Json::array();
  for (double t : f.times) times_unix.push_back(origin + static_cast<std::int64_t>(std::llround(t * tu)));
  for (const auto& s : f.series) {
    series[s.symbol] = {{"times", f.times}, {"times_unix", times_unix}, {"mean", s.mean},
                        {"quantiles", s.quantiles}, {"observation_noise", s.observed}};
  }
  Json alerts = Json::array();
  for (const auto& a : f.alerts) {
    alerts.push_back({{"name", a.name}, {"symbol", a.symbol}, {"probability", a.probability},
                      {"first_time", a.first_time}, {"message", a.message}});
  }
  return {{"twin", id}, {"start", f.start}, {"start_unix", origin + static_cast<std::int64_t>(std::llround(f.start * tu))},
          {"horizon", f.horizon}, {"step", f.step}, {"quantiles", f.levels}, {"series", series},
          {"alerts", alerts}, {"seconds", f.seconds}};
}

// The seed of a forecast's observation-noise draws: fixed between two
// updates of the twin, so forecasts (and what-ifs) made between them repeat.
std::uint64_t ForecastSeed(const twin::TwinDefinition& def, const twin::TwinState& state) {
  return def.assimilation.seed + static_cast<std::uint64_t>(state.updates);
}

// The forecast window of a request body: "horizon" and "step" (numbers,
// model time units) or the definition's defaults, the step cut to the
// horizon when only the horizon is given. Other keys must be in `also`.
struct ForecastWindow {
  double horizon = 0, step = 0;
};
Result<ForecastWindow> ParseForecastWindow(const twin::TwinDefinition& def, const Json& body,
                                           std::initializer_list<std::string_view> also = {}) {
  for (auto it = body.begin(); it != body.end(); ++it) {
    const bool window = it.key() == "horizon" || it.key() == "step";
    if (!window && std::find(also.begin(), also.end(), it.key()) == also.end()) {
      return InvalidArgument(it.key() + ": unknown field");
    }
    if (window && !it->is_number()) return InvalidArgument(it.key() + ": must be a number");
  }
  ForecastWindow w{def.forecast.horizon, def.forecast.step};
  if (body.contains("horizon")) w.horizon = body["horizon"].get<double>();
  if (body.contains("step")) w.step = body["step"].get<double>();
  else if (w.step > w.horizon) w.step = w.horizon;
  return w;
}

}  // namespace

Result<std::string> LoadOrCreateNodeSecret(const std::filesystem::path& data_dir) {
  if (const char* env = std::getenv("SOMA_NODE_SECRET"); env && *env) {
    if (std::string(env).size() < 16) return InvalidArgument("SOMA_NODE_SECRET: must be at least 16 bytes");
    return std::string(env);
  }
  std::filesystem::path path = data_dir / "node-secret";
  std::ifstream in(path);
  if (in) {
    std::string s;
    std::getline(in, s);
    if (s.size() >= 16) return s;
    return DataLoss(path.string() + ": shorter than 16 bytes");
  }
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  std::string secret = repo::RandomHex(32);
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return IoError(tmp.string() + ": cannot write");
    out << secret << "\n";
  }
  ::chmod(tmp.c_str(), 0600);
  std::filesystem::rename(tmp, path, ec);
  if (ec) return IoError(path.string() + ": " + ec.message());
  return secret;
}

TwinService::TwinService(repo::Repository& repo, std::string node_secret)
    : repo_(repo), node_secret_(std::move(node_secret)) {}

TwinService::~TwinService() {
  Stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void TwinService::Stop() {
  std::lock_guard lock(mu_);
  stopping_ = true;
  cv_.notify_all();
}

bool TwinService::stopping() {
  std::lock_guard lock(mu_);
  return stopping_;
}

Result<std::shared_ptr<const twin::TwinEngine>> TwinService::Engine(const repo::Principal& p, twin::TwinDefinition& def,
                                                                     const std::string& model_sbml) {
  std::string sbml;
  switch (def.model.kind) {
    case twin::ModelRef::Kind::kBundled: {
      bool found = false;
      for (const BundledFile& f : BundledModels()) {
        if (f.name == def.model.file) {
          sbml = std::string(f.bytes);
          found = true;
        }
      }
      if (!found) return NotFound("model.bundled = '" + def.model.file + "': no bundled model of that name");
      break;
    }
    case twin::ModelRef::Kind::kFile:
      if (model_sbml.empty()) return InvalidArgument("model.file: the SBML text is required (model_sbml)");
      sbml = model_sbml;
      break;
    case twin::ModelRef::Kind::kResource: {
      SOMA_ASSIGN_OR_RETURN(repo::Version v, repo_.GetVersion(p, def.model.id, def.model.version));
      def.model.version = v.hash;  // pinned
      std::string path;
      for (const auto& f : v.files) {
        if (f.media_type.find("sbml") != std::string::npos ||
            (f.path.size() > 4 && f.path.substr(f.path.size() - 4) == ".xml")) {
          path = f.path;
          break;
        }
      }
      if (path.empty()) return InvalidArgument("model.resource = '" + def.model.id + "': the version has no SBML file");
      SOMA_ASSIGN_OR_RETURN(sbml, repo_.ReadFile(p, def.model.id, v.hash, path));
      break;
    }
  }
  std::string key = repo::Sha256Hex(twin::ToJson(def).dump() + "\n" + repo::Sha256Hex(sbml));
  {
    std::lock_guard lock(mu_);
    if (auto it = engines_.find(key); it != engines_.end()) return it->second;
  }
  SOMA_ASSIGN_OR_RETURN(formats::SbmlImport imp, formats::ParseSbml(sbml));
  SOMA_ASSIGN_OR_RETURN(auto engine, twin::TwinEngine::Create(def, imp.model));
  std::shared_ptr<const twin::TwinEngine> shared(std::move(engine));
  std::lock_guard lock(mu_);
  if (engines_.size() >= 32) engines_.clear();
  engines_[key] = shared;
  return shared;
}

Result<TwinService::Loaded> TwinService::Load(const repo::Principal& p, const std::string& id) {
  Loaded t;
  SOMA_ASSIGN_OR_RETURN(t.resource, repo_.GetResource(p, id));
  if (t.resource.kind != repo::ResourceKind::kTwin) return NotFound("'" + id + "' is not a twin");
  SOMA_ASSIGN_OR_RETURN(t.version, repo_.GetVersion(p, id, "latest"));
  SOMA_ASSIGN_OR_RETURN(std::string def_text, repo_.ReadFile(p, id, t.version.hash, kDefinitionFile));
  SOMA_ASSIGN_OR_RETURN(t.definition, twin::ParseTwinDefinitionText(def_text));
  SOMA_ASSIGN_OR_RETURN(std::string state_text, repo_.ReadFile(p, id, t.version.hash, kStateFile));
  Json state = Json::parse(state_text, nullptr, false);
  if (state.is_discarded()) return DataLoss(id + ": state.json is not JSON");
  SOMA_ASSIGN_OR_RETURN(t.state, twin::TwinStateFromJson(state));
  if (t.definition.model.kind == twin::ModelRef::Kind::kFile) {
    SOMA_ASSIGN_OR_RETURN(t.model_sbml, repo_.ReadFile(p, id, t.version.hash, kModelFile));
  }
  SOMA_ASSIGN_OR_RETURN(t.engine, Engine(p, t.definition, t.model_sbml));
  return t;
}

Json TwinService::TwinJson(const Loaded& t) const {
  const double tu = t.definition.time_unit_seconds;
  Json latest = Json::object();
  for (const auto& o : t.state.observations) {
    latest[o.symbol] = {{"value", o.value}, {"unit", o.unit}, {"time", o.time}, {"unix", o.unix_time}};
  }
  Json events = Json::array();
  size_t from = t.state.events.size() > 20 ? t.state.events.size() - 20 : 0;
  for (size_t i = from; i < t.state.events.size(); ++i) events.push_back(EventJson(t.state.events[i]));
  Json issues = Json::array();
  size_t ifrom = t.state.issues.size() > 50 ? t.state.issues.size() - 50 : 0;
  for (size_t i = ifrom; i < t.state.issues.size(); ++i) issues.push_back(t.state.issues[i]);
  return {{"id", t.resource.id},
          {"title", t.definition.title},
          {"owner", t.resource.owner},
          {"visibility", repo::ToString(t.resource.visibility)},
          {"version", t.version.number},
          {"version_hash", t.version.hash},
          {"definition", twin::ToJson(t.definition)},
          {"subject", t.state.subject},
          {"origin", t.state.origin},
          {"time", t.state.time},
          {"time_unix", t.state.origin + static_cast<std::int64_t>(std::llround(t.state.time * tu))},
          {"ensemble_size", t.state.members.size()},
          {"estimate", t.state.estimate},
          {"fit", t.state.fit},
          {"observations", t.state.observations.size()},
          {"interventions", t.state.interventions.size()},
          {"latest", latest},
          {"events", events},
          {"issue_count", t.state.issues.size()},
          {"issues", issues}};
}

Result<Json> TwinService::Save(const repo::Principal& p, Loaded& t, const std::string& message, size_t events_before) {
  repo::NewVersion v;
  v.message = message;
  v.files.push_back({kDefinitionFile, twin::ToJson(t.definition).dump(1), "application/json"});
  v.files.push_back({kStateFile, twin::ToJson(t.state).dump(), "application/json"});
  if (t.definition.model.kind == twin::ModelRef::Kind::kFile) v.files.push_back({kModelFile, t.model_sbml, "application/sbml+xml"});
  v.provenance.generated_by = "soma twin";
  if (t.definition.model.kind == twin::ModelRef::Kind::kResource) {
    v.provenance.derived_from.push_back(t.definition.model.id + "@" + t.definition.model.version);
  }
  v.index_text = "twin " + t.definition.title;
  SOMA_ASSIGN_OR_RETURN(t.version, repo_.PushVersion(p, t.resource.id, v));
  SOMA_ASSIGN_OR_RETURN(t.resource, repo_.GetResource(p, t.resource.id));
  std::vector<twin::TwinEvent> fresh(t.state.events.begin() + static_cast<long>(events_before), t.state.events.end());
  Publish(t.resource.id, fresh);
  return TwinJson(t);
}

void TwinService::Publish(const std::string& id, const std::vector<twin::TwinEvent>& events) {
  if (events.empty()) return;
  std::lock_guard lock(mu_);
  auto& list = published_[id];
  list.insert(list.end(), events.begin(), events.end());
  if (list.size() > kPublishedKept) list.erase(list.begin(), list.end() - kPublishedKept);
  cv_.notify_all();
}

std::vector<twin::TwinEvent> TwinService::WaitForEvents(const std::string& id, std::int64_t since, int timeout_ms) {
  std::unique_lock lock(mu_);
  auto ready = [&] {
    if (stopping_) return true;
    auto it = published_.find(id);
    return it != published_.end() && !it->second.empty() && it->second.back().seq > since;
  };
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready);
  std::vector<twin::TwinEvent> out;
  if (auto it = published_.find(id); it != published_.end()) {
    for (const auto& e : it->second) if (e.seq > since) out.push_back(e);
  }
  return out;
}

Status TwinService::Assimilate(Loaded& t, const std::vector<twin::TwinObservation>& obs, Json* issues, int* assimilated) {
  *assimilated = 0;
  size_t i = 0;
  while (i < obs.size()) {
    size_t j = i;
    while (j < obs.size() && obs[j].time == obs[i].time) ++j;
    std::vector<twin::TwinObservation> batch(obs.begin() + static_cast<long>(i), obs.begin() + static_cast<long>(j));
    if (batch[0].time < t.state.time) {
      for (const auto& o : batch) {
        issues->push_back({{"resource_id", "observation at " + std::to_string(o.unix_time)}, {"field", "time"},
                           {"reason", "before the twin's time; a filter cannot go back (not assimilated)"}});
      }
    } else {
      SOMA_ASSIGN_OR_RETURN(twin::AssimilationSummary s, t.engine->Assimilate(t.state, batch));
      Json items = Json::array();
      for (size_t k = 0; k < batch.size(); ++k) {
        t.state.observations.push_back(batch[k]);
        items.push_back({{"loinc", batch[k].loinc}, {"symbol", batch[k].symbol}, {"value", batch[k].value},
                         {"unit", batch[k].unit}, {"unix", batch[k].unix_time}});
      }
      Json pred = Json::object();
      for (size_t k = 0; k < s.symbols.size() && k < s.predicted_mean.size(); ++k) {
        pred[batch[k].symbol] = {{"mean", s.predicted_mean[k]}, {"sd", s.predicted_sd[k]}};
      }
      t.state.AddEvent("observation", s.time,
                       {{"observations", items}, {"predicted", pred},
                        {"ms", 1000 * (s.propagate_seconds + s.update_seconds)}});
      *assimilated += static_cast<int>(batch.size());
    }
    i = j;
  }
  if (*assimilated > 0 && !t.definition.alerts.empty()) {
    const auto& fs = t.definition.forecast;
    SOMA_ASSIGN_OR_RETURN(twin::TwinForecast f,
                          t.engine->Forecast(t.state, fs.horizon, fs.step, ForecastSeed(t.definition, t.state)));
    for (const auto& a : f.alerts) {
      t.state.AddEvent("alert", f.start, {{"name", a.name}, {"symbol", a.symbol}, {"probability", a.probability},
                                          {"first_time", a.first_time}, {"message", a.message}});
    }
  }
  return Status::Ok();
}

Result<Json> TwinService::Create(const repo::Principal& p, const Json& body) {
  if (p.anonymous()) return Unauthenticated("sign in to create a twin");
  if (!body.is_object() || !body.contains("definition")) return InvalidArgument("definition: required");
  for (auto it = body.begin(); it != body.end(); ++it) {
    static const std::vector<std::string> known = {"id", "definition", "bundle", "csv", "model_sbml", "visibility", "group", "license"};
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) return InvalidArgument(it.key() + ": unknown field");
  }
  if (body.contains("csv")) {
    return InvalidArgument("csv: a twin is created from a FHIR bundle with the patient's Consent; add CSV data with observe");
  }
  Loaded t;
  auto def = twin::ParseTwinDefinition(body["definition"]);
  if (!def.ok()) return def.status().WithContext("definition");
  t.definition = std::move(def).value();
  if (t.definition.model.kind == twin::ModelRef::Kind::kFile) {
    t.definition.model.file = kModelFile;
    if (!body.contains("model_sbml") || !body["model_sbml"].is_string()) {
      return InvalidArgument("model_sbml: required for a definition whose model is a file");
    }
    t.model_sbml = body["model_sbml"].get<std::string>();
  }
  SOMA_ASSIGN_OR_RETURN(t.engine, Engine(p, t.definition, t.model_sbml));

  formats::PatientRecord patient;
  bool has_patient = false;
  Json issues = Json::array();
  if (body.contains("bundle")) {
    if (!body["bundle"].is_object()) return InvalidArgument("bundle: must be a FHIR JSON object");
    auto b = formats::IngestFhir(body["bundle"].dump(), twin::FhirOptionsFor(t.definition, node_secret_));
    if (!b.ok()) return b.status().WithContext("bundle");
    Append(issues, IssuesJson(b->issues));
    if (b->patients.size() != 1) {
      return InvalidArgument("bundle: a twin is for one patient with an active Consent; found " +
                             std::to_string(b->patients.size()));
    }
    patient = std::move(b->patients[0]);
    has_patient = true;
  }
  std::int64_t origin = has_patient ? twin::EarliestTime(patient, NowSeconds()) : NowSeconds();
  SOMA_ASSIGN_OR_RETURN(t.state, t.engine->Initialise(has_patient ? patient.pseudonym : "", origin));
  twin::TwinData data = twin::MapPatientData(t.definition, patient, origin);
  Append(issues, data.issues);
  t.state.interventions = data.interventions;
  int assimilated = 0;
  SOMA_RETURN_IF_ERROR(Assimilate(t, data.observations, &issues, &assimilated));
  Append(t.state.issues, issues);

  repo::NewResource r;
  std::string visibility = "private";
  SOMA_RETURN_IF_ERROR(ReadString(body, "id", &r.id));
  SOMA_RETURN_IF_ERROR(ReadString(body, "visibility", &visibility));
  SOMA_RETURN_IF_ERROR(ReadString(body, "group", &r.group));
  SOMA_ASSIGN_OR_RETURN(r.visibility, repo::ParseVisibility(visibility));
  r.kind = repo::ResourceKind::kTwin;
  r.metadata.title = t.definition.title;
  r.metadata.keywords = {"twin"};
  SOMA_RETURN_IF_ERROR(ReadString(body, "license", &r.metadata.license));
  std::lock_guard write(write_mu_);
  SOMA_ASSIGN_OR_RETURN(t.resource, repo_.CreateResource(p, r));
  auto saved = Save(p, t, "twin created: " + std::to_string(assimilated) + " observations", 0);
  if (!saved.ok()) {
    (void)repo_.DeleteResource(p, t.resource.id);
    return saved.status();
  }
  return saved;
}

Result<Json> TwinService::Get(const repo::Principal& p, const std::string& id) {
  SOMA_ASSIGN_OR_RETURN(Loaded t, Load(p, id));
  return TwinJson(t);
}

Result<std::string> TwinService::Posterior(const repo::Principal& p, const std::string& id) {
  SOMA_ASSIGN_OR_RETURN(Loaded t, Load(p, id));
  if (t.state.members.empty()) return FailedPrecondition("twin '" + id + "' has no ensemble members");
  std::ostringstream csv;
  csv.precision(17);
  csv << "member";
  for (const std::string& pid : t.state.parameter_ids) csv << "," << pid;
  csv << "\n";
  for (size_t k = 0; k < t.state.members.size(); ++k) {
    csv << id << "-" << (k + 1);
    for (double theta : t.state.members[k].theta) csv << "," << std::exp(theta);
    csv << "\n";
  }
  return csv.str();
}

Result<Json> TwinService::List(const repo::Principal& p, const Params& query) {
  SOMA_RETURN_IF_ERROR(CheckKnownParams(query, {"limit", "offset"}));
  SOMA_ASSIGN_OR_RETURN(PageParams page, ParsePageParams(query));
  repo::ListQuery q;
  q.kind = repo::ResourceKind::kTwin;
  q.limit = page.limit;
  q.offset = page.offset;
  SOMA_ASSIGN_OR_RETURN(auto result, repo_.ListResources(p, q));
  Json items = Json::array();
  for (const auto& r : result.items) {
    items.push_back({{"id", r.id}, {"title", r.metadata.title}, {"owner", r.owner},
                     {"visibility", repo::ToString(r.visibility)}, {"version", r.version_count},
                     {"updated_ms", r.updated_ms}});
  }
  Json j = {{"items", items}};
  AddPaging(j, result.total, page.limit, page.offset);
  return j;
}

Result<Json> TwinService::Observe(const repo::Principal& p, const std::string& id, const Json& body) {
  if (!body.is_object()) return InvalidArgument("request body: must be a JSON object");
  if (p.anonymous()) return Unauthenticated("sign in to change a twin");
  std::lock_guard write(write_mu_);
  SOMA_ASSIGN_OR_RETURN(Loaded t, Load(p, id));
  SOMA_RETURN_IF_ERROR(CheckWrite(p, t.resource));
  const size_t events_before = t.state.events.size();
  Json issues = Json::array();
  std::vector<formats::PatientRecord> records;
  if (body.contains("resourceType")) {
    formats::FhirIngestOptions o = twin::FhirOptionsFor(t.definition, node_secret_);
    // Consent was checked when the twin was created from its bundle.
    o.require_consent = false;
    auto b = formats::IngestFhir(body.dump(), o);
    if (!b.ok()) return b.status().WithContext("bundle");
    Append(issues, IssuesJson(b->issues));
    records = std::move(b->patients);
  } else if (body.contains("csv")) {
    if (!body["csv"].is_string()) return InvalidArgument("csv: must be a string");
    formats::CsvIngestOptions o = twin::CsvOptionsFor(t.definition, node_secret_);
    o.require_consent = false;
    auto b = formats::IngestCsvTimeSeries(body["csv"].get<std::string>(), o);
    if (!b.ok()) return b.status().WithContext("csv");
    Append(issues, IssuesJson(b->issues));
    records = std::move(b->patients);
  } else {
    SOMA_ASSIGN_OR_RETURN(formats::PatientRecord r, RecordFromJson(body));
    r.pseudonym = t.state.subject;
    records.push_back(std::move(r));
  }
  std::vector<twin::TwinObservation> obs;
  for (const auto& r : records) {
    if (!t.state.subject.empty() && r.pseudonym != t.state.subject) {
      issues.push_back({{"resource_id", "Patient/" + r.pseudonym}, {"field", "subject"},
                        {"reason", "not this twin's patient; records ignored"}});
      continue;
    }
    twin::TwinData data = twin::MapPatientData(t.definition, r, t.state.origin);
    Append(issues, data.issues);
    for (const Json& iv : data.interventions) {
      double time = iv.value("time", iv.value("start", 0.0));
      if (time < t.state.time) {
        issues.push_back({{"resource_id", std::string(iv.value("type", "")) + " at model time " + std::to_string(time)},
                          {"field", "time"}, {"reason", "before the twin's time; not applied"}});
      } else {
        t.state.interventions.push_back(iv);
      }
    }
    obs.insert(obs.end(), data.observations.begin(), data.observations.end());
  }
  std::stable_sort(obs.begin(), obs.end(), [](const auto& a, const auto& b) { return a.time < b.time; });
  int assimilated = 0;
  SOMA_RETURN_IF_ERROR(Assimilate(t, obs, &issues, &assimilated));
  Append(t.state.issues, issues);
  SOMA_ASSIGN_OR_RETURN(Json twin_json, Save(p, t, "observe: " + std::to_string(assimilated) + " observations", events_before));
  Json events = Json::array();
  for (size_t i = events_before; i < t.state.events.size(); ++i) events.push_back(EventJson(t.state.events[i]));
  return Json{{"twin", twin_json}, {"assimilated", assimilated}, {"issues", issues}, {"events", events}};
}

Result<Json> TwinService::Forecast(const repo::Principal& p, const std::string& id, const Json& body) {
  if (!body.is_object()) return InvalidArgument("request body: must be a JSON object");
  if (p.anonymous()) return Unauthenticated("sign in to change a twin");
  std::lock_guard write(write_mu_);
  SOMA_ASSIGN_OR_RETURN(Loaded t, Load(p, id));
  SOMA_RETURN_IF_ERROR(CheckWrite(p, t.resource));
  SOMA_ASSIGN_OR_RETURN(ForecastWindow w, ParseForecastWindow(t.definition, body));
  const double horizon = w.horizon, step = w.step;
  const size_t events_before = t.state.events.size();
  SOMA_ASSIGN_OR_RETURN(twin::TwinForecast f,
                        t.engine->Forecast(t.state, horizon, step, ForecastSeed(t.definition, t.state)));
  Json out = ForecastJson(id, f, t.state.origin, t.definition.time_unit_seconds);
  t.state.AddEvent("forecast", f.start, {{"horizon", horizon}, {"step", step}, {"alerts", out["alerts"].size()}});
  for (const auto& a : f.alerts) {
    t.state.AddEvent("alert", f.start, {{"name", a.name}, {"symbol", a.symbol}, {"probability", a.probability},
                                        {"first_time", a.first_time}, {"message", a.message}});
  }
  SOMA_RETURN_IF_ERROR(Save(p, t, "forecast over " + std::to_string(horizon), events_before).status());
  return out;
}

Result<Json> TwinService::WhatIf(const repo::Principal& p, const std::string& id, const Json& body) {
  if (!body.is_object()) return InvalidArgument("request body: must be a JSON object");
  if (p.anonymous()) return Unauthenticated("sign in to run what-if forecasts");
  const Json scenarios = body.value("scenarios", Json());
  if (!scenarios.is_array() || scenarios.empty() || scenarios.size() > 8) {
    return InvalidArgument("scenarios: an array of 1 to 8 plans ({\"name\", \"actions\"}) is required");
  }
  SOMA_ASSIGN_OR_RETURN(Loaded t, Load(p, id));
  SOMA_ASSIGN_OR_RETURN(ForecastWindow w, ParseForecastWindow(t.definition, body, {"scenarios"}));
  std::vector<std::pair<std::string, Json>> plans;
  for (size_t i = 0; i < scenarios.size(); ++i) {
    const std::string at = "scenarios[" + std::to_string(i) + "]";
    const Json& s = scenarios[i];
    if (!s.is_object() || !s.contains("name") || !s["name"].is_string() || s["name"].get<std::string>().empty()) {
      return InvalidArgument(at + ".name: a non-empty name is required");
    }
    for (auto it = s.begin(); it != s.end(); ++it) {
      if (it.key() != "name" && it.key() != "actions") return InvalidArgument(at + "." + it.key() + ": unknown field");
    }
    SOMA_ASSIGN_OR_RETURN(Json planned, twin::PlannedInterventions(t.definition, s.value("actions", Json::array()),
                                                                   t.state.time, at + ".actions"));
    plans.emplace_back(s["name"].get<std::string>(), std::move(planned));
  }
  Json out = {{"twin", id}, {"version", t.version.number}, {"scenarios", Json::array()}};
  for (const auto& [name, planned] : plans) {
    twin::TwinState state = t.state;  // the plan joins a copy; nothing is saved
    for (const Json& iv : planned) state.interventions.push_back(iv);
    SOMA_ASSIGN_OR_RETURN(twin::TwinForecast f,
                          t.engine->Forecast(state, w.horizon, w.step, ForecastSeed(t.definition, t.state)));
    Json one = ForecastJson(id, f, t.state.origin, t.definition.time_unit_seconds);
    one["name"] = name;
    one["interventions"] = planned;
    out["scenarios"].push_back(std::move(one));
  }
  return out;
}

Result<Json> TwinService::Hindcast(const repo::Principal& p, const std::string& id, const Params& query) {
  SOMA_RETURN_IF_ERROR(CheckKnownParams(query, {"step"}));
  SOMA_ASSIGN_OR_RETURN(Loaded t, Load(p, id));
  double step = std::max(t.definition.forecast.step, t.state.time / 2000.0);
  if (auto v = GetParam(query, "step")) {
    size_t used = 0;
    try {
      step = std::stod(*v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != v->size() || !(step > 0) || !std::isfinite(step)) {
      return InvalidArgument("step = '" + *v + "': must be a number > 0 (model time units)");
    }
  }
  // Load checked the caller's access; the key names the version's content.
  char step_text[32];
  std::snprintf(step_text, sizeof step_text, "%.17g", step);
  const std::string key = id + "\n" + t.version.hash + "\n" + step_text;
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < hindcasts_.size(); ++i) {
      if (hindcasts_[i].key != key) continue;
      std::rotate(hindcasts_.begin(), hindcasts_.begin() + static_cast<std::ptrdiff_t>(i),
                  hindcasts_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      Json out = hindcasts_.front().value;
      out["cached"] = true;
      return out;
    }
  }
  SOMA_ASSIGN_OR_RETURN(twin::TwinForecast f, t.engine->Hindcast(t.state, step));
  Json out = ForecastJson(id, f, t.state.origin, t.definition.time_unit_seconds);
  out["kind"] = "hindcast";
  out["version"] = t.version.number;
  out["cached"] = false;
  std::lock_guard lock(mu_);
  std::erase_if(hindcasts_, [&](const CachedHindcast& c) { return c.key == key; });  // a concurrent twin
  hindcasts_.insert(hindcasts_.begin(), {key, out});
  if (hindcasts_.size() > kHindcastCacheSize) hindcasts_.pop_back();
  return out;
}

Json TwinService::JobJson(const Job& j) const {
  Json out = {{"id", j.id}, {"twin", j.twin}, {"state", j.state}, {"progress", j.progress}, {"message", j.message}};
  if (j.state == "done") out["result"] = j.result;
  if (j.state == "failed") {
    out["error"] = {{"code", std::string(ErrorCodeName(j.error.code()))}, {"detail", j.error.message()}};
  }
  return out;
}

void TwinService::RunFit(repo::Principal p, std::string id, std::string job_id, int starts, bool profile) {
  auto update = [&](auto&& f) {
    std::lock_guard lock(mu_);
    f(jobs_[job_id]);
  };
  update([](Job& j) { j.state = "running"; });
  // Observations wait while a fit runs, so the fit sees and saves one state.
  std::lock_guard write(write_mu_);
  Status status;
  Json result;
  auto loaded = Load(p, id);
  if (!loaded.ok()) {
    status = loaded.status();
  } else {
    Loaded& t = *loaded;
    const size_t events_before = t.state.events.size();
    twin::FitOptions o;
    o.starts = starts;
    o.profile = profile;
    o.seed = t.definition.assimilation.seed;
    o.progress = [&](double f, const std::string& m) {
      update([&](Job& j) {
        j.progress = f;
        j.message = m;
      });
    };
    auto fit = twin::FitTwin(*t.engine, t.state, o);
    if (!fit.ok()) {
      status = fit.status();
    } else {
      result = *fit;
      t.state.AddEvent("fit", t.state.time, {{"job", job_id}, {"report", (*fit).value("report", "")}});
      auto saved = Save(p, t, "fit: MAP estimate", events_before);
      if (!saved.ok()) status = saved.status();
    }
  }
  update([&](Job& j) {
    j.state = status.ok() ? "done" : "failed";
    j.error = status;
    j.result = result;
    j.progress = 1.0;
    if (!status.ok()) j.message = status.message();
  });
}

Result<Json> TwinService::StartFit(const repo::Principal& p, const std::string& id, const Json& body) {
  if (p.anonymous()) return Unauthenticated("sign in to change a twin");
  SOMA_ASSIGN_OR_RETURN(Loaded t, Load(p, id));
  SOMA_RETURN_IF_ERROR(CheckWrite(p, t.resource));
  int starts = 4;
  bool profile = false;
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() == "profile") {
      if (!it->is_boolean()) return InvalidArgument("profile: must be true or false");
      profile = it->get<bool>();
      continue;
    }
    if (it.key() != "multistart") return InvalidArgument(it.key() + ": unknown field");
    if (!it->is_number_integer() || it->get<int>() < 1 || it->get<int>() > 100) {
      return InvalidArgument("multistart: must be an integer in 1..100");
    }
    starts = it->get<int>();
  }
  if (t.definition.Personalised().empty()) return FailedPrecondition("twin fit: the definition personalises no parameter");
  if (t.state.observations.empty()) return FailedPrecondition("twin fit: the twin has no observations yet");
  if (!twin::FitAvailable()) {
    return Unsupported("twin fit: MAP personalisation needs soma::infer, which this build does not include; "
                       "the ensemble Kalman filter estimate is in 'estimate'");
  }
  Job job;
  job.id = "fit-" + repo::RandomHex(6);
  job.twin = id;
  job.owner = p.user;
  Json out;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Unavailable("the server is stopping");
    jobs_[job.id] = job;
    out = JobJson(job);
    threads_.emplace_back(&TwinService::RunFit, this, p, id, job.id, starts, profile);
  }
  return out;
}

Result<Json> TwinService::GetJob(const repo::Principal& p, const std::string& id, const std::string& job) {
  SOMA_ASSIGN_OR_RETURN(repo::Resource r, repo_.GetResource(p, id));
  if (r.kind != repo::ResourceKind::kTwin) return NotFound("'" + id + "' is not a twin");
  std::lock_guard lock(mu_);
  auto it = jobs_.find(job);
  if (it == jobs_.end() || it->second.twin != id) return NotFound("no fit job '" + job + "' for twin '" + id + "'");
  return JobJson(it->second);
}

Result<std::vector<twin::TwinEvent>> TwinService::Events(const repo::Principal& p, const std::string& id,
                                                         std::int64_t since) {
  SOMA_ASSIGN_OR_RETURN(repo::Resource r, repo_.GetResource(p, id));
  if (r.kind != repo::ResourceKind::kTwin) return NotFound("'" + id + "' is not a twin");
  SOMA_ASSIGN_OR_RETURN(repo::Version v, repo_.GetVersion(p, id, "latest"));
  SOMA_ASSIGN_OR_RETURN(std::string state_text, repo_.ReadFile(p, id, v.hash, kStateFile));
  Json state = Json::parse(state_text, nullptr, false);
  if (state.is_discarded()) return DataLoss(id + ": state.json is not JSON");
  SOMA_ASSIGN_OR_RETURN(twin::TwinState s, twin::TwinStateFromJson(state));
  std::vector<twin::TwinEvent> out;
  for (const auto& e : s.events) if (e.seq > since) out.push_back(e);
  return out;
}

}  // namespace soma::server
