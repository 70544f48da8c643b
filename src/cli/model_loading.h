#pragma once
// Shared steps of CLI commands: load an SBML file, compile it, report errors.

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/compiled_model.h"
#include "solvers/ode_integrator.h"

namespace soma::cli {

struct LoadTimes {
  double import_seconds = 0;   // libSBML read, conversion, import to the IR
  double compile_seconds = 0;  // IR -> expression graph -> bytecode (and native code)
};

// Loads (libSBML, comp flattened) and compiles a model; warnings go to stderr.
Result<std::shared_ptr<const sim::CompiledModel>> LoadAndCompile(const std::string& path,
                                                                 LoadTimes* times = nullptr,
                                                                 const sim::CompileOptions& options = {});

// Output columns from --vars, then --amount and --concentration (which set
// how a listed species is reported, and add it if it is not listed).
std::vector<sim::OutputVariable> OutputVariables(const std::vector<std::string>& vars,
                                                 const std::vector<std::string>& amount,
                                                 const std::vector<std::string>& concentration);

// Prints "soma: <status>" to stderr and returns the exit code (1).
int ReportError(const Status& s);

}  // namespace soma::cli
