#include "solvers/runge_kutta.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "solvers/ode_integrator.h"

namespace soma::solvers {
namespace {

// y' = y cos t, y(0) = 1: y = exp(sin t). One root function, sin(pi t):
// zero at the start and at every integer time.
class SineExp : public OdeSystem {
 public:
  int num_states() const override { return 1; }
  int Rhs(double t, const double* y, double* ydot) override {
    ++calls;
    ydot[0] = y[0] * std::cos(t);
    return 0;
  }
  int num_roots() const override { return with_root ? 1 : 0; }
  int Roots(double t, const double*, double* g) override {
    g[0] = std::sin(M_PI * roots_per_unit * t);
    return 0;
  }
  bool with_root = true;
  double roots_per_unit = 1;
  long calls = 0;
};

DormandPrince::Options Tolerances(double rel, double abs) {
  DormandPrince::Options o;
  o.rel_tol = rel;
  o.abs_tol = abs;
  return o;
}

TEST(DormandPrinceTest, MatchesTheAnalyticSolutionWithFewSteps) {
  // At rel 1e-10 every output within 1e-8 of exp(sin t), and no more steps
  // than a fifth-order method needs (a wrong coefficient would cost
  // accuracy or, through the error estimate, steps). Measured: 183 steps.
  SineExp sys;
  sys.with_root = false;
  DormandPrince rk(&sys, Tolerances(1e-10, 1e-12));
  const double y0 = 1.0;
  rk.Reset(0.0, &y0, 0.0);
  rk.SetStopTime(INFINITY);
  double worst = 0;
  for (int k = 1; k <= 100; ++k) {
    const double tout = 0.1 * k;
    double t = 0, y = 0;
    ASSERT_EQ(rk.Evolve(tout, /*one_step=*/false, &t, &y), DormandPrince::kSuccess);
    ASSERT_EQ(t, tout);
    worst = std::max(worst, std::abs(y - std::exp(std::sin(tout))));
  }
  EXPECT_LE(worst, 1e-8);
  EXPECT_LE(rk.steps(), 220);
  EXPECT_GE(rk.steps(), 100);
  // First same as last: six right-hand sides per step, plus the first point
  // and the start's estimate.
  EXPECT_LE(rk.rhs_evaluations(), 6 * (rk.steps() + rk.error_test_failures()) + 2);
  EXPECT_EQ(rk.rhs_evaluations(), sys.calls);
}

// A 3-state system that keeps its own copy of the state, as a model's
// workspace does: Rhs copies y there unless y already is there.
class Buffered : public OdeSystem {
 public:
  explicit Buffered(bool offer) : offer_(offer) {}
  int num_states() const override { return 3; }
  double* state_buffer() override { return offer_ ? own_ : nullptr; }
  int Rhs(double t, const double* y, double* ydot) override {
    if (y == own_) {
      ++in_place;
    } else {
      std::copy(y, y + 3, own_);
    }
    ydot[0] = own_[1];
    ydot[1] = -own_[0] + 0.1 * std::sin(t);
    ydot[2] = -0.5 * own_[2] * own_[0];
    return 0;
  }
  long in_place = 0;

