#include "solvers/runge_kutta.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
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

bool SameBits(const double* a, const double* b, int n) { return std::memcmp(a, b, sizeof(double) * n) == 0; }

TEST(DormandPrinceTest, LanesGiveEveryMembersAttemptTheScalarBits) {
  // Members that keep their lanes from attempt to attempt, each with its
  // own t, h and state, as a member's DormandPrince drives them: an
  // accepted attempt moves the member on (the lane then holds its yn and
  // k7), a rejected one is retried with a smaller step from the same
  // point, now and then a member restarts somewhere else (fresh) or sits
  // a run out (its lane keeps its state), some attempts fail at one stage
  // or another (y0 passes the limit). Each attempt must get the scalar
  // attempt's result, count of right-hand sides and error norm, and when
  // accepted its yn, k7 and (Stages) k3 ... k6, bit for bit.
  const double limit = 0.9;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  int failures = 0, rejected = 0, accepted = 0, skipped = 0, restarts = 0;
  std::set<int> failed_at;  // the evaluations that failed
  for (int lanes : {2, 4, 8}) {
    WobblyLanes batch_system(lanes, limit);
    DormandPrinceLanes batch(&batch_system);
    Wobbly one(limit);
    struct Member {
      double t = 0, h = 0, y[3] = {}, k1[3] = {};
      bool fresh = true;
    };
    std::vector<Member> m(static_cast<size_t>(lanes));
    auto restart = [&](Member& mj) {
      for (double& v : mj.y) v = u(rng);
      mj.t = 10 * u(rng);
      mj.h = 0.05 + 0.3 * (u(rng) + 1);
      one.Rhs(mj.t, mj.y, mj.k1);
      mj.fresh = true;
    };
    for (Member& mj : m) restart(mj);
    for (int round = 0; round < 60; ++round) {
      struct Out {
        double k[6][3], yn[3], s[3];
      };
      std::vector<Out> in_lanes(m.size()), scalar(m.size());
      std::vector<LaneAttempt> a(m.size()), sa(m.size());
      std::vector<LaneAttempt*> posted(m.size(), nullptr);
      for (size_t j = 0; j < m.size(); ++j) {
        Member& mj = m[j];
        if (round % 7 == 3 && j % 2 == 1) {
          ++skipped;
          continue;  // sits this run out
        }
        for (auto [x, o] : {std::pair{&a[j], &in_lanes[j]}, std::pair{&sa[j], &scalar[j]}}) {
          x->t = mj.t;
          x->h = mj.h;
          x->t_new = j % 3 == 0 ? mj.t + mj.h : mj.t + 0.75 * mj.h;  // the second: landing on a stop time
          x->rel_tol = 1e-3;
          x->abs_tol = 1e-4 * (1 + static_cast<double>(j));
          x->y = mj.y;
          x->k1 = mj.k1;
          x->fresh = mj.fresh;
          x->k2 = o->k[0], x->k3 = o->k[1], x->k4 = o->k[2], x->k5 = o->k[3], x->k6 = o->k[4], x->k7 = o->k[5];
          x->yn = o->yn;
        }
        internal::DormandPrinceAttempt(&one, scalar[j].s, sa[j]);
        posted[j] = &a[j];
      }
      batch.Attempt(posted);
      for (size_t j = 0; j < m.size(); ++j) {
        if (posted[j] == nullptr) continue;
        SCOPED_TRACE("lanes " + std::to_string(lanes) + ", round " + std::to_string(round) + ", member " +
                     std::to_string(j));
        Member& mj = m[j];
        ASSERT_TRUE(a[j].stages_in_lane);
        ASSERT_EQ(a[j].result, sa[j].result);
        ASSERT_EQ(a[j].rhs_evaluations, sa[j].rhs_evaluations);
        mj.fresh = false;
        if (sa[j].result != 0) {
          ++failures;
          failed_at.insert(sa[j].rhs_evaluations);
          mj.h *= 0.25;
          if (failures % 3 == 0) {
            restart(mj);
            ++restarts;
          }
          continue;  // the scalar attempt stopped: what follows is not defined
        }
        ASSERT_TRUE(SameBits(&a[j].error_norm, &sa[j].error_norm, 1));
        if (!(sa[j].error_norm <= 1)) {
          ++rejected;
          mj.h *= 0.5;
          continue;
        }
        ++accepted;
        ASSERT_TRUE(SameBits(in_lanes[j].yn, scalar[j].yn, 3));
        ASSERT_TRUE(SameBits(in_lanes[j].k[5], scalar[j].k[5], 3));  // k7
        double k3[3], k4[3], k5[3], k6[3];
        batch.Stages(static_cast<int>(j), k3, k4, k5, k6);
        ASSERT_TRUE(SameBits(k3, scalar[j].k[1], 3));
        ASSERT_TRUE(SameBits(k4, scalar[j].k[2], 3));
        ASSERT_TRUE(SameBits(k5, scalar[j].k[3], 3));
        ASSERT_TRUE(SameBits(k6, scalar[j].k[4], 3));
        mj.t = sa[j].t_new;
        std::copy(scalar[j].yn, scalar[j].yn + 3, mj.y);
        std::copy(scalar[j].k[5], scalar[j].k[5] + 3, mj.k1);
        mj.h *= 1.3;
        if (accepted % 11 == 0) {
          restart(mj);
          ++restarts;
        }
      }
    }
    // A lane that sat a run out has lost its stages.
    std::vector<LaneAttempt*> none(static_cast<size_t>(lanes), nullptr);
    batch.Attempt(none);
    double k[4][3];
    EXPECT_THROW(batch.Stages(0, k[0], k[1], k[2], k[3]), std::logic_error);
  }
  EXPECT_GT(failures, 10);
  EXPECT_GT(rejected, 10);
  EXPECT_GT(accepted, 100);
  EXPECT_GT(skipped, 10);
  EXPECT_GT(restarts, 10);
  EXPECT_GE(failed_at.size(), 3u) << "failures at too few stages";
}

