// Native code (CompileNative) against the interpreter (Program::Run without
// it): the same bits for every operation, special values included.

#include "expr/jit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "expr/expr_test_util.h"
#include "expr/graph.h"
#include "expr/program.h"

namespace soma::expr {
namespace {

using testing::RandomGraph;

// Equal bit patterns (0.0 and -0.0 differ); any NaN equals any NaN.
bool Identical(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// Runs `outs` interpreted and native on each input vector and expects the
// same bits.
void ExpectNativeMatchesInterpreter(const Graph& g, const std::vector<NodeId>& outs,
                                    const std::vector<std::vector<double>>& inputs,
                                    const std::vector<bool>& steady_slots = {}) {
  const Program interpreted = Program::Compile(g, outs, steady_slots);
  Program native = interpreted;
  Program* programs[] = {&native};
  const Status compiled = CompileNative(programs);
  ASSERT_TRUE(compiled.ok()) << compiled.ToString();
  ASSERT_TRUE(native.native());
  ASSERT_FALSE(interpreted.native());
  std::vector<double> scratch = interpreted.NewScratch();
  std::vector<double> native_scratch = native.NewScratch();
  std::vector<double> a(outs.size()), b(outs.size(), 12345.0);
  for (const auto& in : inputs) {
    interpreted.Run(in.data(), a.data(), scratch.data());
    std::fill(native_scratch.begin(), native_scratch.end(), -777.0);  // native code keeps nothing in it between runs
    native.Run(in.data(), b.data(), native_scratch.data());
    for (size_t i = 0; i < outs.size(); ++i) {
      ASSERT_TRUE(Identical(a[i], b[i])) << "output " << i << " at x = " << in[0]
                                         << ", y = " << (in.size() > 1 ? in[1] : 0.0) << ": interpreted " << a[i]
                                         << ", native " << b[i];
    }
    // RunFinite: the same outputs, and whether all are finite.
    bool finite = true;
    for (double v : a) finite = finite && std::isfinite(v);
    ASSERT_EQ(interpreted.RunFinite(in.data(), a.data(), scratch.data()), finite);
    ASSERT_EQ(native.RunFinite(in.data(), b.data(), native_scratch.data()), finite);
  }
}

// Runs `outs` interpreted on each input vector and natively over `lanes`
// lanes (the inputs dealt to the lanes in turn, cycling, compiled with
// `math`), and expects each lane's outputs to pass `agree(interpreted,
// lanes)` (empty: they agree; else why not) and the returned mask to name
// exactly the lanes with a non-finite output.
using Agreement = std::function<std::string(double, double)>;
void ExpectLanesAgreeWithInterpreter(const Graph& g, const std::vector<NodeId>& outs,
                                     const std::vector<std::vector<double>>& inputs, int lanes, LaneMath math,
                                     const Agreement& agree) {
  SCOPED_TRACE("lanes " + std::to_string(lanes));
  const Program interpreted = Program::Compile(g, outs);
  Program native = interpreted;
  Program* programs[] = {&native};
  const Status compiled = CompileNativeLanes(programs, lanes, math);
  ASSERT_TRUE(compiled.ok()) << compiled.ToString();
  ASSERT_EQ(native.lanes(), lanes);
  ASSERT_FALSE(native.native());  // the scalar code is CompileNative's
  const size_t slots = interpreted.num_inputs(), n = outs.size(), w = static_cast<size_t>(lanes);
  std::vector<double> scratch = interpreted.NewScratch(), want(n);
  std::vector<double> in(std::max<size_t>(slots, 1) * w), out(std::max<size_t>(n, 1) * w, 12345.0);
  for (size_t first = 0; first < inputs.size(); first += w) {
    for (size_t l = 0; l < w; ++l) {
      const std::vector<double>& lane_in = inputs[(first + l) % inputs.size()];
      for (size_t sl = 0; sl < slots; ++sl) in[sl * w + l] = sl < lane_in.size() ? lane_in[sl] : 0.0;
    }
    const uint64_t mask = native.RunLanes(in.data(), out.data());
    for (size_t l = 0; l < w; ++l) {
      std::vector<double> lane_in(slots);
      for (size_t sl = 0; sl < slots; ++sl) lane_in[sl] = in[sl * w + l];
      interpreted.Run(lane_in.data(), want.data(), scratch.data());
      bool finite = true;
      for (size_t i = 0; i < n; ++i) {
        finite = finite && std::isfinite(want[i]);
        const std::string why = agree(want[i], out[i * w + l]);
        ASSERT_TRUE(why.empty()) << "output " << i << " lane " << l << " at x = " << lane_in[0]
                                 << ", y = " << (slots > 1 ? lane_in[1] : 0.0) << ": interpreted " << want[i]
                                 << ", lanes " << out[i * w + l] << ": " << why;
      }
      EXPECT_EQ((mask >> l) & 1u, finite ? 0u : 1u) << "lane " << l;
    }
    EXPECT_EQ(mask >> w, 0u);
  }
}

// The same with the scalar functions per lane: the interpreter's bits.
void ExpectLanesMatchInterpreter(const Graph& g, const std::vector<NodeId>& outs,
                                 const std::vector<std::vector<double>>& inputs, int lanes) {
  ExpectLanesAgreeWithInterpreter(g, outs, inputs, lanes, LaneMath::kExact, [](double a, double b) {
    return Identical(a, b) ? std::string() : std::string("not the same bits");
  });
}

const double kSpecial[] = {0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 3.0, 7.25, -7.25, 170.5, 1e300, -1e300,
                           1e-310, -1e-310, std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()};

// The cases both the scalar and the lanes comparisons run: every operation
// on every pair of special values; a random graph; runs of constant outputs
// (zeros, -2.5 and, with `infinite_run`, +infinity) between computed ones.
std::vector<NodeId> EveryOperation(Graph& g, std::vector<std::vector<double>>* inputs) {
  const NodeId x = g.Variable(0), y = g.Variable(1), z = g.Variable(2);
  std::vector<NodeId> outs;
  for (GOp op : testing::kUnaryOps) outs.push_back(g.Unary(op, x));
  for (GOp op : testing::kBinaryOps) outs.push_back(g.Binary(op, x, y));
  outs.push_back(g.Select(x, y, z));
  for (double a : kSpecial) {
    for (double b : kSpecial) inputs->push_back({a, b, -b});
  }
  return outs;
}

std::vector<NodeId> RandomCase(Graph& g, uint32_t seed, int size, size_t num_inputs,
                               std::vector<std::vector<double>>* inputs) {
  std::mt19937 rng(seed);
  std::vector<NodeId> pool = RandomGraph(g, rng, size);
  std::vector<NodeId> outs(pool.end() - 6, pool.end());
  outs.push_back(g.Derivative(pool.back(), 0));
  outs.push_back(g.Derivative(pool.back(), 2));
  std::uniform_real_distribution<double> u(-3.0, 3.0);
  inputs->assign(num_inputs, std::vector<double>(5));
  for (auto& in : *inputs) {
    for (double& v : in) v = rng() % 7 == 0 ? std::round(u(rng)) : u(rng);
  }
  return outs;
}

std::vector<NodeId> ConstantRuns(Graph& g, bool infinite_run) {
  const NodeId x = g.Variable(0), y = g.Variable(3);
  std::vector<NodeId> outs(300, g.Constant(0.0));
  for (size_t i = 40; i < 90; ++i) outs[i] = g.Constant(-2.5);
  if (infinite_run) {
    for (size_t i = 200; i < 210; ++i) outs[i] = g.Constant(std::numeric_limits<double>::infinity());
  }
  outs[7] = g.Mul(x, y);
  outs[120] = x;
  outs[299] = g.Unary(GOp::kExp, y);
  return outs;
}

// exp(in[i]) / in[1000] for i < 1000: 2,000 operations, many chunk functions.
std::vector<NodeId> ExpOfEachInput(Graph& g) {
  std::vector<NodeId> outs;
  for (uint32_t i = 0; i < 1000; ++i) outs.push_back(g.Div(g.Unary(GOp::kExp, g.Variable(i)), g.Variable(1000)));
  return outs;
}

TEST(JitTest, AvailableInThisBuildOrUnsupported) {
  Program p = Program::Compile(Graph(), {});
  Program* programs[] = {&p};
  Status s = CompileNative(programs);
  if (!JitAvailable()) {
    EXPECT_EQ(s.code(), ErrorCode::kUnsupported);
    EXPECT_FALSE(p.native());
    GTEST_SKIP() << "built without LLVM";
  }
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(p.native());
  std::vector<double> scratch = p.NewScratch();
  p.Run(nullptr, nullptr, scratch.data());  // no outputs, nothing to read
}

TEST(JitTest, AModuleFromAnotherBuildIsRefusedWithAMessage) {
  // A libsoma_jit.so left from another build would read Programs with the
  // wrong layout; its exported interface gives it away.
  const std::string mismatch = internal::CheckNativeModule(SOMA_TEST_MISMATCH_MODULE);
  EXPECT_NE(mismatch.find("jit_mismatch_module"), std::string::npos) << mismatch;
  EXPECT_NE(mismatch.find("built from another version of Soma"), std::string::npos) << mismatch;
  EXPECT_NE(mismatch.find("rebuild it"), std::string::npos) << mismatch;
  const std::string missing = internal::CheckNativeModule("/nonexistent/libsoma_jit.so");
  EXPECT_EQ(missing.rfind("cannot load /nonexistent/libsoma_jit.so", 0), 0u) << missing;
#ifdef SOMA_JIT_LIBRARY
  EXPECT_EQ(internal::CheckNativeModule(SOMA_JIT_LIBRARY), "");  // the module as built
#endif
}

TEST(JitTest, EveryOperationOnSpecialValuesGivesTheInterpretersBits) {
  if (!JitAvailable()) GTEST_SKIP() << "built without LLVM";
  Graph g;
  std::vector<std::vector<double>> inputs;
  const std::vector<NodeId> outs = EveryOperation(g, &inputs);
  ExpectNativeMatchesInterpreter(g, outs, inputs);
}

TEST(JitTest, RandomGraphsGiveTheInterpretersBits) {
  if (!JitAvailable()) GTEST_SKIP() << "built without LLVM";
  for (uint32_t seed = 0; seed < 60; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Graph g;
    std::vector<std::vector<double>> inputs;
    const std::vector<NodeId> outs = RandomCase(g, seed, 20 + static_cast<int>(seed * 7 % 200), 8, &inputs);
    ExpectNativeMatchesInterpreter(g, outs, inputs);
  }
}

TEST(JitTest, ProgramsWithHoistedOperationsGiveTheInterpretersBits) {
  // Native code computes the hoisted operations on every call; the
  // interpreter keeps them while their steady inputs stay the same.
  if (!JitAvailable()) GTEST_SKIP() << "built without LLVM";
  size_t hoisted = 0;
  for (uint32_t seed = 0; seed < 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    Graph g;
    std::vector<NodeId> pool = RandomGraph(g, rng, 30 + static_cast<int>(seed * 11 % 150));
    std::vector<NodeId> outs(pool.end() - 6, pool.end());
    outs.push_back(g.Derivative(pool.back(), 0));
    const std::vector<bool> steady = {false, seed % 2 == 0, true, true, seed % 3 == 0};
    hoisted += Program::Compile(g, outs, steady).num_hoisted();
    std::uniform_real_distribution<double> u(-3.0, 3.0);
    std::vector<std::vector<double>> inputs(8, std::vector<double>(5));
    for (auto& v : inputs[0]) v = u(rng);
    for (size_t k = 1; k < inputs.size(); ++k) {
      inputs[k] = inputs[k - 1];
      inputs[k][rng() % 5] = u(rng);  // sometimes steady, sometimes not
    }
    ExpectNativeMatchesInterpreter(g, outs, inputs, steady);
  }
  EXPECT_GT(hoisted, 200u);
}

TEST(JitTest, ConstantRunsOfOutputsAreFilled) {
  // A Jacobian-like output list: long runs of zeros and of one constant
  // (filled, not copied) between computed entries and plain variables.
  if (!JitAvailable()) GTEST_SKIP() << "built without LLVM";
  Graph g;
  const std::vector<NodeId> outs = ConstantRuns(g, /*infinite_run=*/false);
  ExpectNativeMatchesInterpreter(g, outs, {{0.5, 0.0, 0.0, -1.5}, {2.0, 9.0, 9.0, 3.0}});
}

TEST(JitTest, NativeCodeFindsNonFiniteOutputsInEveryChunk) {
  // 1,000 outputs from 2,000 operations: many chunk functions (150
  // operations each), whose answers `main` combines. A NaN or infinity in
  // any output, a non-finite constant run, and none.
  if (!JitAvailable()) GTEST_SKIP() << "built without LLVM";
  Graph g;
  std::vector<NodeId> outs = ExpOfEachInput(g);
  for (int k = 0; k < 5; ++k) outs.push_back(g.Constant(1.5));
  Program native = Program::Compile(g, outs);
  Program* programs[] = {&native};
  ASSERT_TRUE(CompileNative(programs).ok());
  ASSERT_TRUE(native.native());
  std::vector<double> in(1001, 0.5), out(outs.size());
  std::vector<double> scratch = native.NewScratch();
  EXPECT_TRUE(native.RunFinite(in.data(), out.data(), scratch.data()));
  for (uint32_t at : {0u, 149u, 150u, 777u, 999u}) {
    in[at] = 1000.0;  // exp overflows
    EXPECT_FALSE(native.RunFinite(in.data(), out.data(), scratch.data())) << at;
    in[at] = NAN;
    EXPECT_FALSE(native.RunFinite(in.data(), out.data(), scratch.data())) << at;
    in[at] = 0.5;
  }
  in[1000] = 0.0;  // every output divided by zero
  EXPECT_FALSE(native.RunFinite(in.data(), out.data(), scratch.data()));
  Graph h;
  const std::vector<NodeId> infinite(6, h.Constant(-std::numeric_limits<double>::infinity()));
  Program filled = Program::Compile(h, infinite);
  Program* more[] = {&filled};
  ASSERT_TRUE(CompileNative(more).ok());
  EXPECT_TRUE(filled.native());
  std::vector<double> filled_scratch = filled.NewScratch();
  EXPECT_FALSE(filled.RunFinite(nullptr, out.data(), filled_scratch.data()));
}

TEST(JitTest, LanesGiveEveryLaneTheInterpretersBits) {
  // Every operation on special values, random graphs (some of them cut into
  // several functions, so values pass between them on the stack) and runs
  // of constant outputs, over 2, 4 and 8 lanes, each lane with other inputs.
  if (!JitAvailable()) GTEST_SKIP() << "built without LLVM";
  for (int lanes : {2, 4, 8}) {
    {
      Graph g;
      std::vector<std::vector<double>> inputs;
      const std::vector<NodeId> outs = EveryOperation(g, &inputs);
      ExpectLanesMatchInterpreter(g, outs, inputs, lanes);
    }
    for (uint32_t seed = 0; seed < 30; ++seed) {
      SCOPED_TRACE("seed " + std::to_string(seed));
      Graph g;
      std::vector<std::vector<double>> inputs;
      const std::vector<NodeId> outs = RandomCase(g, seed, 20 + static_cast<int>(seed * 13 % 300), 16, &inputs);
      ExpectLanesMatchInterpreter(g, outs, inputs, lanes);
    }
    {
      Graph g;
      const std::vector<NodeId> outs = ConstantRuns(g, /*infinite_run=*/true);
      ExpectLanesMatchInterpreter(g, outs, {{0.5, 0.0, 0.0, -1.5}, {2.0, 9.0, 9.0, 3.0}, {NAN, 0, 0, 1000}}, lanes);
    }
  }
}

// Units in the last place between a and b (both finite, or equal).
uint64_t UlpsApart(double a, double b) {
  auto key = [](double v) {
    int64_t i;
    std::memcpy(&i, &v, sizeof i);
    return i < 0 ? std::numeric_limits<int64_t>::min() - i : i;  // ordered like the doubles
  };
  const int64_t ka = key(a), kb = key(b);
  return ka > kb ? static_cast<uint64_t>(ka) - static_cast<uint64_t>(kb)
                 : static_cast<uint64_t>(kb) - static_cast<uint64_t>(ka);
}

TEST(JitTest, VectorMathLanesAreWithinFourUlpsOfTheInterpreter) {
  // LaneMath::kVector: every operation on the special values and each
  // function libmvec has on 2,000 random arguments over 2, 4 and 8 lanes:
  // each lane's output NaN where the interpreter's is, equal where it is
  // infinite, else within 4 units in the last place (glibc's stated bound
  // for libmvec), and the lanes' non-finite mask right. Where the CPU has
  // the registers (4 lanes: AVX2, 8: AVX-512) some outputs must differ
  // from the scalar bits: proof that the vector functions ran.
  if (!JitAvailable()) GTEST_SKIP() << "built without LLVM";
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int lanes : {2, 4, 8}) {
    SCOPED_TRACE("lanes " + std::to_string(lanes));
    Graph g;
    std::vector<std::vector<double>> inputs;
    std::vector<NodeId> outs = EveryOperation(g, &inputs);
    const NodeId x = g.Variable(0), y = g.Variable(1);
    for (GOp op : {GOp::kExp, GOp::kLn, GOp::kLog10, GOp::kSin, GOp::kCos, GOp::kTan, GOp::kSinh, GOp::kCosh,
                   GOp::kTanh, GOp::kAsin, GOp::kAcos, GOp::kAtan, GOp::kAsinh, GOp::kAcosh, GOp::kAtanh}) {
      outs.push_back(g.Unary(op, x));
      outs.push_back(g.Unary(op, g.Mul(x, g.Constant(30.0))));
    }
    outs.push_back(g.Binary(GOp::kPow, g.Unary(GOp::kAbs, g.Mul(x, g.Constant(10.0))), g.Mul(y, g.Constant(5.0))));
    for (int k = 0; k < 2000; ++k) inputs.push_back({u(rng), u(rng), u(rng)});
    long differ = 0;
    uint64_t worst = 0;
    ExpectLanesAgreeWithInterpreter(g, outs, inputs, lanes, LaneMath::kVector, [&](double a, double b) {
      if (std::isnan(a) || std::isnan(b) || std::isinf(a) || std::isinf(b)) {
        return Identical(a, b) ? std::string() : std::string("not both NaN or the same infinity");
      }
      const uint64_t ulps = UlpsApart(a, b);
      worst = std::max(worst, ulps);
      differ += ulps != 0;
      return ulps <= 4 ? std::string() : std::to_string(ulps) + " units in the last place apart";
    });
    RecordProperty("worst_ulps_" + std::to_string(lanes), static_cast<int>(worst));
#if defined(__x86_64__) && defined(__GNUC__)
    const bool registers = lanes == 4 ? __builtin_cpu_supports("avx2") : lanes == 8 && __builtin_cpu_supports("avx512f");
#else
    const bool registers = false;
#endif
    if (registers) {
      EXPECT_GT(differ, 0) << "no output differs from the scalar bits: the vector functions did not run";
    }
  }
}

TEST(JitTest, LanesFindNonFiniteOutputsPerLaneInEveryChunk) {
  // 1,000 outputs over many chunk functions: a NaN or an infinity in one
  // lane's inputs sets that lane's bit only.
  if (!JitAvailable()) GTEST_SKIP() << "built without LLVM";
  Graph g;
  std::vector<NodeId> outs = ExpOfEachInput(g);
  Program native = Program::Compile(g, outs);
  Program* programs[] = {&native};
  ASSERT_TRUE(CompileNativeLanes(programs, 4).ok());
  std::vector<double> in(1001 * 4, 0.5), out(outs.size() * 4);
  EXPECT_EQ(native.RunLanes(in.data(), out.data()), 0u);
  for (uint32_t at : {0u, 149u, 150u, 777u, 999u}) {
    for (size_t lane = 0; lane < 4; ++lane) {
      in[at * 4 + lane] = 1000.0;  // exp overflows
      EXPECT_EQ(native.RunLanes(in.data(), out.data()), uint64_t{1} << lane) << at;
      in[at * 4 + lane] = 0.5;
    }
  }
  in[1000 * 4 + 2] = 0.0;  // lane 2: every output divided by zero
  EXPECT_EQ(native.RunLanes(in.data(), out.data()), 4u);
}

TEST(JitTest, LanesAreTwoFourOrEight) {
  Program p = Program::Compile(Graph(), {});
  Program* programs[] = {&p};
  for (int lanes : {0, 1, 3, 16}) {
    EXPECT_EQ(CompileNativeLanes(programs, lanes).code(), ErrorCode::kInvalidArgument) << lanes;
  }
  EXPECT_EQ(p.lanes(), 0);
}

TEST(JitTest, CopiesKeepTheCodeAndRunOnManyThreads) {
  if (!JitAvailable()) GTEST_SKIP() << "built without LLVM";
  Graph g;
  const NodeId f = g.Add(g.Unary(GOp::kSin, g.Variable(0)), g.Mul(g.Variable(1), g.Constant(3.0)));
  const NodeId outs[] = {f};
  Program copy;
  {
    Program p = Program::Compile(g, outs);
    Program* programs[] = {&p};
    ASSERT_TRUE(CompileNative(programs).ok());
    copy = p;
  }  // the original is gone; its copy holds the code
  ASSERT_TRUE(copy.native());
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<double> scratch = copy.NewScratch();
      for (int k = 0; k < 2000; ++k) {
        const double in[] = {0.001 * k, static_cast<double>(t)};
        double out = 0.0;
        copy.Run(in, &out, scratch.data());
        if (out != std::sin(0.001 * k) + t * 3.0) ++wrong[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

TEST(JitTest, ThreadsCompileAtTheSameTime) {
  // Server jobs compile their models concurrently: each thread its own
  // graph, compiled while the others compile, with the interpreter's bits.
  if (!JitAvailable()) GTEST_SKIP() << "built without LLVM";
  std::vector<int> wrong(4, -1);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&wrong, t] {
      std::mt19937 rng(100 + t);
      Graph g;
      std::vector<NodeId> pool = RandomGraph(g, rng, 150);
      const std::vector<NodeId> outs(pool.end() - 5, pool.end());
      const Program interpreted = Program::Compile(g, outs);
      Program native = interpreted;
      Program* programs[] = {&native};
      if (!CompileNative(programs).ok() || !native.native()) return;
      std::vector<double> scratch = interpreted.NewScratch(), a(outs.size()), b(outs.size());
      int bad = 0;
      for (int k = 0; k < 50; ++k) {
        const double in[5] = {0.1 * k - 2.0, 0.3, -1.25, 0.05 * k, 2.0};
        interpreted.Run(in, a.data(), scratch.data());
        native.Run(in, b.data(), scratch.data());
        for (size_t i = 0; i < outs.size(); ++i) bad += Identical(a[i], b[i]) ? 0 : 1;
      }
      wrong[t] = bad;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));  // -1: that thread could not compile
}

// Sets an environment variable for one scope, restoring what was there.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

size_t CacheFiles(const std::filesystem::path& dir) {
  size_t n = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    n += it->path().extension() == ".o" ? 1 : 0;
  }
  return n;
}

// The on-disk cache: a second compile of the same programs takes the
// machine code from there, with the same bits as the interpreter (scalar)
// and as the code compiled (lanes); other programs, lane counts or math get
// files of their own; a damaged file is compiled again and rewritten; and
// SOMA_JIT_CACHE=off neither reads nor writes.
TEST(JitTest, MachineCodeFromTheDiskCacheGivesTheSameBits) {
  if (!JitAvailable()) GTEST_SKIP() << "built without LLVM";
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("soma_jit_cache_" + std::to_string(::getpid()));
  fs::remove_all(root);
  ScopedEnv dir("SOMA_CACHE_DIR", root.string());
  ScopedEnv on("SOMA_JIT_CACHE", "on");
  ASSERT_EQ(NativeCodeCacheDir(), root.string() + "/jit");
  const fs::path cache = root / "jit";
  Graph g;
  std::vector<std::vector<double>> inputs;
  const std::vector<NodeId> outs = EveryOperation(g, &inputs);
  auto count = [] { return NativeCodeCount(); };

  const NativeCodeCounts start = count();
  ExpectNativeMatchesInterpreter(g, outs, inputs);
  EXPECT_EQ(count().compiled, start.compiled + 1);
  EXPECT_EQ(CacheFiles(cache), 1u);
  ExpectNativeMatchesInterpreter(g, outs, inputs);
  EXPECT_EQ(count().from_cache, start.from_cache + 1);
  EXPECT_EQ(count().compiled, start.compiled + 1);

  // Damage: a changed byte fails the CRC, so LLVM compiles again and the
  // file is rewritten whole.
  ASSERT_EQ(CacheFiles(cache), 1u);
  const fs::path file = fs::directory_iterator(cache)->path();
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_GT(bytes.size(), 100u);
  std::string damaged = bytes;
  damaged[bytes.size() / 2] ^= 0x40;
  std::ofstream(file, std::ios::binary | std::ios::trunc) << damaged;
  ExpectNativeMatchesInterpreter(g, outs, inputs);
  EXPECT_EQ(count().compiled, start.compiled + 2);
  {
    std::ifstream in(file, std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()), bytes);
  }

