#pragma once
// Running one case of the SBML Test Suite (semantic cases) through Soma's
// public libraries: read NNNNN-settings.txt, the tags of NNNNN-model.m and
// NNNNN-results.csv, import the highest-level SBML file, simulate (TimeCourse)
// or solve the flux balance problem (FluxBalanceSteadyState), and
// compare with the suite's rule |x - expected| <= absolute + relative*|expected|.

#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/compiled_model.h"
#include "sim/options.h"
#include "solvers/ode_integrator.h"

namespace soma::suite {

struct CaseSettings {
  double start = 0, duration = 0;
  int steps = 0;
  std::vector<std::string> variables, amount, concentration;
  double absolute = 0, relative = 0;
};

struct CaseInfo {
  std::string id;                        // "00001"
  std::filesystem::path dir;
  std::vector<std::string> component_tags, test_tags;
  std::string test_type;                 // TimeCourse, FluxBalanceSteadyState, ...
  std::vector<std::string> levels;       // the Levels/Versions the case is written for: "2.4", "3.1", ...
  CaseSettings settings;
};

enum class Verdict { kPass, kFail, kUnsupported, kError };
const char* VerdictName(Verdict v);

struct CaseOutcome {
  Verdict verdict = Verdict::kError;
  std::string reason;                    // why it did not pass
  double worst_excess = 0;               // max |x - e| / (abs + rel |e|) over all points
  double seconds = 0;
  std::vector<double> values;            // the simulated table (TimeCourse), row-major
  bool native_code = false;              // whether the model ran as native code
};

// Reads settings and tags of the case in `dir` (named by its id).
Result<CaseInfo> ReadCase(const std::filesystem::path& dir);
// Every case directory under `root`, sorted by id.
std::vector<std::filesystem::path> ListCases(const std::filesystem::path& root);
// The SBML file to run: the highest Level/Version the case provides.
std::filesystem::path ModelFile(const CaseInfo& c);

// Runs the case with the integration method `method` (default: auto),
// with the model's hot programs as native code (LLVM) if `native_code`.
// With `sbml`, that document (e.g. from ConvertModel) instead of ModelFile.
CaseOutcome RunCase(const CaseInfo& c, solvers::OdeMethod method = solvers::OdeMethod::kAuto,
                    bool native_code = false, const std::string* sbml = nullptr);

// The case's output variables on `model` (its settings' variables, species
// as amounts or concentrations as the settings say).
std::vector<sim::OutputVariable> CaseOutputs(const CaseInfo& c, const sim::CompiledModel& model);

// The Levels/Versions of c.levels other than that of ModelFile(c), as
// {level, version} pairs, lowest first.
std::vector<std::pair<int, int>> OtherLevels(const CaseInfo& c);

// The case's model converted by libSBML to SBML Level `level` Version
// `version` with strict conversion, which refuses to lose information (a
// non-integer stoichiometry in Level 1, comp submodels below Level 3, ...):
// then kUnsupported with libSBML's reason. The suite publishes each case in
// every Level/Version of c.levels; the development data keeps only the
// highest, and this recreates the others for testing the lower Levels'
// import (most BioModels entries are Level 2 Version 4).
Result<std::string> ConvertModel(const CaseInfo& c, int level, int version);

}  // namespace soma::suite
