#include "exercise_protocol.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "model_util.h"

namespace soma::validation {

Result<ExerciseReference> ReadExerciseReference(const std::filesystem::path& csv) {
  std::ifstream f(csv);
  if (!f) return IoError("cannot read " + csv.string());
  std::string line;
  std::getline(f, line);
  ExerciseReference ref;
  int line_no = 1;
  while (std::getline(f, line)) {
    ++line_no;
    std::stringstream ss(line);
    std::string cell;
    std::vector<double> v;
    while (std::getline(ss, cell, ',')) {
      try {
        v.push_back(std::stod(cell));
      } catch (const std::exception&) {
        return ParseError(csv.string() + ":" + std::to_string(line_no) + ": not a number: '" + cell + "'");
      }
    }
    if (v.size() != 5) return ParseError(csv.string() + ":" + std::to_string(line_no) + ": expected 5 columns");
    ref.time_min.push_back(v[0]);
    ref.hr.push_back(v[1]);
    ref.y.push_back(v[2]);
    ref.bg_rest.push_back(v[3]);
    ref.bg_exercise.push_back(v[4]);
  }
  if (ref.time_min.size() < 2) return ParseError(csv.string() + ": fewer than 2 rows");
  return ref;
}

std::vector<sim::InputChange> HeartRateInputs(const ExerciseReference& ref) {
  std::vector<sim::InputChange> changes;
  for (size_t i = 1; i < ref.hr.size(); ++i) {
    if (ref.hr[i] != ref.hr[i - 1]) changes.push_back({.time = ref.time_min[i], .target = "HR", .value = ref.hr[i]});
  }
  return changes;
}

sim::SimulationOptions ExerciseOptions(const ExerciseReference& ref) {
  sim::SimulationOptions o;
  o.start = ref.time_min.front();
  o.end = ref.time_min.back();
  o.steps = static_cast<int>(ref.time_min.size()) - 1;
  o.integrator = sim::IntegratorOptionsForAccuracy(1e-8, 1e-9);
  return o;
}

Result<sim::SimulationResult> SimulateExercise(const model::Model& model, const std::vector<sim::InputChange>& inputs,
                                               const ExerciseReference& ref) {
  return SimulateWith(model, inputs, ExerciseOptions(ref), {{"BG"}, {"Y"}});
}

Result<sim::SimulationResult> SimulateRestingDay(const model::Model& exercise_model, const VirtualPatient& patient) {
  // Personalise sets every constant parameter from the patient's table; the
  // exercise parameters are not in it, so they are marked variable (same
  // values, never changed: no rule or event targets them).
  model::Model m = exercise_model;
  for (model::Parameter& p : m.parameters) {
    if (p.id == "HRb" || p.id == "T_HR" || p.id == "beta_ex" || p.id == "alpha_ex") p.constant = false;
  }
  return SimulateDay(m, patient, DayProtocol{});
}

double FirstOrderExerciseDrop(double beta, double gp, double delta_hr, double t_hr, double vg, double tau) {
  return beta * gp * delta_hr * (tau - t_hr * (1.0 - std::exp(-tau / t_hr))) / vg;
}

}  // namespace soma::validation
