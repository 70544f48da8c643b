// Expression evaluation: compiled Program::Run versus the reference DAG
// walker Graph::Evaluate, on the right-hand side of a random mass-action
// network (100 species, 200 reactions) and on its dense 100 x 100 Jacobian.
// Times are per full evaluation (all outputs). Native code (expr/jit.h):
// BM_RhsNative per evaluation, BM_RhsNativeLanes per call of `lanes`
// evaluations (items_per_second counts evaluations).

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "expr/graph.h"
#include "expr/jit.h"
#include "expr/program.h"

namespace soma::expr {
namespace {

constexpr uint32_t kSpecies = 100;
constexpr uint32_t kReactions = 200;

// Slots: species 0..99, rate constants 100..299.
struct Network {
  Graph g;
  std::vector<NodeId> rhs;       // d species / dt
  std::vector<NodeId> jacobian;  // row-major d rhs_i / d species_j
  std::vector<double> in;
};

Network& MassAction() {
  static Network* net = [] {
    auto* n = new Network;
    Graph& g = n->g;
    std::mt19937 rng(42);
    std::vector<NodeId> rhs(kSpecies, g.Constant(0.0));
    for (uint32_t r = 0; r < kReactions; ++r) {
      std::vector<std::pair<uint32_t, double>> stoich;
      NodeId rate = g.Variable(kSpecies + r);
      const uint32_t reactants = 1 + rng() % 2;
      for (uint32_t i = 0; i < reactants; ++i) {
        const uint32_t s = rng() % kSpecies;
        rate = g.Mul(rate, g.Variable(s));
        stoich.emplace_back(s, -1.0);
      }
      const uint32_t products = rng() % 3;
      for (uint32_t i = 0; i < products; ++i) stoich.emplace_back(rng() % kSpecies, 1.0);
      for (auto [s, nu] : stoich) {
        rhs[s] = nu > 0 ? g.Add(rhs[s], rate) : g.Sub(rhs[s], rate);
      }
    }
    n->rhs = rhs;
    for (uint32_t i = 0; i < kSpecies; ++i) {
      for (uint32_t j = 0; j < kSpecies; ++j) n->jacobian.push_back(g.Derivative(rhs[i], j));
    }
    std::uniform_real_distribution<double> u(0.1, 2.0);
    n->in.resize(kSpecies + kReactions);
    for (double& v : n->in) v = u(rng);
    return n;
  }();
  return *net;
}

void RunProgram(benchmark::State& state, const std::vector<NodeId>& outputs) {
  Network& net = MassAction();
  const Program p = Program::Compile(net.g, outputs);
  std::vector<double> scratch = p.NewScratch();
  std::vector<double> out(outputs.size());
  for (auto _ : state) {
    p.Run(net.in.data(), out.data(), scratch.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["instructions"] = static_cast<double>(p.num_instructions());
  state.counters["scratch"] = static_cast<double>(p.scratch_size());
  state.counters["blocks"] = static_cast<double>(p.num_blocks());
  state.counters["ns_per_instr"] = benchmark::Counter(
      static_cast<double>(p.num_instructions()), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}

void RunEvaluate(benchmark::State& state, const std::vector<NodeId>& outputs) {
  Network& net = MassAction();
  std::vector<double> out(outputs.size());
  for (auto _ : state) {
    for (size_t i = 0; i < outputs.size(); ++i) out[i] = net.g.Evaluate(outputs[i], net.in.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
}

void BM_RhsProgram(benchmark::State& state) { RunProgram(state, MassAction().rhs); }
void BM_RhsEvaluate(benchmark::State& state) { RunEvaluate(state, MassAction().rhs); }
void BM_JacobianProgram(benchmark::State& state) { RunProgram(state, MassAction().jacobian); }
void BM_JacobianEvaluate(benchmark::State& state) { RunEvaluate(state, MassAction().jacobian); }

void BM_CompileRhsAndJacobian(benchmark::State& state) {
  Network& net = MassAction();
  std::vector<NodeId> all = net.rhs;
  all.insert(all.end(), net.jacobian.begin(), net.jacobian.end());
  for (auto _ : state) {
    Program p = Program::Compile(net.g, all);
    benchmark::DoNotOptimize(p.num_instructions());
  }
}

void BM_RhsNative(benchmark::State& state) {
  Network& net = MassAction();
  Program p = Program::Compile(net.g, net.rhs);
  Program* programs[] = {&p};
  if (!CompileNative(programs).ok()) {
    state.SkipWithError("no native code in this build");
    return;
  }
  std::vector<double> scratch = p.NewScratch();
  std::vector<double> out(net.rhs.size());
  for (auto _ : state) {
    p.Run(net.in.data(), out.data(), scratch.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RhsNativeLanes(benchmark::State& state) {
  Network& net = MassAction();
  const int lanes = static_cast<int>(state.range(0));
  Program p = Program::Compile(net.g, net.rhs);
  Program* programs[] = {&p};
  if (!CompileNativeLanes(programs, lanes).ok()) {
    state.SkipWithError("no native code in this build");
    return;
  }
  const size_t w = static_cast<size_t>(lanes);
  std::vector<double> in(p.num_inputs() * w), out(net.rhs.size() * w);
  for (size_t sl = 0; sl < p.num_inputs(); ++sl) {
    for (size_t l = 0; l < w; ++l) in[sl * w + l] = net.in[sl] * (1.0 + 0.01 * static_cast<double>(l));
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(p.RunLanes(in.data(), out.data()));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * lanes);
}

BENCHMARK(BM_RhsProgram);
BENCHMARK(BM_RhsNative);
BENCHMARK(BM_RhsNativeLanes)->Arg(2)->Arg(4)->Arg(8);
BENCHMARK(BM_RhsEvaluate);
BENCHMARK(BM_JacobianProgram);
BENCHMARK(BM_JacobianEvaluate)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CompileRhsAndJacobian)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace soma::expr
