#include "t1d_protocol.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "sim/compiled_model.h"
#include "sim/simulator.h"

namespace soma::validation {

namespace {

using Table = std::vector<std::vector<std::string>>;

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream s(line);
  std::string cell;
  while (std::getline(s, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.push_back("");
  return cells;
}

// A CSV file without quoting (all the files here): header, then rows of the
// same width.
Result<Table> ReadCsv(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return IoError("cannot open " + path.string());
  Table table;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    table.push_back(SplitCsvLine(line));
    if (table.back().size() != table.front().size()) {
      return ParseError(path.string() + ": line " + std::to_string(table.size()) + " has " +
                        std::to_string(table.back().size()) + " cells, the header " +
                        std::to_string(table.front().size()));
    }
  }
  if (table.empty()) return ParseError(path.string() + ": empty file");
  return table;
}

Result<double> ParseNumber(const std::string& text, const std::filesystem::path& path, size_t line,
                           const std::string& column) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) {
    return ParseError(path.string() + ": line " + std::to_string(line) + ", column " + column + ": '" + text +
                      "' is not a finite number");
  }
  return v;
}

Result<double> Value(const VirtualPatient& p, const std::string& column) {
  auto it = p.values.find(column);
  if (it == p.values.end()) return NotFound(p.name + ": no column '" + column + "' in the patient table");
  return it->second;
}

// Column of state x_i (1-based) in vpatient_params.csv: "x0_ 1" .. "x0_13".
std::string InitialStateColumn(size_t i) {
  std::string n = std::to_string(i);
  return "x0_" + std::string(n.size() < 2 ? " " : "") + n;
}

}  // namespace

Result<std::vector<VirtualPatient>> ReadVirtualPatients(const std::filesystem::path& dir) {
  const auto params_path = dir / "vpatient_params.csv";
  const auto quest_path = dir / "Quest.csv";
  SOMA_ASSIGN_OR_RETURN(Table params, ReadCsv(params_path));
  SOMA_ASSIGN_OR_RETURN(Table quest, ReadCsv(quest_path));
  std::map<std::string, double> carb_ratio;
  const auto cr_col = std::find(quest[0].begin(), quest[0].end(), "CR") - quest[0].begin();
  if (static_cast<size_t>(cr_col) == quest[0].size())
    return ParseError(quest_path.string() + ": no column CR");
  for (size_t r = 1; r < quest.size(); ++r) {
    SOMA_ASSIGN_OR_RETURN(carb_ratio[quest[r][0]], ParseNumber(quest[r][cr_col], quest_path, r + 1, "CR"));
  }
  std::vector<VirtualPatient> patients;
  const std::vector<std::string>& header = params[0];
  for (size_t r = 1; r < params.size(); ++r) {
    VirtualPatient p;
    p.name = params[r][0];
    for (size_t c = 1; c < header.size(); ++c) {
      SOMA_ASSIGN_OR_RETURN(p.values[header[c]], ParseNumber(params[r][c], params_path, r + 1, header[c]));
    }
    auto cr = carb_ratio.find(p.name);
    if (cr == carb_ratio.end() || cr->second <= 0) {
      return ParseError(quest_path.string() + ": no positive carbohydrate ratio for " + p.name);
    }
    p.carb_ratio = cr->second;
    patients.push_back(std::move(p));
  }
  return patients;
}

const std::vector<std::string>& StateIds() {
  static const std::vector<std::string> kIds = {"Qsto1", "Qsto2", "Qgut", "Gp",   "Gt",   "Ip", "X",
                                                "I1",    "Id",    "Il",   "Isc1", "Isc2", "Gs"};
  return kIds;
}

Status Personalise(const VirtualPatient& patient, model::Model& model) {
  for (model::Parameter& p : model.parameters) {
    if (!p.constant) continue;
    SOMA_ASSIGN_OR_RETURN(p.value, Value(patient, p.id));
  }
  const auto& ids = StateIds();
  for (size_t i = 0; i < ids.size(); ++i) {
    SOMA_ASSIGN_OR_RETURN(double x0, Value(patient, InitialStateColumn(i + 1)));
    auto species = std::find_if(model.species.begin(), model.species.end(),
                                [&](const model::Species& s) { return s.id == ids[i]; });
    auto parameter = std::find_if(model.parameters.begin(), model.parameters.end(),
                                  [&](const model::Parameter& p) { return p.id == ids[i]; });
    if (species != model.species.end()) {
      species->initial_amount = x0;
      species->initial_concentration.reset();
    } else if (parameter != model.parameters.end()) {
      parameter->value = x0;
    } else {
      return NotFound("the model has no state '" + ids[i] + "'");
    }
  }
  return Status::Ok();
}

std::vector<sim::InputChange> DayInputs(const VirtualPatient& patient, const DayProtocol& protocol) {
  const double bw = patient.values.at("BW");
  const double basal = patient.values.at("u2ss") * bw / 6000.0;  // U/min
  std::vector<sim::InputChange> changes;
  double last[3] = {NAN, NAN, NAN};
  const char* targets[3] = {"meal_rate", "insulin_rate", "meal_ingested"};
  double planned = 0.0, last_cho = 0.0, food = 0.0;
  bool eating = false;
  for (double t = 0.0; t < protocol.end; t += 1.0) {
    double announced = 0.0;
    for (const Meal& m : protocol.meals) {
      if (m.time == t) announced += m.grams;
    }
    // simglucose's T1DPatient.step: the announced meal is eaten at eat_rate.
    planned += announced;
    double cho = 0.0;
    if (planned > 0) {
      cho = std::min(protocol.eat_rate, planned);
      planned = std::max(0.0, planned - cho);
    }
    const double insulin = basal + (protocol.meal_boluses ? announced / patient.carb_ratio : 0.0);  // U/min
    if (cho > 0 && last_cho <= 0) {
      food = 0.0;
      eating = true;
    }
    if (eating) food += cho;
    if (cho <= 0 && last_cho > 0) eating = false;
    last_cho = cho;
    const double now[3] = {cho * 1000.0, insulin * 6000.0 / bw, food * 1000.0};
    for (int k = 0; k < 3; ++k) {
      if (now[k] == last[k]) continue;
      changes.push_back({.time = t, .target = targets[k], .value = now[k]});
      last[k] = now[k];
    }
  }
  return changes;
}

