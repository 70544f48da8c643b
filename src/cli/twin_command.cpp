// `soma twin create|observe|forecast|whatif|hindcast|fit|show|posterior`: patient twins from the
// command line, against a server (--server URL) or a local data folder
// (--data DIR), through the /v1/twins routes (docs/twins.md).

#include <CLI/CLI.hpp>

#include <algorithm>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/model_loading.h"
#include "cli/output.h"
#include "core/files.h"
#include "server/api_client.h"
#include "server/bundled_models.h"

namespace soma::cli {

namespace {

namespace fs = std::filesystem;
using server::EncodePath;
using server::Json;

Result<Json> ReadJsonFile(const std::string& path) {
  SOMA_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return ParseError(path + ": not a JSON object");
  return j;
}

std::string TwinPath(const std::string& id) { return "/v1/twins/" + EncodePath(id); }

void PrintTwin(const Json& t) {
  std::cout << t.value("id", "") << " (" << t.value("title", "") << "), version " << t.value("version", 0) << ", "
            << t.value("visibility", "") << "\n";
  std::cout << "  subject " << t.value("subject", "") << ", model time " << t.value("time", 0.0) << " (unix "
            << t.value("time_unix", 0) << "), " << t.value("observations", 0) << " observations, "
            << t.value("interventions", 0) << " interventions, ensemble " << t.value("ensemble_size", 0) << "\n";
  if (t.contains("estimate") && t["estimate"].contains("parameters")) {
    for (const Json& p : t["estimate"]["parameters"]) {
      std::cout << "  " << p.value("id", "") << " = " << p.value("median", 0.0) << " [" << p.value("lower95", 0.0)
                << ", " << p.value("upper95", 0.0) << "] (95 % ensemble interval)\n";
    }
  }
  if (t.contains("latest")) {
    for (auto it = t["latest"].begin(); it != t["latest"].end(); ++it) {
      std::cout << "  latest " << it.key() << " = " << (*it).value("value", 0.0) << " " << (*it).value("unit", "") << "\n";
    }
  }
  if (t.value("issue_count", 0) > 0) std::cout << "  " << t["issue_count"] << " intake issue(s)\n";
  if (t.contains("events")) {
    for (const Json& e : t["events"]) {
      if (e.value("type", "") == "alert") std::cout << "  ALERT " << e["data"].value("message", "") << "\n";
    }
  }
}

int Emit(const Json& j, bool json, void (*text)(const Json&)) {
  if (json) {
    std::cout << j.dump(1) << "\n";
  } else {
    text(j);
  }
  return 0;
}

struct CreateArgs {
  server::ClientTarget target;
  std::string model, definition, bundle, id, visibility = "private", group;
  bool json = false;
};

int RunCreate(const CreateArgs& a) {
  auto def = ReadJsonFile(a.definition);
  if (!def.ok()) return ReportError(def.status());
  Json body = {{"definition", *def}, {"visibility", a.visibility}};
  if (!a.id.empty()) body["id"] = a.id;
  if (!a.group.empty()) body["group"] = a.group;
  if (!a.model.empty()) {
    std::error_code ec;
    bool bundled = false;
    for (const auto& f : server::BundledModels()) bundled |= f.name == a.model;
    if (bundled) {
      body["definition"]["model"] = {{"bundled", a.model}};
    } else if (fs::is_regular_file(a.model, ec)) {
      auto sbml = ReadWholeFile(a.model);
      if (!sbml.ok()) return ReportError(sbml.status());
      body["definition"]["model"] = {{"file", "model.xml"}};
      body["model_sbml"] = *sbml;
    } else {
      body["definition"]["model"] = {{"resource", a.model}, {"version", "latest"}};
    }
  }
  if (!a.bundle.empty()) {
    auto b = ReadJsonFile(a.bundle);
    if (!b.ok()) return ReportError(b.status());
    body["bundle"] = *b;
  }
  auto client = server::Connect(a.target);
  if (!client.ok()) return ReportError(client.status());
  std::cerr << "creating the twin (ensemble initialisation and assimilation of the bundle's data)...\n";
  auto r = (*client)->SendJson("POST", "/v1/twins", {}, &body);
  if (!r.ok()) return ReportError(r.status());
  return Emit(*r, a.json, PrintTwin);
}

struct ObserveArgs {
  server::ClientTarget target;
  std::string id, fhir, csv, json_file;
  bool json = false;
};

int RunObserve(const ObserveArgs& a) {
  Json body;
  if (!a.fhir.empty()) {
    auto b = ReadJsonFile(a.fhir);
    if (!b.ok()) return ReportError(b.status());
    body = *b;
  } else if (!a.csv.empty()) {
    auto text = ReadWholeFile(a.csv);
    if (!text.ok()) return ReportError(text.status());
    body = {{"csv", *text}};
  } else {
    auto b = ReadJsonFile(a.json_file);
    if (!b.ok()) return ReportError(b.status());
    body = *b;
  }
  auto client = server::Connect(a.target);
  if (!client.ok()) return ReportError(client.status());
  auto r = (*client)->SendJson("POST", TwinPath(a.id) + "/observations", {}, &body);
  if (!r.ok()) return ReportError(r.status());
  if (a.json) return Emit(*r, true, PrintTwin);
  std::cout << "assimilated " << (*r)["assimilated"] << " observation(s); " << (*r)["issues"].size() << " issue(s)\n";
  for (const Json& i : (*r)["issues"]) {
    std::cout << "  issue: " << i.value("resource_id", "") << " " << i.value("field", "") << ": " << i.value("reason", "")
              << "\n";
  }
  for (const Json& e : (*r)["events"]) {
    if (e.value("type", "") == "alert") std::cout << "  ALERT " << e["data"].value("message", "") << "\n";
  }
  PrintTwin((*r)["twin"]);
  return 0;
}

void PrintSeries(const Json& r, const std::string& format);

struct ForecastArgs {
  server::ClientTarget target;
  std::string id, format = "csv";
  double horizon = 0, step = 0;
};

int RunForecast(const ForecastArgs& a) {
  if (a.format != "csv" && a.format != "json") return ReportError(InvalidArgument("--format: csv or json"));
  Json body = Json::object();
  if (a.horizon > 0) body["horizon"] = a.horizon;
  if (a.step > 0) body["step"] = a.step;
  auto client = server::Connect(a.target);
  if (!client.ok()) return ReportError(client.status());
  auto r = (*client)->SendJson("POST", TwinPath(a.id) + "/forecast", {}, &body);
  if (!r.ok()) return ReportError(r.status());
  for (const Json& al : (*r)["alerts"]) std::cerr << "ALERT " << al.value("message", "") << "\n";
  PrintSeries(*r, a.format);
  return 0;
}

// A forecast's CSV rows, each after `prefix`: symbol, time, mean and each
// quantile.
void PrintSeriesRows(const Json& r, const std::string& prefix) {
  for (auto it = r["series"].begin(); it != r["series"].end(); ++it) {
    const Json& s = *it;
    for (size_t k = 0; k < s["times"].size(); ++k) {
      std::cout << prefix << it.key() << "," << s["times_unix"][k] << "," << s["times"][k].get<double>() << ","
                << s["mean"][k].get<double>();
      for (const Json& q : s["quantiles"]) std::cout << "," << q[k].get<double>();
      std::cout << "\n";
    }
  }
}

void PrintSeriesHeader(const Json& r, const std::string& prefix) {
  std::cout << prefix << "symbol,time_unix,time,mean";
  for (const Json& q : r["quantiles"]) std::cout << ",q" << q.get<double>();
  std::cout << "\n";
}

// A forecast or hindcast response as JSON, or as CSV: one row per symbol
// and time with the mean and each quantile.
void PrintSeries(const Json& r, const std::string& format) {
  if (format == "json") {
    std::cout << r.dump(1) << "\n";
    return;
  }
  PrintSeriesHeader(r, "");
  PrintSeriesRows(r, "");
}

struct WhatIfArgs {
  server::ClientTarget target;
  std::string id, plans, format = "csv";
};

// What-if: the plans of a JSON file ({"horizon"?, "step"?, "scenarios":
// [...]}, docs/twins.md) forecast side by side; CSV rows start with the
// plan's name.
int RunWhatIf(const WhatIfArgs& a) {
  if (a.format != "csv" && a.format != "json") return ReportError(InvalidArgument("--format: csv or json"));
  auto body = ReadJsonFile(a.plans);
  if (!body.ok()) return ReportError(body.status());
  auto client = server::Connect(a.target);
  if (!client.ok()) return ReportError(client.status());
  auto r = (*client)->SendJson("POST", TwinPath(a.id) + "/whatif", {}, &*body);
  if (!r.ok()) return ReportError(r.status());
  if (a.format == "json") {
    std::cout << r->dump(1) << "\n";
    return 0;
  }
  const Json& scenarios = (*r)["scenarios"];
  if (!scenarios.empty()) PrintSeriesHeader(scenarios[0], "scenario,");
  for (const Json& s : scenarios) {
    std::string name = s.value("name", "");
    if (name.find_first_of(",\"\n") != std::string::npos) {
      std::string quoted = "\"";
      for (char ch : name) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      name = quoted + "\"";
    }
    PrintSeriesRows(s, name + ",");
    for (const Json& al : s["alerts"]) std::cerr << "ALERT (" << s.value("name", "") << ") " << al.value("message", "") << "\n";
  }
  return 0;
}

// The twin's history replayed with its personalised parameters, from time 0
// to the twin's time: the fit to compare with the observations.
int RunHindcast(const ForecastArgs& a) {
  if (a.format != "csv" && a.format != "json") return ReportError(InvalidArgument("--format: csv or json"));
  auto client = server::Connect(a.target);
  if (!client.ok()) return ReportError(client.status());
  server::Params query;
  if (a.step > 0) {
    std::ostringstream step;
    step.precision(17);
    step << a.step;
    query.emplace("step", step.str());
  }
  auto r = (*client)->SendJson("GET", TwinPath(a.id) + "/hindcast", query);
  if (!r.ok()) return ReportError(r.status());
  PrintSeries(*r, a.format);
  return 0;
}

struct IdArgs {
  server::ClientTarget target;
  std::string id;
  bool json = false;
  bool profile = false;  // fit: profile likelihood intervals too
};

int RunShow(const IdArgs& a) {
  auto client = server::Connect(a.target);
  if (!client.ok()) return ReportError(client.status());
  auto r = (*client)->SendJson("GET", TwinPath(a.id));
  if (!r.ok()) return ReportError(r.status());
  return Emit(*r, a.json, PrintTwin);
}

int RunFit(const IdArgs& a) {
  auto client = server::Connect(a.target);
  if (!client.ok()) return ReportError(client.status());
  Json body = Json::object();
  if (a.profile) body["profile"] = true;
  auto job = (*client)->SendJson("POST", TwinPath(a.id) + "/fit", {}, &body);
  if (!job.ok()) return ReportError(job.status());
  std::string job_id = job->value("id", "");
  Json j = *job;
  while (j.value("state", "") == "queued" || j.value("state", "") == "running") {
    std::cerr << "\rfit: " << j.value("state", "") << " " << static_cast<int>(100 * j.value("progress", 0.0)) << " % "
              << j.value("message", "") << std::flush;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto next = (*client)->SendJson("GET", TwinPath(a.id) + "/fit/" + EncodePath(job_id));
    if (!next.ok()) return ReportError(next.status());
    j = *next;
  }
  std::cerr << "\n";
  if (j.value("state", "") != "done") {
    std::cerr << "fit failed: " << j.value("message", "") << "\n";
    return 1;
  }
  if (a.json) {
    std::cout << j.dump(1) << "\n";
  } else {
    std::cout << j["result"].dump(1) << "\n";
  }
  return 0;
}

struct PosteriorArgs {
  server::ClientTarget target;
  std::string id;
  std::string output;
};

// The twin's posterior over its personalised parameters as its ensemble
// holds it (after `fit`: draws from the Laplace posterior; otherwise the
// filter's ensemble), as a population table for `soma trial`: a header
// "member,<parameter>...", one row per ensemble member, linear values.
int RunPosterior(const PosteriorArgs& a) {
  auto client = server::Connect(a.target);
  if (!client.ok()) return ReportError(client.status());
  auto csv = (*client)->SendBytes("GET", "/v1/twins/" + EncodePath(a.id) + "/posterior");
  if (!csv.ok()) return ReportError(csv.status().WithContext("twin '" + a.id + "'"));
  Status written = WriteOutput(a.output, *csv);
  if (!written.ok()) return ReportError(written);
  const long rows = static_cast<long>(std::count(csv->begin(), csv->end(), '\n')) - 1;
  std::cerr << "twin posterior: " << rows << " members of '" << a.id << "'\n";
  return 0;
}

}  // namespace

void AddTwinCommand(CLI::App& app) {
  CLI::App* twin = app.add_subcommand("twin", "Patient digital twins: create, observe, forecast, whatif, hindcast, fit, show, posterior");
  twin->require_subcommand(1);

  auto create = std::make_shared<CreateArgs>();
  CLI::App* c = twin->add_subcommand("create", "Create a twin from a definition and a FHIR bundle");
  c->add_option("--model", create->model,
                "Bundled model file name, local SBML file, or repository model id (default: the definition's model)");
  c->add_option("--definition", create->definition, "Twin definition JSON (docs/twins.md)")->required()->check(CLI::ExistingFile);
  c->add_option("--bundle", create->bundle, "FHIR R4 bundle with the patient, Consent and data")->check(CLI::ExistingFile);
  c->add_option("--id", create->id, "Twin id (default: derived from the title)");
  c->add_option("--visibility", create->visibility, "private (default), group or public")->capture_default_str();
  c->add_option("--group", create->group, "Group of a group-visible twin");
  c->add_flag("--json", create->json, "Print the API's JSON");
  AddConnectionOptions(c, &create->target);
  c->callback([create] { SetExitCode(RunCreate(*create)); });

  auto observe = std::make_shared<ObserveArgs>();
  c = twin->add_subcommand("observe", "Assimilate new data into a twin");
  c->add_option("id", observe->id, "Twin id")->required();
  auto* fhir = c->add_option("--fhir", observe->fhir, "FHIR R4 bundle")->check(CLI::ExistingFile);
  auto* csv = c->add_option("--csv", observe->csv, "CSV time series (docs/clinical-data.md)")->check(CLI::ExistingFile);
  auto* js = c->add_option("--observations", observe->json_file, "JSON observations/meals/doses (docs/twins.md)")
                 ->check(CLI::ExistingFile);
  fhir->excludes(csv)->excludes(js);
  csv->excludes(js);
  c->add_flag("--json", observe->json, "Print the API's JSON");
  AddConnectionOptions(c, &observe->target);
  c->callback([observe, c] {
    if (observe->fhir.empty() && observe->csv.empty() && observe->json_file.empty()) {
      std::cerr << "one of --fhir, --csv, --observations is required\n";
      SetExitCode(2);
      return;
    }
    SetExitCode(RunObserve(*observe));
  });

  auto forecast = std::make_shared<ForecastArgs>();
  c = twin->add_subcommand("forecast", "Forecast with prediction intervals (and evaluate alerts)");
  c->add_option("id", forecast->id, "Twin id")->required();
  c->add_option("--horizon", forecast->horizon, "Horizon in model time units (default: the definition's)");
  c->add_option("--step", forecast->step, "Output step in model time units (default: the definition's)");
  c->add_option("--format", forecast->format, "csv or json")->capture_default_str();
  AddConnectionOptions(c, &forecast->target);
  c->callback([forecast] { SetExitCode(RunForecast(*forecast)); });

  auto whatif = std::make_shared<WhatIfArgs>();
  c = twin->add_subcommand("whatif", "Forecasts under several plans of meals and doses, side by side (nothing recorded)");
  c->add_option("id", whatif->id, "Twin id")->required();
  c->add_option("plans", whatif->plans,
                "JSON file: {\"horizon\"?, \"step\"?, \"scenarios\": [{\"name\", \"actions\": [...]}]} (docs/twins.md)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--format", whatif->format, "csv or json")->capture_default_str();
  AddConnectionOptions(c, &whatif->target);
  c->callback([whatif] { SetExitCode(RunWhatIf(*whatif)); });

  auto hindcast = std::make_shared<ForecastArgs>();
  c = twin->add_subcommand("hindcast",
                           "The twin's history replayed with its personalised parameters (mean and parameter-"
                           "uncertainty band from time 0 to the twin's time), to compare with its observations");
  c->add_option("id", hindcast->id, "Twin id")->required();
  c->add_option("--step", hindcast->step, "Output step in model time units (default: the definition's forecast step)");
  c->add_option("--format", hindcast->format, "csv or json")->capture_default_str();
  AddConnectionOptions(c, &hindcast->target);
  c->callback([hindcast] { SetExitCode(RunHindcast(*hindcast)); });

  auto fit = std::make_shared<IdArgs>();
  c = twin->add_subcommand("fit", "Personalise the twin (MAP estimate with intervals); progress on stderr");
  c->add_option("id", fit->id, "Twin id")->required();
  c->add_flag("--json", fit->json, "Print the job's JSON");
  c->add_flag("--profile", fit->profile, "Also the profile likelihood interval of each parameter");
  AddConnectionOptions(c, &fit->target);
  c->callback([fit] { SetExitCode(RunFit(*fit)); });

  auto show = std::make_shared<IdArgs>();
  c = twin->add_subcommand("show", "A twin's estimate, latest data and alerts");
  c->add_option("id", show->id, "Twin id")->required();
  c->add_flag("--json", show->json, "Print the API's JSON");
  AddConnectionOptions(c, &show->target);
  c->callback([show] { SetExitCode(RunShow(*show)); });

  auto posterior = std::make_shared<PosteriorArgs>();
  c = twin->add_subcommand("posterior",
                           "Write the twin's posterior ensemble of personalised parameters as a population table "
                           "(CSV) for `soma trial`");
  c->add_option("id", posterior->id, "Twin id")->required();
  c->add_option("-o,--output", posterior->output, "Write to this file instead of standard output");
  AddConnectionOptions(c, &posterior->target);
  c->callback([posterior] { SetExitCode(RunPosterior(*posterior)); });
}

}  // namespace soma::cli