 private:
  bool offer_;
  double own_[3] = {};
};

TEST(DormandPrinceTest, StagesComputedInTheSystemsOwnBufferGiveTheSameBits) {
  // The stages written straight into the system's copy of the state save
  // copies and change nothing: the same outputs bit for bit.
  std::vector<double> out[2];
  long in_place[2] = {};
  for (int offer = 0; offer < 2; ++offer) {
    Buffered sys(offer == 1);
    DormandPrince rk(&sys, Tolerances(1e-9, 1e-12));
    const double y0[3] = {1.0, 0.0, 2.0};
    rk.Reset(0.0, y0, 0.0);
    rk.SetStopTime(INFINITY);
    for (int k = 1; k <= 50; ++k) {
      double t = 0, y[3];
      ASSERT_EQ(rk.Evolve(0.2 * k, /*one_step=*/false, &t, y), DormandPrince::kSuccess);
      out[offer].insert(out[offer].end(), y, y + 3);
    }
    in_place[offer] = sys.in_place;
  }
  EXPECT_EQ(out[0], out[1]);
  EXPECT_EQ(in_place[0], 0);
  EXPECT_GT(in_place[1], 100);  // stages 2-6 of every step
}

TEST(DormandPrinceTest, FindsSuccessiveRootsButNotTheOneAtTheStart) {
  // sin(pi t) is zero at t = 0, where it must not count (it is inactive
  // until it moves away), then falls through 1, rises through 2 and falls
  // through 3; each root is returned once, without a restart in between.
  SineExp sys;
  DormandPrince rk(&sys, Tolerances(1e-9, 1e-12));
  const double y0 = 1.0;
  rk.Reset(0.0, &y0, 0.0);
  rk.SetStopTime(INFINITY);
  std::vector<double> roots;
  std::vector<int> directions;
  double t = 0, y = 0;
  while (true) {
    const DormandPrince::Flag f = rk.Evolve(3.5, /*one_step=*/false, &t, &y);
    ASSERT_GE(f, 0) << rk.FailureMessage(f);
    if (f == DormandPrince::kSuccess) break;
    ASSERT_EQ(f, DormandPrince::kRootReturn);
    roots.push_back(t);
    directions.push_back(rk.roots_found()[0]);
    EXPECT_NEAR(y, std::exp(std::sin(t)), 1e-7);
  }
  EXPECT_EQ(t, 3.5);
  ASSERT_EQ(roots.size(), 3u);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(roots[k], k + 1.0, 1e-12) << k;
  EXPECT_EQ(directions, (std::vector<int>{-1, 1, -1}));
}

TEST(DormandPrinceTest, OutputsAreTheSameWithRootFunctionsAsWithout) {
  // With root functions, the check up to an output time interpolates there
  // and the output reuses those values; roots located inside a step in
  // between move that buffer elsewhere. Either way the outputs must be the
  // interpolant's values at the output times: bit for bit those of a run
  // without root functions (roots do not change the steps), here with
  // several outputs per step and roots (every third of a unit) between
  // outputs of the same step.
  std::vector<double> out[2];
  int roots = 0;
  for (int with_root = 0; with_root < 2; ++with_root) {
    SineExp sys;
    sys.with_root = with_root == 1;
    sys.roots_per_unit = 3;
    DormandPrince rk(&sys, Tolerances(1e-6, 1e-9));
    const double y0 = 1.0;
    rk.Reset(0.0, &y0, 0.0);
    rk.SetStopTime(INFINITY);
    for (int k = 1; k <= 58; ++k) {
      const double tout = 0.05 * k;
      double t = 0, y = 0;
      DormandPrince::Flag f;
      while ((f = rk.Evolve(tout, /*one_step=*/false, &t, &y)) == DormandPrince::kRootReturn) {
        ++roots;
        EXPECT_NEAR(t * 3, std::round(t * 3), 1e-9);
      }
      ASSERT_EQ(f, DormandPrince::kSuccess) << rk.FailureMessage(f);
      ASSERT_EQ(t, tout);
      EXPECT_NEAR(y, std::exp(std::sin(tout)), 1e-5);
      out[with_root].push_back(y);
    }
    if (with_root == 1) {
      EXPECT_LT(rk.steps(), 40);  // so about two outputs per step
    }
  }
  EXPECT_EQ(roots, 8);  // 1/3, 2/3, ..., 8/3
  EXPECT_EQ(out[0], out[1]);
}

// y0' = y1, y1' = -y0 + 0.1 sin t, y2' = -y2 y0 / 2, failing (recoverably)
// wherever y0 > limit: the same arithmetic one member at a time and in lanes.
void Wobble(double t, const double* y, size_t stride, double* f) {
  f[0] = y[stride];
  f[stride] = -y[0] + 0.1 * std::sin(t);
  f[2 * stride] = -0.5 * y[2 * stride] * y[0];
}

class Wobbly : public OdeSystem {
 public:
  explicit Wobbly(double limit) : limit_(limit) {}
  int num_states() const override { return 3; }
  int Rhs(double t, const double* y, double* f) override {
    Wobble(t, y, 1, f);
    return y[0] > limit_ ? 1 : 0;
  }

 private:
  double limit_;
};

class WobblyLanes : public LanesSystem {
 public:
  WobblyLanes(int lanes, double limit) : lanes_(lanes), limit_(limit) {}
  int num_states() const override { return 3; }
  int lanes() const override { return lanes_; }
  uint64_t RhsLanes(const double* t, const double* y, double* f) override {
    uint64_t failed = 0;
    for (int l = 0; l < lanes_; ++l) {
      Wobble(t[l], y + l, static_cast<size_t>(lanes_), f + l);
      if (y[l] > limit_) failed |= uint64_t{1} << l;
    }
    ++calls;
    return failed;
  }
  long calls = 0;