// y' = y cos t over lanes, the lanes version of SineExp.
class SineExpLanes : public LanesSystem {
 public:
  int num_states() const override { return 1; }
  int lanes() const override { return 2; }
  uint64_t RhsLanes(const double* t, const double* y, double* f) override {
    for (int l = 0; l < 2; ++l) f[l] = y[l] * std::cos(t[l]);
    return 0;
  }
};

// Every attempt of one member made in lane 1 of its own DormandPrinceLanes.
class OneLaneHook : public AttemptHook {
 public:
  int Attempt(OdeSystem*, LaneAttempt& a) override {
    LaneAttempt* lanes[2] = {nullptr, &a};
    batch_.Attempt(lanes);
    ++attempts;
    return a.result;
  }
  void Stages(double* k3, double* k4, double* k5, double* k6) override {
    ++stages;
    batch_.Stages(1, k3, k4, k5, k6);
  }
  long attempts = 0, stages = 0;

 private:
  SineExpLanes system_;
  DormandPrinceLanes batch_{&system_};
};

TEST(DormandPrinceTest, AMemberSteppedInALaneGetsTheBitsOfAScalarRun) {
  // Outputs between steps (interpolated from stages left in the lane),
  // roots, and a restart in the middle (the lane is fresh again): the same
  // outputs, steps and right-hand sides as without the lanes.
  struct Run {
    std::vector<double> out;
    long steps = 0, rhs = 0, roots = 0;
  };
  auto run = [](AttemptHook* hook) {
    SineExp sys;
    sys.roots_per_unit = 1.5;
    DormandPrince rk(&sys, Tolerances(1e-9, 1e-12));
    rk.SetAttemptHook(hook);
    Run r;
    double y = 1.0, t = 0;
    rk.Reset(0.0, &y, 0.0);
    for (int k = 1; k <= 30; ++k) {
      const double tout = 0.1 * k;
      if (k == 16) rk.Reset(t, &y, 0.0);  // a restart, as after an event
      DormandPrince::Flag f;
      while ((f = rk.Evolve(tout, false, &t, &y)) == DormandPrince::kRootReturn) ++r.roots;
      EXPECT_EQ(f, DormandPrince::kSuccess) << rk.FailureMessage(f);
      r.out.push_back(y);
      r.steps += rk.steps();
      r.rhs += rk.rhs_evaluations();
    }
    return r;
  };
  const Run scalar = run(nullptr);
  OneLaneHook hook;
  const Run lanes = run(&hook);
  ASSERT_EQ(lanes.out.size(), scalar.out.size());
  EXPECT_TRUE(SameBits(lanes.out.data(), scalar.out.data(), static_cast<int>(scalar.out.size())));
  EXPECT_EQ(lanes.steps, scalar.steps);
  EXPECT_EQ(lanes.rhs, scalar.rhs);
  EXPECT_EQ(lanes.roots, scalar.roots);
  EXPECT_GE(scalar.roots, 4);
  EXPECT_GT(hook.attempts, 20);
  EXPECT_GT(hook.stages, 10);                 // outputs and roots between steps took stages from the lane
  EXPECT_LT(hook.stages, hook.attempts);      // but not after every step
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
