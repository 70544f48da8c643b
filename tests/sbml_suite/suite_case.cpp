#include "suite_case.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include <sbml/SBMLTypes.h>

#include "fba/flux_balance.h"
#include "formats/sbml/sbml_import.h"
#include "sim/simulator.h"

namespace soma::suite {

namespace fs = std::filesystem;

namespace {

std::string Trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n");
  auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = Trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Result<std::string> ReadText(const fs::path& p) {
  std::ifstream f(p);
  if (!f) return NotFound("cannot read " + p.string());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool Close(double x, double e, double abs, double rel, double* excess) {
  if (std::isnan(e)) return std::isnan(x);
  if (std::isinf(e)) return x == e;
  double allowed = abs + rel * std::abs(e);
  double err = std::abs(x - e);
  if (std::isnan(err)) err = INFINITY;
  *excess = std::max(*excess, allowed > 0 ? err / allowed : err);
  return err <= allowed;
}

double ParseCell(const std::string& cell) {
  if (cell == "NaN" || cell == "nan") return NAN;
  if (cell == "INF" || cell == "inf") return INFINITY;
  if (cell == "-INF" || cell == "-inf") return -INFINITY;
  return std::strtod(cell.c_str(), nullptr);
}

// FluxBalanceSteadyState: one expected row whose columns are reaction ids
// (fluxes) and objective ids (the objective value; NaN when infeasible).
// Sets out->verdict/reason (seconds are the caller's).
void RunFluxBalanceCase(const CaseInfo& c, CaseOutcome* out) {
  auto fail = [&](Verdict v, std::string reason) {
    out->verdict = v;
    out->reason = std::move(reason);
  };
  auto classify = [&](const Status& s) {
    fail(s.code() == ErrorCode::kUnsupported ? Verdict::kUnsupported : Verdict::kError, s.ToString());
  };
  fs::path file = ModelFile(c);
  if (file.empty()) return fail(Verdict::kError, "no SBML file");
  auto imported = formats::LoadSbmlFile(file);
  if (!imported.ok()) return classify(imported.status());
  auto result = fba::SolveFluxBalance(imported->model);
  if (!result.ok()) return classify(result.status());
  auto expected_text = ReadText(c.dir / (c.id + "-results.csv"));
  if (!expected_text.ok()) return classify(expected_text.status());
  std::stringstream es(*expected_text);
  std::string header_line, row_line;
  std::getline(es, header_line);
  while (std::getline(es, row_line) && Trim(row_line).empty()) {
  }
  std::vector<std::string> header = SplitList(header_line), cells = SplitList(row_line);
  if (cells.size() != header.size()) return fail(Verdict::kError, "results row does not match its header");
  std::string first_failure;
  for (size_t h = 0; h < header.size(); ++h) {
    double x;
    if (header[h] == result->objective_id) {
      x = result->objective_value;
    } else if (imported->model.FindReaction(header[h]) != nullptr) {
      x = result->Flux(header[h]);
    } else {
      return fail(Verdict::kError, "no reaction or active objective " + header[h]);
    }
    double e = ParseCell(cells[h]);
    if (!Close(x, e, c.settings.absolute, c.settings.relative, &out->worst_excess) && first_failure.empty()) {
      std::ostringstream m;
      m.precision(10);
      m << header[h] << ": got " << x << ", expected " << e << " (" << result->summary.BriefReport() << ")";
      first_failure = m.str();
    }
  }
  if (!first_failure.empty()) return fail(Verdict::kFail, first_failure);
  fail(Verdict::kPass, "");
}

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "pass";
    case Verdict::kFail: return "fail";
    case Verdict::kUnsupported: return "unsupported";
    case Verdict::kError: return "error";
  }
  return "?";
}

std::vector<fs::path> ListCases(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.is_directory()) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<CaseInfo> ReadCase(const fs::path& dir) {
  CaseInfo c;
  c.dir = dir;
  c.id = dir.filename().string();
  SOMA_ASSIGN_OR_RETURN(std::string settings, ReadText(dir / (c.id + "-settings.txt")));
  std::stringstream ss(settings);
  std::string line;
  while (std::getline(ss, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = Trim(line.substr(0, colon)), value = Trim(line.substr(colon + 1));
    if (key == "start") c.settings.start = std::strtod(value.c_str(), nullptr);
    else if (key == "duration") c.settings.duration = std::strtod(value.c_str(), nullptr);
    else if (key == "steps") c.settings.steps = static_cast<int>(std::strtol(value.c_str(), nullptr, 10));
    else if (key == "variables") c.settings.variables = SplitList(value);
    else if (key == "amount") c.settings.amount = SplitList(value);
    else if (key == "concentration") c.settings.concentration = SplitList(value);
    else if (key == "absolute") c.settings.absolute = std::strtod(value.c_str(), nullptr);
    else if (key == "relative") c.settings.relative = std::strtod(value.c_str(), nullptr);
  }
  SOMA_ASSIGN_OR_RETURN(std::string m, ReadText(dir / (c.id + "-model.m")));
  std::stringstream ms(m);
  while (std::getline(ms, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = Trim(line.substr(0, colon)), value = Trim(line.substr(colon + 1));
    if (key == "componentTags") c.component_tags = SplitList(value);
    else if (key == "testTags") c.test_tags = SplitList(value);
    else if (key == "testType") c.test_type = value;
    else if (key == "levels") c.levels = SplitList(value);
  }
  return c;
}

fs::path ModelFile(const CaseInfo& c) {
  for (const char* lv : {"l3v2", "l3v1", "l2v5", "l2v4", "l2v3", "l2v2", "l2v1", "l1v2"}) {
    fs::path p = c.dir / (c.id + "-sbml-" + lv + ".xml");
    if (fs::exists(p)) return p;
  }
  return {};
}

std::vector<sim::OutputVariable> CaseOutputs(const CaseInfo& c, const sim::CompiledModel& model) {
  const CaseSettings& s = c.settings;
  std::vector<sim::OutputVariable> vars;
  for (const std::string& v : s.variables) {
    sim::OutputVariable ov{v, sim::SpeciesQuantity::kDefault};
    if (std::find(s.amount.begin(), s.amount.end(), v) != s.amount.end()) ov.quantity = sim::SpeciesQuantity::kAmount;
    if (std::find(s.concentration.begin(), s.concentration.end(), v) != s.concentration.end()) {
      ov.quantity = sim::SpeciesQuantity::kConcentration;
    }
    // Only species have the two quantities; the suite lists others too.
    const sim::SymbolInfo* info = model.FindSymbol(v);
    if (info != nullptr && info->kind != model::SymbolKind::kSpecies) ov.quantity = sim::SpeciesQuantity::kDefault;
    vars.push_back(ov);
  }
  return vars;
}

std::vector<std::pair<int, int>> OtherLevels(const CaseInfo& c) {
  const std::string file = ModelFile(c).filename().string();  // NNNNN-sbml-lXvY.xml
  std::vector<std::pair<int, int>> out;
  for (const std::string& lv : c.levels) {
    const auto dot = lv.find('.');
    if (dot == std::string::npos) continue;
    const int level = std::atoi(lv.substr(0, dot).c_str()), version = std::atoi(lv.substr(dot + 1).c_str());
    if (level < 1 || version < 1) continue;
    if (file.ends_with("-l" + std::to_string(level) + "v" + std::to_string(version) + ".xml")) continue;
    out.emplace_back(level, version);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> ConvertModel(const CaseInfo& c, int level, int version) {
  const fs::path file = ModelFile(c);
  if (file.empty()) return NotFound("case " + c.id + " has no SBML file");
  ::SBMLReader reader;
  std::unique_ptr<::SBMLDocument> doc(reader.readSBMLFromFile(file.string()));
  if (doc == nullptr || doc->getNumErrors(::LIBSBML_SEV_ERROR) + doc->getNumErrors(::LIBSBML_SEV_FATAL) > 0) {
    return ParseError("libSBML could not read " + file.string());
  }
  const unsigned int before = doc->getNumErrors();
  const std::string target = "Level " + std::to_string(level) + " Version " + std::to_string(version);
  if (!doc->setLevelAndVersion(static_cast<unsigned>(level), static_cast<unsigned>(version), /*strict=*/true)) {
    std::string why;
    for (unsigned int i = before; i < doc->getNumErrors() && why.empty(); ++i) {
      why = doc->getError(i)->getShortMessage();
    }
    return Unsupported("libSBML cannot convert it to " + target + " without loss" + (why.empty() ? "" : ": " + why));
  }
  ::SBMLWriter writer;
  std::unique_ptr<char, decltype(&std::free)> text(writer.writeToString(doc.get()), &std::free);
  if (text == nullptr) return Internal("libSBML could not write the " + target + " document");
  return std::string(text.get());
}

CaseOutcome RunCase(const CaseInfo& c, solvers::OdeMethod method, bool native_code, const std::string* sbml) {
  auto t0 = std::chrono::steady_clock::now();
  CaseOutcome out;
  auto finish = [&](Verdict v, std::string reason) {
    out.verdict = v;
    out.reason = std::move(reason);
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
  };
  auto classify = [&](const Status& s) {
    return finish(s.code() == ErrorCode::kUnsupported ? Verdict::kUnsupported : Verdict::kError, s.ToString());
  };
  if (c.test_type == "FluxBalanceSteadyState") {
    RunFluxBalanceCase(c, &out);
    return finish(out.verdict, out.reason);
  }
  if (c.test_type != "TimeCourse") return finish(Verdict::kUnsupported, "test type " + c.test_type);
  fs::path file = ModelFile(c);
  if (file.empty()) return finish(Verdict::kError, "no SBML file");
  auto imported = sbml != nullptr ? formats::ParseSbml(*sbml, {}, c.dir) : formats::LoadSbmlFile(file);
  if (!imported.ok()) return classify(imported.status());
  auto compiled = sim::CompiledModel::Compile(imported->model, {.native_code = native_code});
  if (compiled.ok()) out.native_code = (*compiled)->native_code();
  if (!compiled.ok()) return classify(compiled.status());

  const CaseSettings& s = c.settings;
  const std::vector<sim::OutputVariable> vars = CaseOutputs(c, **compiled);
  sim::SimulationOptions opt;
  opt.start = s.start;
  opt.end = s.start + s.duration;
  opt.steps = s.steps;
  opt.integrator = sim::IntegratorOptionsForAccuracy(s.absolute, s.relative);
  opt.integrator.method = method;
  auto result = sim::Simulator(*compiled).Simulate(opt, vars);
  if (!result.ok()) return classify(result.status());
  out.values = result->values;

  auto expected_text = ReadText(c.dir / (c.id + "-results.csv"));
  if (!expected_text.ok()) return classify(expected_text.status());
  std::stringstream es(*expected_text);
  std::string line;
  std::getline(es, line);
  std::vector<std::string> header = SplitList(line);
  std::vector<int> column_of(header.size(), -1);
  for (size_t h = 0; h < header.size(); ++h) {
    for (size_t k = 0; k < result->columns.size(); ++k) {
      if (result->columns[k] == header[h]) column_of[h] = static_cast<int>(k);
    }
    if (h == 0 && (header[h] == "time" || header[h] == "Time")) column_of[h] = 0;
    if (column_of[h] < 0) return finish(Verdict::kError, "no output column for " + header[h]);
  }
  size_t row = 0;
  std::string first_failure;
  while (std::getline(es, line)) {
    if (Trim(line).empty()) continue;
    if (row >= result->rows) return finish(Verdict::kError, "expected more rows than simulated");
    std::vector<std::string> cells = SplitList(line);
    for (size_t h = 0; h < cells.size() && h < header.size(); ++h) {
      double e = std::strtod(cells[h].c_str(), nullptr);
      if (cells[h] == "NaN" || cells[h] == "nan") e = NAN;
      if (cells[h] == "INF" || cells[h] == "inf") e = INFINITY;
      if (cells[h] == "-INF" || cells[h] == "-inf") e = -INFINITY;
      double x = result->at(row, column_of[h]);
      if (!Close(x, e, s.absolute, s.relative, &out.worst_excess) && first_failure.empty()) {
        std::ostringstream m;
        m.precision(10);
        m << header[h] << " at t = " << result->at(row, 0) << ": got " << x << ", expected " << e;
        first_failure = m.str();
      }
    }
    ++row;
  }
  if (!first_failure.empty()) return finish(Verdict::kFail, first_failure);
  return finish(Verdict::kPass, "");
}

}  // namespace soma::suite