  // A folder others may write to is not used (their machine code would
  // run here): compiled again although the file is there.
  fs::permissions(cache, fs::perms::group_write | fs::perms::others_write, fs::perm_options::add);
  ExpectNativeMatchesInterpreter(g, outs, inputs);
  EXPECT_EQ(count().compiled, start.compiled + 3);
  EXPECT_EQ(count().from_cache, start.from_cache + 1);
  fs::permissions(cache, fs::perms::group_write | fs::perms::others_write, fs::perm_options::remove);
  ExpectNativeMatchesInterpreter(g, outs, inputs);
  EXPECT_EQ(count().from_cache, start.from_cache + 2);
  EXPECT_EQ(fs::status(cache).permissions() & fs::perms::all, fs::perms::owner_all);  // made private

  // Temporary files a killed writer left go when a file is next written,
  // once they are an hour old.
  const fs::path stale = cache / "left.o.1.0.tmp", fresh = cache / "left.o.2.0.tmp";
  std::ofstream(stale) << "x";
  std::ofstream(fresh) << "x";
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::hours(2));

  // Lanes: their own file per lane count and math; the cached code gives
  // the bits of the code compiled.
  std::mt19937 rng(7);
  Graph lg;
  std::vector<NodeId> pool = RandomGraph(lg, rng, 300);
  const std::vector<NodeId> louts(pool.end() - 6, pool.end());
  const size_t before_lanes = CacheFiles(cache);
  for (LaneMath math : {LaneMath::kExact, LaneMath::kVector}) {
    std::vector<double> first;
    for (int round = 0; round < 2; ++round) {
      Program p = Program::Compile(lg, louts);
      Program* programs[] = {&p};
      const NativeCodeCounts was = count();
      ASSERT_TRUE(CompileNativeLanes(programs, 4, math).ok());
      EXPECT_EQ(count().from_cache, was.from_cache + (round == 1 ? 1 : 0));
      std::vector<double> in(std::max<uint32_t>(p.num_inputs(), 1) * 4), out(louts.size() * 4);
      for (size_t k = 0; k < in.size(); ++k) in[k] = 0.37 * static_cast<double>(k % 11) - 1.5;
      p.RunLanes(in.data(), out.data());
      if (round == 0) {
        first = out;
      } else {
        for (size_t k = 0; k < out.size(); ++k) EXPECT_TRUE(Identical(first[k], out[k])) << k;
      }
    }
  }
  EXPECT_EQ(CacheFiles(cache), before_lanes + 2);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh));

  // Off: compiled, and nothing read or written.
  {
    ScopedEnv off("SOMA_JIT_CACHE", "off");
    EXPECT_EQ(NativeCodeCacheDir(), "");
    const NativeCodeCounts was = count();
    ExpectNativeMatchesInterpreter(g, outs, inputs);
    EXPECT_EQ(count().compiled, was.compiled + 1);
    EXPECT_EQ(count().from_cache, was.from_cache);
  }
  fs::remove_all(root);
}

}  // namespace
}  // namespace soma::expr
