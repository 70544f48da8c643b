// libFuzzer target for PEtab v1 problems: formats::petab::LoadPetab on the
// four tables cut from arbitrary bytes (parameters, conditions, observables,
// measurements, separated by lines "====") with a fixed small SBML model
// (x' = a - k x) and YAML file; where the problem loads, infer::Evaluate at
// the nominal values and the simulation table. Must never crash, hang or
// report undefined behaviour. Checks, aborting on any violation:
//   * an evaluation gives one prediction per measurement, and the
//     simulation table one row per measurement row.
// Simulations are bounded (2000 integrator steps per output interval).
//
//   build-fuzz/bin/petab_import_fuzz CORPUS -max_total_time=300 -max_len=4096

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "formats/petab/petab.h"
#include "formats/petab/petab_test_data.h"
#include "infer/estimate.h"

namespace {

namespace fs = std::filesystem;

using soma::formats::petab::testing::kProductionDecaySbml;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "petab_import_fuzz: %s\n", what);
  std::abort();
}

void WriteFile(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) Fail("cannot write a temporary file");
}

const fs::path& Dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("soma_petab_fuzz_" + std::to_string(::getpid()));
    fs::create_directories(d);
    WriteFile(d / "model.xml", kProductionDecaySbml);
    WriteFile(d / "problem.yaml",
              "format_version: 1\nparameter_file: parameters.tsv\nproblems:\n- condition_files: [conditions.tsv]\n"
              "  measurement_files: [measurements.tsv]\n  observable_files: [observables.tsv]\n"
              "  sbml_files: [model.xml]\n");
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const char* names[] = {"parameters.tsv", "conditions.tsv", "observables.tsv", "measurements.tsv"};
  for (const char* name : names) {
    const size_t cut = input.find("\n====\n");
    WriteFile(Dir() / name, input.substr(0, cut));
    input = cut == std::string_view::npos ? std::string_view() : input.substr(cut + 6);
  }
  auto imp = soma::formats::petab::LoadPetab(Dir() / "problem.yaml");
  if (!imp.ok()) return 0;
  soma::infer::EstimationOptions o;
  o.max_steps = 2000;
  auto ev = soma::infer::Evaluate(imp->problem, imp->problem.NominalValues(), o);
  if (!ev.ok()) return 0;
  size_t predictions = 0;
  for (const auto& p : ev->predictions) predictions += p.size();
  if (predictions != imp->problem.num_measurements()) Fail("one prediction per measurement expected");
  auto table = soma::formats::petab::SimulationTable(*imp, *ev);
  if (table.rows.size() != imp->measurements.rows.size()) Fail("simulation table rows != measurement rows");
  return 0;
}
