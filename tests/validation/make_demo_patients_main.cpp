// Writes the demo patients shipped in data/demo-patients: FHIR R4 bundles of
// synthetic people with type 1 diabetes, generated from the simglucose
// virtual population with models/t1d-uva-padova.xml.
//
//   soma_make_demo_patients [--out DIR] [--clinical DIR] [--model SBML] [--days N] [--seed S]
//
// Per patient (adult#001, adult#004, adolescent#003 by default): N days
// (default 2) from the patient's steady state; three meals a day at times
// and sizes drawn around 07:00/40 g, 12:00/70 g, 19:00/80 g (times +-45 min,
// grams +-25%, uniform, rounded to 5 min and 5 g); a bolus of grams/CR units
// with each meal and basal insulin u2ss all day (simglucose's rules, as in
// the validation day). The CGM stream is the model's noise-free CGM every 5
// min plus Gaussian noise of SD 7 mg/dL (a stated, simple noise model: a
// real sensor's error is autocorrelated), rounded to 1 mg/dL and clipped to
// the sensor range 39..400 mg/dL. Every value comes from the simulation and
// the seeded noise; nothing is typed in.
//
// Each bundle holds a Patient with FAKE direct identifiers (name, address,
// identifier, exact birth date: they exist to show that ingestion drops
// them), an active permit Consent, CGM Observations (LOINC 99504-3, mg/dL),
// carbohydrate intake Observations (LOINC 9059-7, g) and the meal boluses as
// insulin MedicationAdministrations (dose in U). Basal insulin is the
// patient's steady basal u2ss, which the model starts from and the bundle
// does not repeat. DIR/demo-patient-N.truth.json records the simulated truth
// (the patient's parameters, the noise-free CGM) for checks of
// personalisation; DIR/demo-patient-N.twin.json is a twin definition for the
// patient (docs/twins.md): the CGM stream with the noise it was made with,
// meals, boluses into Isc1 (6000/BW pmol/kg per U), and log-normal priors on
// Vmx and kp3 from the median and log-SD of the 30 virtual patients.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "formats/sbml/sbml_import.h"
#include "t1d_protocol.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace soma::validation;  // NOLINT(google-build-using-namespace)

