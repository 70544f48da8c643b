#pragma once
// The type 1 diabetes validation protocol (models/t1d-uva-padova.xml against
// the simglucose reference trajectories in ../shared/clinical; see its
// MANIFEST.md): the virtual patients' parameters, the open-loop reference day
// as an input schedule, and the comparison with a reference trajectory.
// Shared by the CTest validation and the report tool.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "sim/input_schedule.h"
#include "sim/options.h"

namespace soma::validation {

// One row of simglucose's vpatient_params.csv: the numeric columns by header
// (BW in kg, x0_1..x0_13 as "x0_ 1".."x0_13", parameters in the units of the
// model's notes).
struct VirtualPatient {
  std::string name;  // "adult#001"
  std::map<std::string, double> values;
  double carb_ratio = 0.0;  // CR from Quest.csv, g/U
};

// Reads vpatient_params.csv and Quest.csv from `dir` (the simglucose folder).
// Errors: a missing file (kIoError), a malformed cell or a patient without a
// carbohydrate ratio (kParseError, naming file, line and column).
Result<std::vector<VirtualPatient>> ReadVirtualPatients(const std::filesystem::path& dir);

// The model state ids in simglucose's order x1..x13.
const std::vector<std::string>& StateIds();

// Sets every constant parameter of `model` to the patient's column of the
// same id and the initial state to x0. Errors (kNotFound): a constant model
// parameter without a column, or a state without an initial value.
Status Personalise(const VirtualPatient& patient, model::Model& model);

struct Meal {
  double time = 0.0;   // min, announced at the start of this minute
  double grams = 0.0;  // carbohydrate
};

// The open-loop day of the reference: basal insulin u2ss, meals eaten at
// eat_rate, a bolus of grams/CR units within each meal's first minute.
struct DayProtocol {
  double end = 1440.0;  // min; inputs change on whole minutes
  std::vector<Meal> meals = {{420.0, 45.0}, {720.0, 70.0}, {1080.0, 80.0}};
  double eat_rate = 5.0;  // g/min
  bool meal_boluses = true;
};

// The protocol's inputs for `patient` as changes of meal_rate (mg/min),
// insulin_rate (pmol/kg/min) and meal_ingested (mg), following simglucose's
// per-minute rules (inputs constant over each 1-minute step; meal_ingested =
// grams of the current meal eaten up to the end of the step).
std::vector<sim::InputChange> DayInputs(const VirtualPatient& patient, const DayProtocol& protocol);

// The simulation options used for the validation (minute grid, CVODES
// tolerances stated in the report).
sim::SimulationOptions DayOptions(const DayProtocol& protocol);

// Columns compared with the reference: BG, CGM, I, then the 13 states.
std::vector<sim::OutputVariable> DayOutputs();

// A reference trajectory: rows of (time_min, BG, Gsub, I, x1..x13).
struct ReferenceTrajectory {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;
};
Result<ReferenceTrajectory> ReadReference(const std::filesystem::path& csv);

// Tolerances, |x - ref| <= abs + rel |ref|, per quantity.
struct Tolerance {
  double abs = 0.0;
  double rel = 0.0;
};
inline constexpr Tolerance kGlucoseTolerance{0.5, 0.0};    // BG and CGM, mg/dL
inline constexpr Tolerance kInsulinTolerance{0.01, 1e-4};  // plasma insulin, pmol/L
inline constexpr Tolerance kStateTolerance{1e-3, 1e-4};    // x1..x13, each in its own unit

struct Comparison {
  double max_bg_error = 0.0;       // max |BG - BG_ref| over the minutes, mg/dL
  double max_bg_error_time = 0.0;  // min
  double max_cgm_error = 0.0;      // mg/dL
  double max_insulin_error = 0.0;  // pmol/L
  // Largest |x - ref| / (abs + rel |ref|) over states and minutes (<= 1 passes).
  double worst_state_ratio = 0.0;
  std::string worst_state;    // id of that state
  bool passed = false;        // every quantity within its tolerance
  std::string first_failure;  // "BG at t = 431: 140.2 vs 139.1"
};

// Compares a simulation of DayOutputs() row by row with the reference.
// Errors (kInvalidArgument): different numbers of rows or different times.
Result<Comparison> Compare(const sim::SimulationResult& simulated, const ReferenceTrajectory& reference);

// Personalises a copy of `model`, applies the day's inputs, compiles and
// simulates it on the minute grid with DayOutputs(). Errors: those of the
// steps, with the patient's name.
Result<sim::SimulationResult> SimulateDay(const model::Model& model, const VirtualPatient& patient,
                                          const DayProtocol& protocol);

}  // namespace soma::validation
