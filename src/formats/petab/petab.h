#pragma once
// PEtab v1 import (https://petab.readthedocs.io/en/latest/v1/documentation_data_format.html):
// a YAML file naming one SBML model and the TSV tables of conditions,
// observables, measurements and parameters, turned into an
// infer::EstimationProblem.
//
// Mapping:
// * Parameters table: nominal values replace the SBML values of the model
//   parameters listed; ids that are not model symbols (scaling factors,
//   noise parameters, ...) are added to the model as constant parameters.
//   Rows with estimate = 1 become estimated parameters (parameterScale,
//   bounds, nominal value; objectivePriorType normal, logNormal, uniform,
//   parameterScaleNormal, parameterScaleUniform become priors; laplace and
//   logLaplace priors are kept as `prior_status` = Unsupported, which
//   fitting refuses and simulating ignores).
// * Conditions table: one experiment per simulationConditionId, starting at
//   t = 0; each column (a model parameter, species or compartment id) sets
//   the declared value: a number, or a parameter id (estimated: mapped to
//   that parameter; otherwise its nominal value). Empty / NaN cells keep the
//   model's value.
// * Observables table: each observableFormula (with its
//   observableParameter<n>_<observableId> placeholders replaced by the
//   measurement's observableParameters, numbers or parameter ids) is added
//   to the model as an assignment rule on a new parameter
//   "_petab_obs_<observableId>_<k>", one per distinct replacement, so its
//   sensitivities come with the simulation. The noiseFormula likewise
//   (noiseParameter<n>_<observableId> placeholders from noiseParameters; the
//   observableId stands for the observable's value): a number or a single
//   parameter becomes additive noise, anything else a rule
//   "_petab_sigma_<observableId>_<k>". observableTransformation (lin, log,
//   log10) and noiseDistribution (normal, laplace) become the noise model's
//   scale and distribution. Formulas follow PEtab's (SymPy) syntax: '^' or
//   '**' for powers, log(x) is the natural logarithm.
// * Measurements table: each row one infer::Measurement of the
//   experiment of its simulationConditionId.
//
// Unsupported (kUnsupported, naming the row or element):
// preequilibrationConditionId (pre-equilibration to steady state),
// measurement times inf (steady-state data), more than one SBML file,
// measurement tables whose observables or conditions do not exist (those
// are kNotFound), condition columns naming symbols that cannot be
// overridden (assigned by rules).
//
// Thread safety: pure functions of their inputs.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "infer/estimate.h"
#include "infer/problem.h"

namespace soma::formats::petab {

// A TSV table with a header row. Cells are kept as text.
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;

  int Column(std::string_view name) const;  // -1 when absent
  // The cell, or "" when the column is absent.
  const std::string& Cell(size_t row, std::string_view column) const;
};

// Errors: kNotFound / kIoError for the file; kParseError naming file and
// line for rows with more cells than the header.
Result<Table> ReadTsv(const std::filesystem::path& path);
Status WriteTsv(const std::filesystem::path& path, const Table& table);

// The files a PEtab YAML names, as absolute paths.
struct PetabFiles {
  std::filesystem::path yaml, sbml, parameters;
  std::vector<std::filesystem::path> conditions, measurements, observables;
};
// Errors: kParseError naming the YAML file; kUnsupported for format
// versions other than 1 and for several problems or SBML files.
Result<PetabFiles> ReadPetabYaml(const std::filesystem::path& yaml);

struct PetabImport {
  infer::EstimationProblem problem;
  Table measurements;  // the measurement tables, concatenated
  // For each measurement row: (experiment, measurement) in `problem`.
  std::vector<std::pair<size_t, size_t>> rows;
  // Unsupported when a prior of the parameters table cannot be used.
  Status prior_status;
};

// Reads a PEtab v1 problem and builds its estimation problem (model
// compiled). Errors: those of the files, the SBML import and the compiler,
// and the mapping rules above (named).
Result<PetabImport> LoadPetab(const std::filesystem::path& yaml);

// The PEtab simulation table: the measurement table's columns plus
// "simulation", with the predictions of `evaluation` (for `import`'s
// problem) row by row.
Table SimulationTable(const PetabImport& import, const infer::Evaluation& evaluation);

}  // namespace soma::formats::petab