 private:
  int lanes_;
  double limit_;
};

TEST(DormandPrinceTest, LanesGiveEveryMembersAttemptTheScalarBits) {
  // Attempts of members with their own t, h and state, fewer than the
  // lanes or as many; some fail at one stage or another (y0 passes the
  // limit). Each must get the scalar attempt's stages, solution, result
  // and count of right-hand sides, bit for bit.
  const double limit = 0.9;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  int failures = 0;
  std::set<int> failed_at;  // the evaluations that failed
  for (int lanes : {2, 4, 8}) {
    WobblyLanes batch_system(lanes, limit);
    DormandPrinceLanes batch(&batch_system);
    for (int round = 0; round < 40; ++round) {
      const int members = 1 + round % lanes;
      struct Member {
        double y[3], k1[3], k[6][3], yn[3];
        double sk[6][3], syn[3], s[3];
      };
      std::vector<Member> m(static_cast<size_t>(members));
      std::vector<LaneAttempt> in_lanes(m.size()), scalar(m.size());
      Wobbly one(limit);
      for (size_t j = 0; j < m.size(); ++j) {
        Member& mj = m[j];
        for (double& v : mj.y) v = u(rng);
        const double t = 10 * u(rng), h = 0.05 + 0.3 * (u(rng) + 1);
        one.Rhs(t, mj.y, mj.k1);
        for (LaneAttempt* a : {&in_lanes[j], &scalar[j]}) {
          a->t = t;
          a->h = h;
          a->t_new = j % 3 == 0 ? t + h : t + 0.75 * h;  // the second: landing on a stop time
          a->y = mj.y;
          a->k1 = mj.k1;
        }
        double (*k)[3] = mj.k;
        double (*sk)[3] = mj.sk;
        in_lanes[j].k2 = k[0], in_lanes[j].k3 = k[1], in_lanes[j].k4 = k[2];
        in_lanes[j].k5 = k[3], in_lanes[j].k6 = k[4], in_lanes[j].k7 = k[5], in_lanes[j].yn = mj.yn;
        scalar[j].k2 = sk[0], scalar[j].k3 = sk[1], scalar[j].k4 = sk[2];
        scalar[j].k5 = sk[3], scalar[j].k6 = sk[4], scalar[j].k7 = sk[5], scalar[j].yn = mj.syn;
        internal::DormandPrinceAttempt(&one, mj.s, scalar[j]);
      }
      batch.Attempt(in_lanes);
      for (size_t j = 0; j < m.size(); ++j) {
        SCOPED_TRACE("lanes " + std::to_string(lanes) + ", round " + std::to_string(round) + ", member " +
                     std::to_string(j));
        ASSERT_EQ(in_lanes[j].result, scalar[j].result);
        ASSERT_EQ(in_lanes[j].rhs_evaluations, scalar[j].rhs_evaluations);
        if (scalar[j].result != 0) {
          ++failures;
          failed_at.insert(scalar[j].rhs_evaluations);
          continue;  // the scalar attempt stopped: what follows is not defined
        }
        for (int v = 1; v < 6; ++v) {  // k3 ... k7 (k2 is not handed back)
          for (int i = 0; i < 3; ++i) ASSERT_EQ(std::memcmp(&m[j].k[v][i], &m[j].sk[v][i], 8), 0) << v << " " << i;
        }
        for (int i = 0; i < 3; ++i) ASSERT_EQ(std::memcmp(&m[j].yn[i], &m[j].syn[i], 8), 0) << i;
      }
    }
  }
  EXPECT_GT(failures, 10);
  EXPECT_LT(failures, 200);
  EXPECT_GE(failed_at.size(), 3u) << "failures at too few stages";
}

TEST(DormandPrinceTest, LandsOnTheStopTimeAndReportsRootsInOneStepMode) {
  SineExp sys;
  DormandPrince rk(&sys, Tolerances(1e-8, 1e-12));
  const double y0 = 1.0;
  rk.Reset(0.0, &y0, 0.0);
  rk.SetStopTime(1.5);
  double t = 0, y = 0, last = 0;
  int roots = 0;
  DormandPrince::Flag f = DormandPrince::kSuccess;
  while (f == DormandPrince::kSuccess || f == DormandPrince::kRootReturn) {
    f = rk.Evolve(1.5, /*one_step=*/true, &t, &y);
    ASSERT_GE(f, 0) << rk.FailureMessage(f);
    EXPECT_GT(t, last);
    EXPECT_LE(t, 1.5);
    last = t;
    if (f == DormandPrince::kRootReturn) {
      ++roots;
      EXPECT_NEAR(t, 1.0, 1e-12);
    }
  }
  EXPECT_EQ(f, DormandPrince::kStopReturn);
  EXPECT_EQ(t, 1.5);  // exactly
  EXPECT_EQ(roots, 1);
  EXPECT_NEAR(y, std::exp(std::sin(1.5)), 1e-7);
  // Every step ended where the interpolant says the solution is.
  double y_at = 0;
  ASSERT_TRUE(rk.Interpolate(1.5, 0, &y_at));
  EXPECT_EQ(y_at, y);
  EXPECT_FALSE(rk.Interpolate(1.6, 0, &y_at));  // beyond the last step
}

}  // namespace
}  // namespace soma::solvers