sim::SimulationOptions DayOptions(const DayProtocol& protocol) {
  sim::SimulationOptions o;
  o.start = 0.0;
  o.end = protocol.end;
  o.steps = static_cast<int>(protocol.end);
  o.integrator.rel_tol = 1e-8;
  o.integrator.abs_tol = 1e-8;
  // BDF as when data/demo-patients was generated (demo_patients_reproducible
  // compares the regenerated files byte for byte); kAuto agrees within the
  // tolerances but not to the last digit.
  o.integrator.method = solvers::OdeMethod::kBdf;
  return o;
}

std::vector<sim::OutputVariable> DayOutputs() {
  std::vector<sim::OutputVariable> out = {{"BG"}, {"CGM"}, {"I"}};
  for (const std::string& id : StateIds()) out.push_back({id});
  return out;
}

Result<ReferenceTrajectory> ReadReference(const std::filesystem::path& csv) {
  SOMA_ASSIGN_OR_RETURN(Table table, ReadCsv(csv));
  ReferenceTrajectory ref;
  ref.columns = table[0];
  if (ref.columns.size() != 4 + StateIds().size()) {
    return ParseError(csv.string() + ": expected 17 columns (time_min, BG, Gsub, I, x1..x13)");
  }
  for (size_t r = 1; r < table.size(); ++r) {
    std::vector<double> row;
    for (size_t c = 0; c < table[r].size(); ++c) {
      SOMA_ASSIGN_OR_RETURN(double v, ParseNumber(table[r][c], csv, r + 1, ref.columns[c]));
      row.push_back(v);
    }
    ref.rows.push_back(std::move(row));
  }
  return ref;
}

Result<Comparison> Compare(const sim::SimulationResult& sim, const ReferenceTrajectory& ref) {
  const size_t ncol = sim.columns.size();
  if (sim.rows != ref.rows.size() || ncol != ref.columns.size()) {
    return InvalidArgument("simulation has " + std::to_string(sim.rows) + " rows of " + std::to_string(ncol) +
                           " columns, the reference " + std::to_string(ref.rows.size()) + " of " +
                           std::to_string(ref.columns.size()));
  }
  Comparison c;
  c.passed = true;
  auto fail = [&](const std::string& what, double t, double x, double r) {
    if (!c.passed) return;
    c.passed = false;
    std::ostringstream s;
    s.precision(10);
    s << what << " at t = " << t << ": " << x << " vs reference " << r;
    c.first_failure = s.str();
  };
  auto within = [](double x, double r, Tolerance tol) {
    return std::abs(x - r) <= tol.abs + tol.rel * std::abs(r);
  };
  for (size_t i = 0; i < sim.rows; ++i) {
    const std::vector<double>& r = ref.rows[i];
    const double t = sim.at(i, 0);
    if (std::abs(t - r[0]) > 1e-9) return InvalidArgument("row " + std::to_string(i) + ": times differ");
    const double bg = std::abs(sim.at(i, 1) - r[1]);
    if (bg > c.max_bg_error) {
      c.max_bg_error = bg;
      c.max_bg_error_time = t;
    }
    c.max_cgm_error = std::max(c.max_cgm_error, std::abs(sim.at(i, 2) - r[2]));
    c.max_insulin_error = std::max(c.max_insulin_error, std::abs(sim.at(i, 3) - r[3]));
    if (!within(sim.at(i, 1), r[1], kGlucoseTolerance)) fail("BG", t, sim.at(i, 1), r[1]);
    if (!within(sim.at(i, 2), r[2], kGlucoseTolerance)) fail("CGM", t, sim.at(i, 2), r[2]);
    if (!within(sim.at(i, 3), r[3], kInsulinTolerance)) fail("I", t, sim.at(i, 3), r[3]);
    for (size_t k = 4; k < ncol; ++k) {
      const double ratio =
          std::abs(sim.at(i, k) - r[k]) / (kStateTolerance.abs + kStateTolerance.rel * std::abs(r[k]));
      if (ratio > c.worst_state_ratio) {
        c.worst_state_ratio = ratio;
        c.worst_state = sim.columns[k];
      }
      if (ratio > 1.0) fail(sim.columns[k], t, sim.at(i, k), r[k]);
    }
  }
  return c;
}

Result<sim::SimulationResult> SimulateDay(const model::Model& model, const VirtualPatient& patient,
                                          const DayProtocol& protocol) {
  model::Model m = model;
  Status s = Personalise(patient, m);
  if (s.ok()) s = sim::ApplyInputSchedule(DayInputs(patient, protocol), {0.0, protocol.end}, m);
  if (!s.ok()) return s.WithContext(patient.name);
  auto compiled = sim::CompiledModel::Compile(m);
  if (!compiled.ok()) return compiled.status().WithContext(patient.name);
  auto result = sim::Simulator(*compiled).Simulate(DayOptions(protocol), DayOutputs());
  if (!result.ok()) return result.status().WithContext(patient.name);
  return result;
}

}  // namespace soma::validation
