// Google Benchmark of whole simulations in-process (no process start, no
// SBML parsing): compile and simulate each model of the workload benchmark
// (bench/models/generated, made by bench/models/make_models.py) and the
// bundled models. Run:
//   /usr/bin/python3 bench/models/make_models.py && build/bin/soma_bench_simulate

#include <benchmark/benchmark.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "formats/sbml/sbml_import.h"
#include "sim/simulator.h"

namespace {

namespace fs = std::filesystem;

void Simulate(benchmark::State& state, std::shared_ptr<const soma::sim::CompiledModel> cm, double end,
              soma::solvers::OdeMethod method) {
  soma::sim::Simulator simulator(cm);
  soma::sim::SimulationOptions options;
  options.end = end;
  options.steps = 100;
  options.integrator = soma::sim::IntegratorOptionsForAccuracy(1e-4, 1e-3);
  options.integrator.method = method;
  long steps = 0;
  for (auto _ : state) {
    auto r = simulator.Simulate(options);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    steps = r->summary.integrator.steps;
    benchmark::DoNotOptimize(r->values.data());
  }
  state.counters["steps"] = static_cast<double>(steps);
}

void Compile(benchmark::State& state, soma::model::Model model, bool native_code) {
  for (auto _ : state) {
    auto cm = soma::sim::CompiledModel::Compile(model, {.native_code = native_code});
    benchmark::DoNotOptimize(cm.ok());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (const char* dir : {SOMA_SOURCE_DIR "/bench/models/generated", SOMA_SOURCE_DIR "/models"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".xml") files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.size() <= 1) {
    std::cerr << "note: run /usr/bin/python3 bench/models/make_models.py for the workload models\n";
  }
  for (const fs::path& f : files) {
    auto imported = soma::formats::LoadSbmlFile(f);
    if (!imported.ok()) continue;
    auto cm = soma::sim::CompiledModel::Compile(imported->model);
    if (!cm.ok()) continue;
    const std::string name = f.stem().string();
    const double end = name.rfind("events", 0) == 0 || name.rfind("stiff", 0) == 0 ? 100.0 : name == "bergman-minimal" ? 180.0 : 20.0;
    benchmark::RegisterBenchmark(("simulate/" + name).c_str(), Simulate, *cm, end, soma::solvers::OdeMethod::kAuto)
        ->Unit(benchmark::kMillisecond);
    // The explicit Runge-Kutta method on the same run (an error on stiff models).
    benchmark::RegisterBenchmark(("simulate-rk45/" + name).c_str(), Simulate, *cm, end,
                                 soma::solvers::OdeMethod::kRungeKutta)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("compile/" + name).c_str(), Compile, imported->model, false)
        ->Unit(benchmark::kMillisecond);
    // The same with the hot programs compiled to native code (LLVM), and
    // the simulations with it.
    auto native = soma::sim::CompiledModel::Compile(imported->model, {.native_code = true});
    if (native.ok() && (*native)->native_code()) {
      benchmark::RegisterBenchmark(("compile-native/" + name).c_str(), Compile, imported->model, true)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("simulate-native/" + name).c_str(), Simulate, *native, end,
                                   soma::solvers::OdeMethod::kAuto)
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
