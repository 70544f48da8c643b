// ModelLanesSystem: the model's right-hand side over SIMD lanes against
// ModelSystem::Rhs, member by member.

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "expr/jit.h"
#include "formats/sbml/sbml_import.h"
#include "sim/compiled_model.h"
#include "sim/model_system.h"

namespace soma::sim {
namespace {

bool Identical(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;
}

TEST(ModelLanesSystemTest, EveryLaneGetsTheMembersRightHandSide) {
  // The T1D model (two tanh, piecewise rates, divisions) in 4 lanes, each
  // lane a member with its own parameters (Vmx, kp3, m30, meal_ingested),
  // time and state, some states negative (the piecewise's other side) and
  // one lane with a NaN state: each lane has the bits of ModelSystem::Rhs
  // for that member, and the mask names the lanes whose rates are not all
  // finite.
  if (!expr::JitAvailable()) GTEST_SKIP() << "built without LLVM";
  auto imported = formats::LoadSbmlFile(std::string(SOMA_SOURCE_DIR) + "/models/t1d-uva-padova.xml");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  CompileOptions options;
  options.native_lanes = 4;
  options.lane_math = expr::LaneMath::kExact;  // the scalar bits, compared below
  auto cm = CompiledModel::Compile(imported->model, options);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  ASSERT_EQ((*cm)->rhs().lanes(), 4);
  ASSERT_FALSE((*cm)->rhs().native());  // the scalar side interprets
  ModelLanesSystem lanes(**cm);
  const size_t n = (*cm)->num_states(), w = 4;
  ASSERT_EQ(lanes.num_states(), static_cast<int>(n));
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  int failing_lanes = 0;
  for (int round = 0; round < 20; ++round) {
    std::vector<std::vector<double>> workspace(w);
    std::vector<double> t(w), y(n * w), f(n * w);
    for (size_t l = 0; l < w; ++l) {
      auto overrides = (*cm)->ResolveOverrides({{"Vmx", 0.02 + 0.03 * u(rng)},
                                                {"kp3", 0.008 + 0.01 * u(rng)},
                                                {"m30", 0.15 + 0.15 * u(rng)},
                                                {"meal_ingested", round % 2 == 0 ? 0.0 : 80000 * u(rng)}});
      ASSERT_TRUE(overrides.ok()) << overrides.status().ToString();
      workspace[l] = (*cm)->InitialWorkspace(0.0, *overrides);
      lanes.SetLane(static_cast<int>(l), workspace[l].data());
      t[l] = 1440 * u(rng);
      for (size_t i = 0; i < n; ++i) {
        const double v = workspace[l][1 + i];
        y[i * w + l] = (std::isfinite(v) ? v : 0.0) * (0.2 + 1.6 * u(rng)) + 5000 * u(rng) * (u(rng) < 0.2 ? -1 : 1);
      }
      if (round % 5 == 4 && l == 2) y[3 * w + l] = std::nan("");
    }
    const uint64_t mask = lanes.RhsLanes(t.data(), y.data(), f.data());
    for (size_t l = 0; l < w; ++l) {
      SCOPED_TRACE("round " + std::to_string(round) + ", lane " + std::to_string(l));
      std::vector<double> in = workspace[l], y_lane(n), f_lane(n);
      for (size_t i = 0; i < n; ++i) y_lane[i] = y[i * w + l];
      ModelSystem member(**cm, in);
      const int r = member.Rhs(t[l], y_lane.data(), f_lane.data());
      for (size_t i = 0; i < n; ++i) {
        ASSERT_TRUE(Identical(f[i * w + l], f_lane[i])) << "rate " << i << ": lanes " << f[i * w + l] << ", member "
                                                        << f_lane[i];
      }
      EXPECT_EQ((mask >> l) & 1u, r == 0 ? 0u : 1u);
      failing_lanes += r == 0 ? 0 : 1;
    }
  }
  EXPECT_GE(failing_lanes, 4);  // the NaN lanes at least
}

}  // namespace
}  // namespace soma::sim
