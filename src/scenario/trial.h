#pragma once
// In-silico trials: one or more therapy scenarios run on every member of a
// virtual population, on all cores, with reproducible results.
//
// A population is either drawn from parameter distributions (uq/distributions.h;
// Monte Carlo or Latin hypercube; member i's values depend only on the
// trial's seed and i) or read from a table of virtual patients (CSV, one row
// per patient; columns mapped to model symbols). Every member runs every
// scenario; outcomes are summarised per scenario (mean, sd, percentiles) and,
// member by member, as differences from the first scenario (the baseline),
// so a therapy comparison comes with its spread over the population.
// Percentile bands over time are computed for the scenarios' outputs.
//
// The JSON format is documented in docs/trials.md. Results do not depend on
// the number of threads: members are independent and summarised in index
// order.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "expr/graph.h"
#include "model/model.h"
#include "scenario/scenario.h"
#include "scenario/trial_sensitivity.h"
#include "uq/distributions.h"

namespace soma::scenario {

struct PopulationSpec {
  // From distributions:
  int size = 0;
  std::uint64_t seed = 1;
  uq::SamplingMethod sampling = uq::SamplingMethod::kLatinHypercube;
  std::vector<std::string> parameters;          // model symbols, in order
  std::optional<uq::JointDistribution> joint;   // their joint distribution
  // Or from a table: rows = members; `columns` maps table columns to model
  // symbols (all numeric columns whose name is a model symbol when empty).
  std::vector<std::vector<double>> table_rows;
  std::vector<std::string> table_symbols;
  std::vector<std::string> member_names;        // table's first column, if named

  // Covariates (weight, age, ...): per-member values that are not model
  // symbols themselves but scale them through formulas. Drawn jointly with
  // the parameters (so a correlation may include them) or read from table
  // columns. covariate_rows[member][k] is covariate k of that member.
  std::vector<std::string> covariates;
  std::vector<std::vector<double>> covariate_rows;
  // Scaling formulas "symbol = f(covariates, parameters)", e.g.
  // "Vg": "1.88 * (weight / 70)^0.75" (expr/parse.h syntax). A formula may
  // use the covariates and the drawn or tabled parameters (by their model
  // symbol); its value replaces that parameter's value (or adds the symbol
  // when it is not drawn). Evaluated in the order written, each from the
  // drawn values (formulas do not see each other's results).
  struct Formula {
    std::string target;  // model symbol
    std::string text;    // as written
    uint32_t node = 0;   // in `formula_graph`
  };
  std::vector<Formula> formulas;
  // Slots: covariates in order, then table_symbols in order.
  std::shared_ptr<const expr::Graph> formula_graph;
};

struct Trial {
  std::string name;
  std::string description;
  std::vector<Scenario> scenarios;  // at least one; the first is the baseline
  PopulationSpec population;
  std::vector<double> percentiles = {5, 25, 50, 75, 95};
  // Global sensitivity of the outcomes to the population's inputs
  // (scenario/trial_sensitivity.h), when the trial asks for it.
  std::optional<SensitivitySpec> sensitivity;
  // Things in the file that run but are likely not meant, e.g. a normal
  // distribution around a positive mean that draws values <= 0 for some
  // members (rate constants, volumes and masses then give nonsense): said,
  // not refused. summary.json keeps them ("warnings").
  std::vector<std::string> warnings;
  // The texts of the files the trial names (scenario files, the population
  // table), in the order read: with the trial and model files, what its
  // members are computed from (a checkpoint's fingerprint,
  // scenario/checkpoint.h).
  std::vector<std::string> named_files;
};

// Parses a trial. Scenario and table paths are resolved against `base_dir`.
// Errors name the JSON path.
Result<Trial> ParseTrial(const nlohmann::json& j, const std::string& base_dir);

// One member's parameter values (model symbol -> value): the drawn or tabled
// values with the scaling formulas applied.
std::vector<std::pair<std::string, double>> MemberParameters(const Trial& trial, int member);
int PopulationSize(const Trial& trial);
// One member's covariate values, in PopulationSpec::covariates order.
std::vector<double> MemberCovariates(const Trial& trial, int member);

struct MemberResult {
  int member = 0;
  bool ok = false;
  std::string error;                                  // when !ok
  std::vector<std::vector<double>> outcomes;          // [scenario][outcome]
  std::vector<std::vector<std::vector<double>>> series;  // [scenario][output][row]
  std::vector<std::vector<std::string>> columns;         // [scenario][output] names
};

// A member result as bytes and back, exactly (every double bit for bit,
// NaN and infinities included): the records of a trial's checkpoint and
// of what MPI ranks send each other (scenario/checkpoint.h). The bytes are
// in the host's byte order (little-endian; checkpoint.h refuses others).
// DecodeMemberResult reads one record from the front of `bytes` and
// advances it; truncated or inconsistent bytes give kDataLoss, never a read
// past the end.
void EncodeMemberResult(const MemberResult& r, std::string* out);
Result<MemberResult> DecodeMemberResult(std::string_view* bytes);

// The trial's scenarios compiled once for all its members: member values
// reach the compiled models as simulation overrides (PreparedScenario).
// Errors: a varied symbol the model lacks (naming it), and those of
// PreparedScenario::Prepare.
class PreparedTrial {
 public:
  static Result<PreparedTrial> Prepare(const Trial& trial, const model::Model& model,
                                       const sim::CompileOptions& compile = {});
  const std::vector<PreparedScenario>& scenarios() const { return scenarios_; }