namespace {

struct Args {
  fs::path out = fs::path(SOMA_SOURCE_DIR) / "data" / "demo-patients";
  fs::path clinical = fs::path(SOMA_SHARED_DIR) / "clinical";
  fs::path model = fs::path(SOMA_SOURCE_DIR) / "models" / "t1d-uva-padova.xml";
  int days = 2;
  unsigned seed = 20261205;
  std::vector<std::string> patients = {"adult#001", "adult#004", "adolescent#003"};
};

// 2026-01-05T00:00:00Z plus `minutes`, as a FHIR dateTime.
std::string Timestamp(double minutes) {
  const std::time_t base = 1767571200;  // 2026-01-05T00:00:00Z
  std::time_t t = base + static_cast<std::time_t>(std::llround(minutes * 60.0));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Slug(std::string name) {
  for (char& c : name) {
    if (c == '#') c = '-';
  }
  return name;
}

json Coding(const char* system, const std::string& code, const std::string& display) {
  return json{{"coding", json::array({json{{"system", system}, {"code", code}, {"display", display}}})}};
}

json Entry(const json& resource) {
  return json{{"fullUrl", "urn:uuid:" + resource["id"].get<std::string>()}, {"resource", resource}};
}

int Run(const Args& a) {
  auto patients = ReadVirtualPatients(a.clinical / "simglucose");
  if (!patients.ok()) {
    std::cerr << "soma_make_demo_patients: " << patients.status().ToString() << "\n";
    return patients.status().code() == soma::ErrorCode::kIoError ? 77 : 1;
  }
  auto imported = soma::formats::LoadSbmlFile(a.model);
  if (!imported.ok()) {
    std::cerr << "soma_make_demo_patients: " << imported.status().ToString() << "\n";
    return 1;
  }
  fs::create_directories(a.out);
  // Population priors of the personalised parameters: median and SD of the
  // logs over every virtual patient.
  json priors = json::array();
  for (const char* id : {"Vmx", "kp3"}) {
    std::vector<double> logs;
    for (const VirtualPatient& v : *patients) logs.push_back(std::log(v.values.at(id)));
    std::sort(logs.begin(), logs.end());
    const double n = static_cast<double>(logs.size());
    const double median = logs.size() % 2 ? logs[logs.size() / 2] : 0.5 * (logs[logs.size() / 2 - 1] + logs[logs.size() / 2]);
    double mean = 0, var = 0;
    for (double x : logs) mean += x / n;
    for (double x : logs) var += (x - mean) * (x - mean) / (n - 1);
    priors.push_back({{"id", id},
                      {"prior", {{"distribution", "log-normal"}, {"median", std::round(std::exp(median) * 1e9) / 1e9},
                                 {"sigma", std::round(std::sqrt(var) * 1e4) / 1e4}}},
                      {"lower", std::round(std::exp(median) * 0.1 * 1e9) / 1e9},
                      {"upper", std::round(std::exp(median) * 10.0 * 1e9) / 1e9},
                      {"personalised", true}});
  }
  std::mt19937_64 rng(a.seed);
  int index = 0;
  for (const std::string& name : a.patients) {
    ++index;
    const VirtualPatient* p = nullptr;
    for (const VirtualPatient& v : *patients) {
      if (v.name == name) p = &v;
    }
    if (p == nullptr) {
      std::cerr << "soma_make_demo_patients: no virtual patient '" << name << "'\n";
      return 1;
    }
    DayProtocol protocol;
    protocol.end = 1440.0 * a.days;
    protocol.meals.clear();
    std::uniform_real_distribution<double> shift(-45.0, 45.0), scale(0.75, 1.25);
    const double base_time[3] = {420.0, 720.0, 1140.0}, base_grams[3] = {40.0, 70.0, 80.0};
    for (int d = 0; d < a.days; ++d) {
      for (int m = 0; m < 3; ++m) {
        const double t = 1440.0 * d + 5.0 * std::round((base_time[m] + shift(rng)) / 5.0);
        const double g = 5.0 * std::round(base_grams[m] * scale(rng) / 5.0);
        protocol.meals.push_back({t, g});
      }
    }
    auto sim = SimulateDay(imported->model, *p, protocol);
    if (!sim.ok()) {
      std::cerr << "soma_make_demo_patients: " << sim.status().ToString() << "\n";
      return 1;
    }
    size_t cgm_col = 0;
    for (size_t c = 0; c < sim->columns.size(); ++c) {
      if (sim->columns[c] == "CGM") cgm_col = c;
    }
    if (cgm_col == 0) {
      std::cerr << "soma_make_demo_patients: the model reports no CGM\n";
      return 1;
    }

    const std::string slug = Slug(name);
    const std::string pid = "demo-" + std::to_string(index);
    json entries = json::array();
    json patient = {{"resourceType", "Patient"},
                    {"id", pid},
                    {"identifier", json::array({json{{"system", "urn:oid:2.999.1.1"},
                                                     {"value", "DEMO-MRN-00" + std::to_string(index)}}})},
                    {"name", json::array({json{{"family", "Example"}, {"given", json::array({"Demo" + std::to_string(index)})}}})},
                    {"telecom", json::array({json{{"system", "phone"}, {"value", "+00 000 000 00" + std::to_string(index)}}})},
                    {"address", json::array({json{{"line", json::array({"1 Nowhere Street"})}, {"city", "Exampletown"}}})},
                    {"gender", index % 2 == 0 ? "female" : "male"},
                    {"birthDate", std::to_string(1990 - index) + "-03-1" + std::to_string(index)}};
    entries.push_back(Entry(patient));
    const json subject = {{"reference", "Patient/" + pid}};
    entries.push_back(Entry({{"resourceType", "Consent"},
                             {"id", "consent-1"},
                             {"status", "active"},
                             {"scope", Coding("http://terminology.hl7.org/CodeSystem/consentscope", "research", "Research")},
                             {"category", json::array({Coding("http://loinc.org", "59284-0", "Patient Consent")})},
                             {"patient", subject},
                             {"provision", {{"type", "permit"}}}}));

    std::normal_distribution<double> noise(0.0, 7.0);
    json truth_cgm = json::array();
    int n_obs = 0;
    for (size_t row = 0; row < sim->rows; row += 5) {
      const double t = sim->at(row, 0), cgm = sim->at(row, cgm_col);
      truth_cgm.push_back({t, std::round(cgm * 1e4) / 1e4});  // 4 decimals: stable bytes
      const double reading = std::clamp(std::round(cgm + noise(rng)), 39.0, 400.0);
      entries.push_back(Entry({{"resourceType", "Observation"},
                               {"id", "cgm-" + std::to_string(++n_obs)},
                               {"status", "final"},
                               {"code", Coding("http://loinc.org", "99504-3", "Glucose [Mass/volume] in Interstitial fluid")},
                               {"subject", subject},
                               {"effectiveDateTime", Timestamp(t)},
                               {"valueQuantity", {{"value", reading}, {"unit", "mg/dL"}, {"system", "http://unitsofmeasure.org"}, {"code", "mg/dL"}}}}));
    }
    const json insulin = Coding("http://snomed.info/sct", "67866001", "Insulin");
    const json route = Coding("http://snomed.info/sct", "34206005", "Subcutaneous route");
    int n_meal = 0;
    for (const Meal& m : protocol.meals) {
      ++n_meal;
      entries.push_back(Entry({{"resourceType", "Observation"},
                               {"id", "meal-" + std::to_string(n_meal)},
                               {"status", "final"},
                               {"code", Coding("http://loinc.org", "9059-7", "Carbohydrate intake Estimated")},
                               {"subject", subject},
                               {"effectiveDateTime", Timestamp(m.time)},
                               {"valueQuantity", {{"value", m.grams}, {"unit", "g"}, {"system", "http://unitsofmeasure.org"}, {"code", "g"}}}}));
      const double units = std::round(m.grams / p->carb_ratio * 100.0) / 100.0;
      entries.push_back(Entry({{"resourceType", "MedicationAdministration"},
                               {"id", "bolus-" + std::to_string(n_meal)},
                               {"status", "completed"},
                               {"medicationCodeableConcept", insulin},
                               {"subject", subject},
                               {"effectiveDateTime", Timestamp(m.time)},
                               {"dosage", {{"route", route}, {"dose", {{"value", units}, {"unit", "U"}, {"system", "http://unitsofmeasure.org"}, {"code", "[iU]"}}}}}}));
    }
    json bundle = {{"resourceType", "Bundle"}, {"id", "demo-patient-" + std::to_string(index)}, {"type", "collection"}, {"entry", entries}};
    json truth = {{"virtual_patient", name},
                  {"source", "simglucose vpatient_params.csv (../shared/clinical)"},
                  {"model", "models/t1d-uva-padova.xml"},
                  {"start", Timestamp(0)},
                  {"days", a.days},
                  {"seed", a.seed},
                  {"cgm_noise", "additive Gaussian, SD 7 mg/dL, every 5 min, rounded, clipped to 39..400"},
                  {"carb_ratio_g_per_U", p->carb_ratio},
                  {"body_weight_kg", p->values.at("BW")},
                  {"parameters", p->values},
                  {"meals", json::array()},
                  {"cgm_noise_free", truth_cgm}};
    for (const Meal& m : protocol.meals) truth["meals"].push_back({{"time_min", m.time}, {"grams", m.grams}});
    const double bw = p->values.at("BW");
    json twin = {
        {"schema", "soma.twin/1"},
        {"title", "Demo patient " + std::to_string(index) + " (type 1 diabetes, CGM)"},
        {"model", {{"bundled", "t1d-uva-padova.xml"}}},
        {"time_unit_seconds", 60},
        {"observations", json::array({{{"loinc", "99504-3"}, {"symbol", "CGM"}, {"unit", "mg/dL"},
                                       {"noise", {{"model", "additive"}, {"sd", 7}}}}})},
        {"inputs",
         {{"meal", {{"rate", "meal_rate"}, {"ingested", "meal_ingested"}, {"units_per_gram", 1000},
                    {"eat_rate_g_per_step", 5}, {"step", 1}}},
          {"doses", json::array({{{"name", "insulin bolus (subcutaneous)"}, {"route_code", "34206005"},
                                  {"kind", "bolus"}, {"target", "Isc1"}, {"unit", "[iU]"},
                                  {"factor", std::round(6000.0 / bw * 1e4) / 1e4}}})}}},
        {"parameters", priors},
        {"assimilation", {{"ensemble_size", 40}, {"seed", 1}, {"inflation", 1.02}, {"parameter_drift", 0.002},
                          {"process_noise", {{"Gp", 0.3}}}}},
        {"forecast", {{"horizon", 120}, {"step", 5}, {"quantiles", {0.05, 0.25, 0.5, 0.75, 0.95}}}},
        {"alerts", json::array({{{"name", "hypo-30min"}, {"symbol", "BG"}, {"below", 70}, {"within", 30}, {"probability", 0.2}},
                                {{"name", "hyper-2h"}, {"symbol", "BG"}, {"above", 250}, {"within", 120}, {"probability", 0.5}}})},
        {"fit", {{"assume_continuous_switches", true}}}};
    std::ofstream(a.out / ("demo-patient-" + std::to_string(index) + ".twin.json")) << twin.dump(1) << "\n";
    const fs::path bundle_path = a.out / ("demo-patient-" + std::to_string(index) + ".json");
    std::ofstream(bundle_path) << bundle.dump(1) << "\n";
    std::ofstream(a.out / ("demo-patient-" + std::to_string(index) + ".truth.json")) << truth.dump(1) << "\n";
    std::cout << bundle_path.string() << ": " << name << ", " << n_obs << " CGM readings, " << protocol.meals.size()
              << " meals\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "usage: soma_make_demo_patients [--out DIR] [--clinical DIR] [--model SBML] [--days N] [--seed S]\n";
      return 2;
    }
    std::string v = argv[++i];
    if (k == "--out") a.out = v;
    else if (k == "--clinical") a.clinical = v;
    else if (k == "--model") a.model = v;
    else if (k == "--days") a.days = std::stoi(v);
    else if (k == "--seed") a.seed = static_cast<unsigned>(std::stoul(v));
    else {
      std::cerr << "soma_make_demo_patients: unknown option " << k << "\n";
      return 2;
    }
  }
  return Run(a);
}