 private:
  std::vector<PreparedScenario> scenarios_;
};

struct TrialOptions {
  int threads = 0;  // 0 = all cores
  std::function<void(long done, long total)> progress;
  sim::SimulationOptions simulation;  // integrator tolerances
  // Members to run (others are skipped, e.g. already done or another rank's);
  // empty = all.
  std::vector<int> members;
  // When set to true by another thread, no new members start and
  // RunTrialMembers returns kCancelled after the running ones finish.
  const std::atomic<bool>* cancel = nullptr;
  // Called on the worker thread that ran a member, as soon as it finished
  // (in any order; members run concurrently, so it must be thread safe).
  // Lets callers checkpoint without waiting for the whole batch.
  std::function<void(const MemberResult&)> finished;
  // Compile each scenario's hot programs to native code (sim::CompileOptions)
  // when the run has at least this many simulations (members x scenarios):
  // loading LLVM (about 15 ms once per process) and compiling (about 5 ms
  // per scenario for the T1D model) pay for themselves from about 40
  // simulations of the T1D day, each about 0.6 ms faster. 0 = always, a
  // negative value = never.
  int native_code_simulations = 64;
  // Members integrated several at once, one per SIMD lane (bench/PROFILE.md,
  // "Trial members in SIMD lanes"), each thread switching between as many
  // members' fibers: 2, 4 or 8 lanes; 0: one member at a time; -1
  // (the default, AutoLanes()): as many as the CPU's widest vector
  // registers hold, 8 with AVX-512, 4 with AVX2, else 0. Applies to
  // one-scenario trials compiled to native code whose model has ODE states
  // and no algebraic rules, delays or fast reactions; other trials run as
  // with 0. Every member's results are independent of which members share
  // its lanes, so of the thread count too. With lanes, exp, tanh, pow and
  // the like come from glibc's vector math library (within 4 units in the
  // last place of the scalar functions): a member then agrees with the same
  // member run without lanes (or by `soma scenario run`) to about 1e-11
  // relative, not bit for bit; exact_lanes keeps the scalar functions (the
  // bits of a run without lanes, slower).
  int lanes = -1;
  bool exact_lanes = false;
  // When set: the number of lane batches run (0 when the trial ran without
  // lanes), for tests and statistics.
  std::atomic<long>* lane_batches = nullptr;
  // Scenarios already compiled for this trial and model (e.g. once for all
  // of an MPI run's rounds); then RunTrialMembers compiles nothing and
  // native_code_simulations does not apply.
  const PreparedTrial* prepared = nullptr;
};

// TrialOptions::lanes = -1 on this CPU: 8 with AVX-512, 4 with AVX2, else 0.
int AutoLanes();

// How a trial's scenarios are compiled: native code when asked, and the
// right-hand side over `lanes` lanes too (-1: AutoLanes()) when that applies
// (native code, one scenario: TrialOptions::lanes, exact_lanes).
sim::CompileOptions TrialCompileOptions(const Trial& trial, bool native_code, int lanes, bool exact_lanes = false);

// Runs members (in parallel) and returns their results in member order.
Result<std::vector<MemberResult>> RunTrialMembers(const Trial& trial, const model::Model& model,
                                                  const TrialOptions& options);

struct OutcomeSummary {
  std::string scenario, outcome;
  int n = 0;  // members with a finite value
  double mean = 0, sd = 0;
  std::vector<double> percentiles;  // at Trial::percentiles
};

struct TrialSummary {
  int members = 0, failed = 0;
  std::vector<OutcomeSummary> outcomes;     // per scenario x outcome
  std::vector<OutcomeSummary> differences;  // scenario k - baseline, per member, k >= 1
  // Bands over time: [scenario][output] -> rows x percentiles.
  std::vector<std::vector<std::vector<std::vector<double>>>> bands;
  std::vector<std::vector<std::string>> band_variables;  // [scenario][output]
  std::vector<double> times;
};

// The bands are computed on `threads` threads (0: all cores); the result
// does not depend on it.
TrialSummary SummariseTrial(const Trial& trial, const std::vector<MemberResult>& results, int threads = 1);

nlohmann::json ToJson(const Trial& trial, const TrialSummary& summary);
// CSV of members: member, parameters..., <scenario>.<outcome>... (numbers as
// printf's %.10g writes them).
std::string MembersCsv(const Trial& trial, const std::vector<MemberResult>& results);
// CSV of bands: scenario, variable, time, p<q>... (numbers as %.8g).
std::string BandsCsv(const Trial& trial, const TrialSummary& summary);

}  // namespace soma::scenario
