#include "solvers/ode_integrator.h"

#include <bit>
#include <cmath>

#include <gtest/gtest.h>

namespace soma::solvers {
namespace {

// y' = -k y, y(0) = 1: y = exp(-k t). Root at y = 0.5: t = ln 2 / k.
class Decay : public OdeSystem {
 public:
  explicit Decay(double k) : k_(k) {}
  int num_states() const override { return 1; }
  int Rhs(double, const double* y, double* ydot) override { ydot[0] = -k_ * y[0]; return 0; }
  bool has_dense_jacobian() const override { return true; }
  int DenseJacobian(double, const double*, double* jac) override { jac[0] = -k_; return 0; }
  int num_roots() const override { return 1; }
  int Roots(double, const double* y, double* g) override { g[0] = y[0] - 0.5; return 0; }

 private:
  double k_;
};

// Robertson's stiff chemical kinetics, with a sparse Jacobian.
class Robertson : public OdeSystem {
 public:
  Robertson() {
    pattern_.column_starts = {0, 3, 6, 9};
    pattern_.row_indices = {0, 1, 2, 0, 1, 2, 0, 1, 2};
  }
  int num_states() const override { return 3; }
  int Rhs(double, const double* y, double* f) override {
    f[0] = -0.04 * y[0] + 1e4 * y[1] * y[2];
    f[2] = 3e7 * y[1] * y[1];
    f[1] = -f[0] - f[2];
    return 0;
  }
  const SparsePattern* sparse_pattern() const override { return &pattern_; }
  int SparseJacobian(double, const double* y, double* v) override {
    v[0] = -0.04; v[1] = 0.04; v[2] = 0;
    v[3] = 1e4 * y[2]; v[4] = -1e4 * y[2] - 6e7 * y[1]; v[5] = 6e7 * y[1];
    v[6] = 1e4 * y[1]; v[7] = -1e4 * y[1]; v[8] = 0;
    return 0;
  }

 private:
  SparsePattern pattern_;
};

TEST(OdeIntegratorTest, ExponentialDecayMatchesAnalyticSolution) {
  SundialsContext ctx;
  Decay sys(0.7);
  IntegratorOptions opt;
  opt.rel_tol = 1e-10;
  opt.abs_tol = 1e-14;
  std::vector<double> y0 = {1.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, opt);
  ASSERT_TRUE(integ.ok()) << integ.status().ToString();
  // First stop: the root y = 0.5 at t = ln2/0.7.
  auto stop = (*integ)->Advance(5.0, 5.0);
  ASSERT_TRUE(stop.ok());
  ASSERT_EQ(*stop, OdeIntegrator::Stop::kRoot);
  // The root's error is the state's global error (~10 rel_tol) over |y'| = 0.35.
  EXPECT_NEAR((*integ)->t(), std::log(2.0) / 0.7, 1e-8);
  EXPECT_EQ((*integ)->roots_found()[0], -1);
  stop = (*integ)->Advance(5.0, 5.0);
  ASSERT_TRUE(stop.ok());
  ASSERT_EQ(*stop, OdeIntegrator::Stop::kReachedTime);
  EXPECT_DOUBLE_EQ((*integ)->t(), 5.0);
  // |y - exact| <= 1e-12 + 1e-8 |exact|
  const double exact = std::exp(-3.5);
  EXPECT_LE(std::abs((*integ)->y()[0] - exact), 1e-12 + 1e-8 * exact);
}

TEST(OdeIntegratorTest, StiffRobertsonWithKluConservesMass) {
  SundialsContext ctx;
  Robertson sys;
  IntegratorOptions opt;
  opt.rel_tol = 1e-8;
  opt.abs_tol = 1e-14;
  std::vector<double> y0 = {1.0, 0.0, 0.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, opt);
  ASSERT_TRUE(integ.ok()) << integ.status().ToString();
  ASSERT_TRUE((*integ)->Advance(40.0, INFINITY).ok());
  const double* y = (*integ)->y();
  // Invariant: y0 + y1 + y2 = 1. Reference values at t = 40 (Hairer & Wanner,
  // also the CVODES example cvRoberts_dns): y0 = 0.7158, y2 = 0.2842.
  EXPECT_NEAR(y[0] + y[1] + y[2], 1.0, 1e-10);
  EXPECT_NEAR(y[0], 0.7158270687, 1e-6);
  EXPECT_NEAR(y[2], 0.2841637457, 1e-6);
  EXPECT_GT((*integ)->stats().jacobian_evaluations, 0);
}

TEST(OdeIntegratorTest, InterpolatesOutputsAndLandsExactlyOnStopTimes) {
  // Outputs every 0.1 are interpolated (the integrator steps past them); a
  // stop time at 2.5 is landed on exactly. Values match exp(-0.7 t).
  SundialsContext ctx;
  Decay sys(0.7);
  IntegratorOptions opt;
  opt.rel_tol = 1e-10;
  opt.abs_tol = 1e-14;
  std::vector<double> y0 = {1.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, opt);
  ASSERT_TRUE(integ.ok());
  double t = 0;
  for (int k = 1; k <= 25; ++k) {
    double target = 0.1 * k;
    auto stop = (*integ)->Advance(target, 2.5);
    ASSERT_TRUE(stop.ok()) << stop.status().ToString();
    if (*stop == OdeIntegrator::Stop::kRoot) {
      stop = (*integ)->Advance(target, 2.5);
      ASSERT_TRUE(stop.ok());
    }
    t = (*integ)->t();
    EXPECT_DOUBLE_EQ(t, target);
    const double exact = std::exp(-0.7 * t);
    EXPECT_LE(std::abs((*integ)->y()[0] - exact), 1e-12 + 1e-8 * exact) << "t = " << t;
  }
  // Fewer steps than outputs: outputs did not force steps.
  EXPECT_LT((*integ)->stats().steps, 200);
}

// y' = -lambda (y - cos t) - sin t, y(0) = 1: y = cos t for every lambda.
// With lambda = 1e5 the solution is smooth but the problem is stiff: an
// explicit or fixed-point method needs h < ~1/lambda.
class StiffCosine : public OdeSystem {
 public:
  int num_states() const override { return 1; }
  int Rhs(double t, const double* y, double* f) override {
    f[0] = -kLambda * (y[0] - std::cos(t)) - std::sin(t);
    return 0;
  }
  bool has_dense_jacobian() const override { return true; }
  int DenseJacobian(double, const double*, double* jac) override { jac[0] = -kLambda; return 0; }
  static constexpr double kLambda = 1e5;
};

// The harmonic oscillator y1' = y2, y2' = -y1 (y1 = cos t): not stiff.
class Oscillator : public OdeSystem {
 public:
  int num_states() const override { return 2; }
  int Rhs(double, const double* y, double* f) override { f[0] = y[1]; f[1] = -y[0]; return 0; }
  bool has_dense_jacobian() const override { return true; }
  int DenseJacobian(double, const double*, double* jac) override {
    jac[0] = 0; jac[1] = -1; jac[2] = 1; jac[3] = 0;
    return 0;
  }
};

IntegratorOptions WithTolerances(double rel_tol, double abs_tol) {
  IntegratorOptions opt;  // kAuto by default
  opt.rel_tol = rel_tol;
  opt.abs_tol = abs_tol;
  return opt;
}

// Runs to t_end in 20 outputs, with a stop at t_end or with no stop ahead
// (then kAuto does not know how long the run is).
IntegratorStats RunTo(OdeSystem& sys, std::vector<double> y0, double t_end, IntegratorOptions opt,
                      std::vector<double>* y_end, bool stop_at_end = true) {
  SundialsContext ctx;
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, opt);
  EXPECT_TRUE(integ.ok()) << integ.status().ToString();
  if (!integ.ok()) return {};
  for (int k = 1; k <= 20; ++k) {
    auto stop = (*integ)->Advance(t_end * k / 20, stop_at_end ? t_end : INFINITY);
    EXPECT_TRUE(stop.ok()) << stop.status().ToString();
    if (!stop.ok()) return {};
  }
  y_end->assign((*integ)->y(), (*integ)->y() + y0.size());
  return (*integ)->stats();
}

TEST(OdeIntegratorTest, AutoStaysOnAdamsForANonStiffProblem) {
  // With no stop ahead and no end time the run's length is unknown: Adams
  // (a short run goes to the explicit method: AutoRunsShortNonStiffSegments...).
  Oscillator sys;
  IntegratorOptions opt = WithTolerances(1e-10, 1e-12);
  std::vector<double> y;
  const IntegratorStats auto_stats = RunTo(sys, {1.0, 0.0}, 20.0, opt, &y, /*stop_at_end=*/false);
  EXPECT_EQ(auto_stats.rk_segments, 0);
  // Global error over 3 periods at rel_tol 1e-10: well below 1e-7.
  EXPECT_NEAR(y[0], std::cos(20.0), 1e-7);
  EXPECT_NEAR(y[1], -std::sin(20.0), 1e-7);
  EXPECT_EQ(auto_stats.method_switches, 0);
  EXPECT_TRUE(std::isnan(auto_stats.bdf_from));
  // Adams' step stops growing at h * rho ~ 0.06 (accuracy): BDF is tried
  // once for 40 steps and given up; the next try would wait 2 checks more.
  EXPECT_LE(auto_stats.bdf_probes, 2);
  EXPECT_LE(auto_stats.jacobian_evaluations, 2 * auto_stats.bdf_probes);
  // Adams' high orders need fewer steps than BDF at this tolerance.
  opt.method = OdeMethod::kBdf;
  const IntegratorStats bdf_stats = RunTo(sys, {1.0, 0.0}, 20.0, opt, &y, /*stop_at_end=*/false);
  EXPECT_LT(auto_stats.steps, bdf_stats.steps / 2) << auto_stats.steps << " vs BDF " << bdf_stats.steps;
}

TEST(OdeIntegratorTest, AutoSwitchesToBdfWhenStiffnessAppears) {
  StiffCosine sys;
  IntegratorOptions opt = WithTolerances(1e-8, 1e-10);
  std::vector<double> y;
  const IntegratorStats auto_stats = RunTo(sys, {1.0}, 10.0, opt, &y);
  EXPECT_NEAR(y[0], std::cos(10.0), 1e-6);
  EXPECT_EQ(auto_stats.method_switches, 1);
  // Detected within the first few checks (h ~ 1 / lambda on Adams).
  EXPECT_LT(auto_stats.bdf_from, 1e-2);
  EXPECT_GT(auto_stats.jacobian_evaluations, 0);
  // Adams alone would need about 10 / (1 / lambda) = 1e6 steps.
  EXPECT_LT(auto_stats.steps, 5000);
  opt.method = OdeMethod::kBdf;
  const IntegratorStats bdf_stats = RunTo(sys, {1.0}, 10.0, opt, &y);
  EXPECT_LT(auto_stats.steps, bdf_stats.steps + 300) << "BDF alone: " << bdf_stats.steps;
}

TEST(OdeIntegratorTest, AutoFindsStiffnessWithoutAnAnalyticJacobian) {
  // The spectral radius then comes from finite differences of f.
  class NoJacobian : public StiffCosine {
   public:
    bool has_dense_jacobian() const override { return false; }
  };
  NoJacobian sys;
  std::vector<double> y;
  const IntegratorStats stats = RunTo(sys, {1.0}, 10.0, WithTolerances(1e-8, 1e-10), &y);
  EXPECT_NEAR(y[0], std::cos(10.0), 1e-6);
  EXPECT_EQ(stats.method_switches, 1);
  EXPECT_LT(stats.bdf_from, 1e-2);
}

TEST(OdeIntegratorTest, AutoTriesAdamsAgainAfterARestart) {
  SundialsContext ctx;
  StiffCosine sys;
  const IntegratorOptions opt = WithTolerances(1e-8, 1e-10);
  std::vector<double> y0 = {1.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, opt);
  ASSERT_TRUE(integ.ok());
  ASSERT_TRUE((*integ)->Advance(1.0, 1.0).ok());
  EXPECT_EQ((*integ)->stats().method_switches, 1);
  std::vector<double> y1 = {std::cos(1.0)};
  ASSERT_TRUE((*integ)->Reinit(1.0, y1).ok());
  auto stop = (*integ)->Advance(2.0, 2.0);
  ASSERT_TRUE(stop.ok()) << stop.status().ToString();
  // Adams again after the restart, and stiffness found again.
  EXPECT_EQ((*integ)->stats().method_switches, 2);
  EXPECT_NEAR((*integ)->y()[0], std::cos(2.0), 1e-6);
}

TEST(OdeIntegratorTest, AutoRunsShortNonStiffSegmentsWithRungeKutta) {
  // With the next stop 1 ahead at the start, and 0.5 ahead after a restart,
  // on the oscillator (rho = 1: rho * length <= 1000) the segments run with
  // the explicit method; a segment with no stop ahead (and no end time)
  // runs with Adams. Values against cos t / -sin t, 1e-12 + 1e-8 |exact|.
  SundialsContext ctx;
  Oscillator sys;
  std::vector<double> y0 = {1.0, 0.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, WithTolerances(1e-10, 1e-12));
  ASSERT_TRUE(integ.ok());
  ASSERT_TRUE((*integ)->Advance(1.0, 1.0).ok());
  EXPECT_EQ((*integ)->stats().rk_segments, 1);
  EXPECT_LE(std::abs((*integ)->y()[0] - std::cos(1.0)), 1e-12 + 1e-8 * std::abs(std::cos(1.0)));
  std::vector<double> y1 = {std::cos(1.0), -std::sin(1.0)};
  ASSERT_TRUE((*integ)->Reinit(1.0, y1).ok());
  ASSERT_TRUE((*integ)->Advance(1.5, 1.5).ok());
  const IntegratorStats after_rk = (*integ)->stats();
  EXPECT_EQ(after_rk.rk_segments, 2);
  EXPECT_EQ(after_rk.jacobian_evaluations, 0);
  for (int i = 0; i < 2; ++i) {
    const double exact = i == 0 ? std::cos(1.5) : -std::sin(1.5);
    EXPECT_LE(std::abs((*integ)->y()[i] - exact), 1e-12 + 1e-8 * std::abs(exact)) << i;
  }
  std::vector<double> y2 = {std::cos(1.5), -std::sin(1.5)};
  ASSERT_TRUE((*integ)->Reinit(1.5, y2).ok());
  ASSERT_TRUE((*integ)->Advance(4.0, INFINITY).ok());  // no stop ahead: Adams
  const IntegratorStats end = (*integ)->stats();
  EXPECT_EQ(end.rk_segments, 2);
  EXPECT_GT(end.steps, after_rk.steps);
  EXPECT_LE(std::abs((*integ)->y()[0] - std::cos(4.0)), 1e-12 + 1e-8 * std::abs(std::cos(4.0)));
}

TEST(OdeIntegratorTest, AutoJudgesTheSegmentToTheEndByTheEndTime) {
  // After a restart at 1 with no stop ahead, IntegratorOptions::end_time
  // stands for the segment's end: 4 (rho * 3 <= 1000) runs the explicit
  // method; 1e6 (rho * length far above 1000) and unknown run Adams. (The
  // first segment, to the stop at 1, is explicit in all three.)
  for (double end : {4.0, 1e6, static_cast<double>(INFINITY)}) {
    SundialsContext ctx;
    Oscillator sys;
    std::vector<double> y0 = {1.0, 0.0};
    IntegratorOptions opt = WithTolerances(1e-10, 1e-12);
    opt.end_time = end;
    auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, opt);
    ASSERT_TRUE(integ.ok());
    ASSERT_TRUE((*integ)->Advance(1.0, 1.0).ok());
    std::vector<double> y1 = {std::cos(1.0), -std::sin(1.0)};
    ASSERT_TRUE((*integ)->Reinit(1.0, y1).ok());
    ASSERT_TRUE((*integ)->Advance(4.0, INFINITY).ok());
    EXPECT_EQ((*integ)->stats().rk_segments, end == 4.0 ? 2 : 1) << "end " << end;
    EXPECT_LE(std::abs((*integ)->y()[0] - std::cos(4.0)), 1e-12 + 1e-8 * std::abs(std::cos(4.0))) << "end " << end;
  }
}

// y' = J y with J = c H - d I, H the 16 x 16 Sylvester-Hadamard matrix
// (symmetric, entries +-1, H H = 16 I): eigenvalues 4c - d and -4c - d.
// With c = 25 and d = 100.5 they are -0.5 and -200.5, so the spectral
// radius is 200.5, while ||J||_1 = ||J||_inf = 15 c + |c - d| = 500.5.
// y(t) = e^(-t/2) (y0 + H y0 / 4) / 2 + e^(-200.5 t) (y0 - H y0 / 4) / 2.
class Hadamard : public OdeSystem {
 public:
  static constexpr int kN = 16;
  static constexpr double kC = 25, kD = 100.5;
  static double H(int i, int j) { return std::popcount(static_cast<unsigned>(i & j)) % 2 == 0 ? 1.0 : -1.0; }
  static double J(int i, int j) { return kC * H(i, j) - (i == j ? kD : 0.0); }
  int num_states() const override { return kN; }
  int Rhs(double, const double* y, double* f) override {
    for (int i = 0; i < kN; ++i) {
      f[i] = 0;
      for (int j = 0; j < kN; ++j) f[i] += J(i, j) * y[j];
    }
    return 0;
  }
  bool has_dense_jacobian() const override { return true; }
  int DenseJacobian(double, const double*, double* jac) override {
    for (int j = 0; j < kN; ++j) {
      for (int i = 0; i < kN; ++i) jac[i + j * kN] = J(i, j);  // column-major
    }
    return 0;
  }
  static std::vector<double> Exact(double t, const std::vector<double>& y0) {
    std::vector<double> y(kN);
    for (int i = 0; i < kN; ++i) {
      double hy = 0;
      for (int j = 0; j < kN; ++j) hy += H(i, j) * y0[j];
      y[i] = 0.5 * std::exp(-0.5 * t) * (y0[i] + hy / 4) + 0.5 * std::exp(-200.5 * t) * (y0[i] - hy / 4);
    }
    return y;
  }
};

TEST(OdeIntegratorTest, AutoIteratesWhenTheNormBoundAloneWouldCallTheSegmentStiff) {
  // The segment choice first tries the bound sqrt(||J||_1 ||J||_inf), which
  // is at least the spectral radius, and iterates only when the bound does
  // not settle it. After the restart at 1 the segment is 3 long: the bound
  // (500.5 x 3 > 1000) would call it stiff, the spectral radius (200.5 x 3
  // <= 1000) does not. The power iteration must run and choose the explicit
  // method; returning the bound would choose Adams.
  SundialsContext ctx;
  Hadamard sys;
  std::vector<double> y0(Hadamard::kN);
  for (int i = 0; i < Hadamard::kN; ++i) y0[i] = 1.0 + 0.1 * i;
  IntegratorOptions opt = WithTolerances(1e-10, 1e-12);
  opt.end_time = 4.0;
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, opt);
  ASSERT_TRUE(integ.ok());
  ASSERT_TRUE((*integ)->Advance(1.0, 1.0).ok());
  ASSERT_TRUE((*integ)->Reinit(1.0, Hadamard::Exact(1.0, y0)).ok());
  ASSERT_TRUE((*integ)->Advance(4.0, INFINITY).ok());
  EXPECT_EQ((*integ)->stats().rk_segments, 2);
  const std::vector<double> want = Hadamard::Exact(4.0, y0);
  for (int i = 0; i < Hadamard::kN; ++i) {
    EXPECT_NEAR((*integ)->y()[i], want[i], 1e-12 + 1e-8 * std::abs(want[i])) << i;
  }
}

// y' = -lambda(t) (y - cos t) - sin t (y = cos t for every lambda) with
// lambda = 1 until t = 1.5 and 1e6 after: mild at a restart at 1, stiff
// soon after.
class SuddenlyStiff : public OdeSystem {
 public:
  int num_states() const override { return 1; }
  static double Lambda(double t) { return t < 1.5 ? 1.0 : 1e6; }
  int Rhs(double t, const double* y, double* f) override {
    f[0] = -Lambda(t) * (y[0] - std::cos(t)) - std::sin(t);
    return 0;
  }
  bool has_dense_jacobian() const override { return true; }
  int DenseJacobian(double t, const double*, double* jac) override { jac[0] = -Lambda(t); return 0; }
};

TEST(OdeIntegratorTest, AutoHandsAnExplicitSegmentThatTurnsStiffBackToAdams) {
  // At the restart rho = 1 and the stop is 9 ahead, so the segment starts
  // with the explicit method (as did the first one, to 1); from t = 1.5 its
  // steps are held to ~3e-6 and it runs out of its step budget, and the
  // segment goes back to Adams (then BDF) from its last step. The answer
  // stays cos t.
  SundialsContext ctx;
  SuddenlyStiff sys;
  std::vector<double> y0 = {1.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, WithTolerances(1e-8, 1e-10));
  ASSERT_TRUE(integ.ok());
  ASSERT_TRUE((*integ)->Advance(1.0, 1.0).ok());
  std::vector<double> y1 = {std::cos(1.0)};
  ASSERT_TRUE((*integ)->Reinit(1.0, y1).ok());
  for (int k = 1; k <= 9; ++k) {
    auto stop = (*integ)->Advance(1.0 + k, 10.0);
    ASSERT_TRUE(stop.ok()) << "t = " << 1.0 + k << ": " << stop.status().ToString();
    EXPECT_NEAR((*integ)->y()[0], std::cos(1.0 + k), 1e-6) << "t = " << 1.0 + k;
  }
  const IntegratorStats st = (*integ)->stats();
  EXPECT_EQ(st.rk_segments, 2);
  EXPECT_EQ(st.rk_fallbacks, 1);
  EXPECT_GE(st.method_switches, 1);  // Adams found the stiffness and went on with BDF
}

TEST(OdeIntegratorTest, CountersAddUpAcrossRestarts) {
  // CVodeReInit zeroes CVODES' own counters; the summary must still cover
  // every segment (the benchmark tables compare them with SciPy's totals).
  SundialsContext ctx;
  StiffCosine sys;
  std::vector<double> y0 = {1.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, WithTolerances(1e-8, 1e-10));
  ASSERT_TRUE(integ.ok());
  ASSERT_TRUE((*integ)->Advance(1.0, 1.0).ok());
  const IntegratorStats first = (*integ)->stats();
  ASSERT_GT(first.steps, 0);
  std::vector<double> y1 = {std::cos(1.0)};
  ASSERT_TRUE((*integ)->Reinit(1.0, y1).ok());
  ASSERT_TRUE((*integ)->Advance(2.0, 2.0).ok());
  const IntegratorStats both = (*integ)->stats();
  // The second segment restarts from order 1 with a small step, so it needs
  // steps and evaluations of its own on top of the first segment's.
  EXPECT_GT(both.steps, first.steps + 5);
  EXPECT_GT(both.rhs_evaluations, first.rhs_evaluations + 5);
  EXPECT_GE(both.jacobian_evaluations, first.jacobian_evaluations);
  EXPECT_GE(both.linear_solver_setups, first.linear_solver_setups);
}

TEST(OdeIntegratorTest, AutoCountsAdamsStepsAgainstMaxSteps) {
  SundialsContext ctx;
  Oscillator sys;
  IntegratorOptions opt = WithTolerances(1e-10, 1e-12);
  opt.max_steps = 50;  // the stiffness checks return every 40 steps
  std::vector<double> y0 = {1.0, 0.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, opt);
  ASSERT_TRUE(integ.ok());
  auto stop = (*integ)->Advance(1000.0, 1000.0);
  ASSERT_FALSE(stop.ok());
  EXPECT_NE(stop.status().message().find("CV_TOO_MUCH_WORK"), std::string::npos) << stop.status().ToString();
}

TEST(OdeIntegratorTest, AutoWithSensitivitiesRunsBdf) {
  // d y / d y0 of y' = -k y: s' = -k s.
  class DecayWithSensitivity : public Decay {
   public:
    DecayWithSensitivity() : Decay(0.7) {}
    int SensitivityRhs(double, const double*, const double*, int, const double* const* s,
                       double* const* sdot) override {
      sdot[0][0] = -0.7 * s[0][0];
      return 0;
    }
  };
  SundialsContext ctx;
  DecayWithSensitivity sys;
  IntegratorOptions opt;  // kAuto by default
  ASSERT_EQ(opt.method, OdeMethod::kAuto);
  std::vector<double> y0 = {1.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, opt);
  ASSERT_TRUE(integ.ok());
  std::vector<double> s0 = {1.0};  // d y / d y0
  ASSERT_TRUE((*integ)->EnableSensitivities(1, s0, SensitivityOptions{}).ok());
  EXPECT_EQ((*integ)->stats().method_switches, 1);
  EXPECT_EQ((*integ)->stats().bdf_from, 0.0);
  // And stays BDF across a restart.
  ASSERT_TRUE((*integ)->Reinit(0.0, y0).ok());
  ASSERT_TRUE((*integ)->ReinitSensitivities(s0).ok());
  auto stop = (*integ)->Advance(0.5, 0.5);  // before the root at ln 2 / 0.7
  ASSERT_TRUE(stop.ok()) << stop.status().ToString();
  EXPECT_EQ((*integ)->stats().method_switches, 1);
  EXPECT_GT((*integ)->stats().jacobian_evaluations, 0);
  std::vector<double> s(1);
  ASSERT_TRUE((*integ)->GetSensitivities(s).ok());
  EXPECT_NEAR(s[0], std::exp(-0.35), 1e-5);
}

TEST(OdeIntegratorTest, RejectsBadOptionsNamingTheField) {
  IntegratorOptions opt;
  opt.rel_tol = -1;
  Status s = opt.Validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("IntegratorOptions::rel_tol"), std::string::npos);
  opt = IntegratorOptions{};
  opt.stiffness_check_steps = 0;
  s = opt.Validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("IntegratorOptions::stiffness_check_steps"), std::string::npos);
  opt = IntegratorOptions{};
  opt.end_time = std::nan("");
  s = opt.Validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("IntegratorOptions::end_time"), std::string::npos);
}

// y' = -k y with sensitivities to k and to y0: s_k = -t y0 exp(-k t),
// s_y0 = exp(-k t).
class DecayWithSensitivities : public Decay {
 public:
  explicit DecayWithSensitivities(double k) : Decay(k), k_(k) {}
  int num_roots() const override { return 0; }
  int SensitivityRhs(double, const double* y, const double*, int ns, const double* const* s,
                     double* const* sdot) override {
    sdot[0][0] = -k_ * s[0][0] - y[0];  // d/dk
    sdot[1][0] = -k_ * s[1][0];         // d/dy0
    return ns == 2 ? 0 : -1;
  }

 private:
  double k_;
};

TEST(OdeIntegratorTest, ForwardSensitivitiesMatchAnalyticDerivatives) {
  for (SensitivityMethod method : {SensitivityMethod::kStaggered, SensitivityMethod::kSimultaneous}) {
    SundialsContext ctx;
    DecayWithSensitivities sys(0.7);
    IntegratorOptions opt;
    opt.rel_tol = 1e-10;
    opt.abs_tol = 1e-14;
    std::vector<double> y0 = {2.0}, s0 = {0.0, 1.0};
    auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, opt);
    ASSERT_TRUE(integ.ok());
    SensitivityOptions so;
    so.method = method;
    ASSERT_TRUE((*integ)->EnableSensitivities(2, s0, so).ok());
    std::vector<double> s(2);
    ASSERT_TRUE((*integ)->GetSensitivities(s).ok());
    EXPECT_EQ(s[1], 1.0);
    for (int k = 1; k <= 4; ++k) {
      const double t = 0.5 * k;
      ASSERT_TRUE((*integ)->Advance(t, INFINITY).ok());
      ASSERT_TRUE((*integ)->GetSensitivities(s).ok());
      const double e = std::exp(-0.7 * t);
      // |x - ref| <= 1e-12 + 1e-7 |ref|.
      EXPECT_LE(std::abs(s[0] - (-t * 2.0 * e)), 1e-12 + 1e-7 * t * 2.0 * e) << "t = " << t;
      EXPECT_LE(std::abs(s[1] - e), 1e-12 + 1e-7 * e) << "t = " << t;
    }
    // A restart with new sensitivities continues from them.
    std::vector<double> y = {(*integ)->y()[0]};
    ASSERT_TRUE((*integ)->Reinit(2.0, y).ok());
    std::vector<double> s_new = {0.0, 0.0};
    ASSERT_TRUE((*integ)->ReinitSensitivities(s_new).ok());
    ASSERT_TRUE((*integ)->Advance(3.0, INFINITY).ok());
    ASSERT_TRUE((*integ)->GetSensitivities(s).ok());
    // s_k restarted from 0 at t = 2: -(t - 2) y(2) exp(-k (t - 2)) = -y(3).
    const double y3 = 2.0 * std::exp(-0.7 * 3.0);
    EXPECT_LE(std::abs(s[0] - (-y3)), 1e-12 + 1e-7 * y3);
    EXPECT_EQ(s[1], 0.0);
    EXPECT_GT((*integ)->sensitivity_rhs_evaluations(), 0);
  }
}

TEST(OdeIntegratorTest, SensitivityOptionsNameTheField) {
  SensitivityOptions so;
  so.scales = {1.0, -2.0};
  Status s = so.Validate(2);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("SensitivityOptions::scales[1]"), std::string::npos) << s.message();
}

// --- Explicit Runge-Kutta (OdeMethod::kRungeKutta, Dormand-Prince 5(4), runge_kutta.h) ---

IntegratorOptions RungeKutta(double rel, double abs) {
  IntegratorOptions o;
  o.method = OdeMethod::kRungeKutta;
  o.rel_tol = rel;
  o.abs_tol = abs;
  return o;
}

TEST(OdeIntegratorTest, RungeKuttaFindsRootsAndInterpolatesOutputs) {
  // The same checks as for CVODES: the root y = 0.5 at ln 2 / 0.7, outputs
  // every 0.1 (interpolated) and the stop time 2.5 landed on, all against
  // exp(-0.7 t) with |y - exact| <= 1e-12 + 1e-8 |exact| at rel_tol 1e-10.
  SundialsContext ctx;
  Decay sys(0.7);
  std::vector<double> y0 = {1.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, RungeKutta(1e-10, 1e-14));
  ASSERT_TRUE(integ.ok()) << integ.status().ToString();
  bool root_seen = false;
  for (int k = 1; k <= 25; ++k) {
    const double target = 0.1 * k;
    auto stop = (*integ)->Advance(target, 2.5);
    ASSERT_TRUE(stop.ok()) << stop.status().ToString();
    if (*stop == OdeIntegrator::Stop::kRoot) {
      root_seen = true;
      EXPECT_NEAR((*integ)->t(), std::log(2.0) / 0.7, 1e-8);
      EXPECT_EQ((*integ)->roots_found()[0], -1);
      stop = (*integ)->Advance(target, 2.5);
      ASSERT_TRUE(stop.ok());
    }
    ASSERT_EQ(*stop, OdeIntegrator::Stop::kReachedTime);
    EXPECT_DOUBLE_EQ((*integ)->t(), target);
    const double exact = std::exp(-0.7 * target);
    EXPECT_LE(std::abs((*integ)->y()[0] - exact), 1e-12 + 1e-8 * exact) << "t = " << target;
  }
  EXPECT_TRUE(root_seen);
  const IntegratorStats st = (*integ)->stats();
  EXPECT_EQ(st.method, OdeMethod::kRungeKutta);
  EXPECT_GT(st.steps, 0);
  // Dormand-Prince: six new stages per accepted step (first same as last),
  // plus rejected steps and the interpolant's extra evaluations.
  EXPECT_GE(st.rhs_evaluations, 6 * st.steps);
  EXPECT_EQ(st.jacobian_evaluations, 0);
  EXPECT_GT(st.root_evaluations, 0);
}

TEST(OdeIntegratorTest, RungeKuttaOutputTimesCostNoRightHandSides) {
  // The oscillator over [0, 10] with 1 and with 2000 output times: the
  // outputs come from the pair's continuous extension (from the step's own
  // stages), so the steps and right-hand sides are the same but for a step
  // (ARKODE's degree 4 interpolant, used before, cost one more right-hand
  // side per output here: 1986 more).
  // Every output within 1e-8 of cos t at rel_tol 1e-10.
  IntegratorStats few;
  for (int outputs : {1, 2000}) {
    SundialsContext ctx;
    Oscillator sys;
    std::vector<double> y0 = {1.0, 0.0};
    auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, RungeKutta(1e-10, 1e-12));
    ASSERT_TRUE(integ.ok()) << integ.status().ToString();
    double worst = 0;
    for (int k = 1; k <= outputs; ++k) {
      const double target = 10.0 * k / outputs;
      ASSERT_TRUE((*integ)->Advance(target, INFINITY).ok());
      worst = std::max(worst, std::abs((*integ)->y()[0] - std::cos(target)));
    }
    EXPECT_LE(worst, 1e-8) << outputs << " outputs";
    const IntegratorStats st = (*integ)->stats();
    if (outputs == 1) {
      few = st;
      continue;
    }
    EXPECT_LE(st.steps, few.steps + 2) << "1 output: " << few.steps;
    EXPECT_LE(st.rhs_evaluations, few.rhs_evaluations + 20) << "1 output: " << few.rhs_evaluations;
  }
}

TEST(OdeIntegratorTest, RungeKuttaRestartsAndCountsAcrossRestarts) {
  SundialsContext ctx;
  Decay sys(0.7);
  std::vector<double> y0 = {1.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, RungeKutta(1e-9, 1e-12));
  ASSERT_TRUE(integ.ok());
  ASSERT_TRUE((*integ)->Advance(0.5, 0.5).ok());
  const IntegratorStats first = (*integ)->stats();
  // A jump to 3 at t = 0.5 (an event): y = 3 exp(-0.7 (t - 0.5)) afterwards.
  std::vector<double> y1 = {3.0};
  ASSERT_TRUE((*integ)->Reinit(0.5, y1).ok());
  auto stop = (*integ)->Advance(2.0, 2.0);
  ASSERT_TRUE(stop.ok()) << stop.status().ToString();
  ASSERT_EQ(*stop, OdeIntegrator::Stop::kReachedTime);  // y stays above 0.5
  const double exact = 3.0 * std::exp(-0.7 * 1.5);
  EXPECT_LE(std::abs((*integ)->y()[0] - exact), 1e-11 + 1e-7 * exact);
  const IntegratorStats both = (*integ)->stats();
  EXPECT_GT(both.steps, first.steps);
  EXPECT_GT(both.rhs_evaluations, first.rhs_evaluations);
}

// The oscillator from 0 to 10 restarted every 0.5 (each a Reinit with the
// exact state, as after an event that changes nothing), against the same
// run without restarts. Returns the restarted run's stats; the state at 10
// is checked against cos/-sin, 1e-12 + 1e-8 |exact|.
IntegratorStats RestartEveryHalf(IntegratorOptions opt) {
  SundialsContext ctx;
  Oscillator sys;
  std::vector<double> y0 = {1.0, 0.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, opt);
  EXPECT_TRUE(integ.ok());
  if (!integ.ok()) return {};
  for (int k = 1; k <= 20; ++k) {
    const double t = 0.5 * k;
    auto stop = (*integ)->Advance(t, t);
    EXPECT_TRUE(stop.ok()) << "t = " << t << ": " << stop.status().ToString();
    if (!stop.ok()) return {};
    std::vector<double> y = {(*integ)->y()[0], (*integ)->y()[1]};
    if (k < 20) {
      EXPECT_TRUE((*integ)->Reinit(t, y).ok());
    }
  }
  for (int i = 0; i < 2; ++i) {
    const double exact = i == 0 ? std::cos(10.0) : -std::sin(10.0);
    EXPECT_LE(std::abs((*integ)->y()[i] - exact), 1e-12 + 1e-8 * std::abs(exact)) << i;
  }
  return (*integ)->stats();
}

TEST(OdeIntegratorTest, RungeKuttaStartsEachSegmentWithTheStepItHadReached) {
  // A one-step method loses nothing at a restart but its step size: with the
  // step carried over, each of the 19 restarts costs about one step (the
  // step cut to land on the stop); a first-step estimate starts far smaller
  // and climbs back over several steps each time. Measured: 338 steps
  // uninterrupted, 356 restarted with the step carried over (with ARKODE's
  // ERKStep, before: 322, 335, and 429 without carrying the step).
  Oscillator oscillator;
  std::vector<double> y_end;
  const IntegratorStats single = RunTo(oscillator, {1.0, 0.0}, 10.0, RungeKutta(1e-10, 1e-12), &y_end);
  const IntegratorStats restarted = RestartEveryHalf(RungeKutta(1e-10, 1e-12));
  EXPECT_LE(restarted.steps, single.steps + 19);
  // kAuto runs each such segment with the explicit method (rho * 0.5 <= 1000),
  // the first one included, and carries the step from one explicit segment
  // to the next the same way.
  const IntegratorStats automatic = RestartEveryHalf(WithTolerances(1e-10, 1e-12));
  EXPECT_EQ(automatic.rk_segments, 20);
  EXPECT_LE(automatic.steps, restarted.steps + 2);
}

// y' = 0 with a root where t - reset = 0.01, reset set to the root's time
// at each restart (SBML suite 00952's clock, at the integrator's level).
class Ticker : public OdeSystem {
 public:
  int num_states() const override { return 1; }
  int Rhs(double, const double*, double* ydot) override { ydot[0] = 0; return 0; }
  int num_roots() const override { return 1; }
  int Roots(double t, const double*, double* g) override { g[0] = t - reset - 0.01; return 0; }
  double reset = 0;
};

TEST(OdeIntegratorTest, RungeKuttaCarriesAtMostTheLastSegmentsLengthAcrossRestarts) {
  // The error estimate is 0, so the controller grows the step without bound;
  // carried over unchecked from restart to restart it grew 10-fold at every
  // output, and the root tolerance, proportional to the step, put the
  // 30th root 2e-11 late (in suite case 00952, the 60th 2e-5). With the
  // carried step capped by the segment's length every root is in place.
  SundialsContext ctx;
  Ticker sys;
  std::vector<double> y0 = {1.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, RungeKutta(1e-7, 1e-9));
  ASSERT_TRUE(integ.ok());
  // Outputs every 0.1 between the roots; no scheduled stop bounds the step.
  int roots = 0;
  for (int out = 1; out <= 10;) {
    auto stop = (*integ)->Advance(0.1 * out, INFINITY);
    ASSERT_TRUE(stop.ok()) << stop.status().ToString();
    if (*stop == OdeIntegrator::Stop::kReachedTime) {
      ++out;
      continue;
    }
    ++roots;
    ASSERT_NEAR((*integ)->t(), 0.01 * roots, 1e-12) << "root " << roots;
    sys.reset = (*integ)->t();
    ASSERT_TRUE((*integ)->Reinit(sys.reset, y0).ok());
  }
  EXPECT_GE(roots, 99);
}

// y' = -y whose right-hand side reports a recoverable failure (as a
// non-finite value does in ModelSystem) for the `failures` calls after call
// `fail_from`: the stage's step is rejected and tried again, smaller.
class FlakyDecay : public OdeSystem {
 public:
  FlakyDecay(long fail_from, long failures) : fail_from_(fail_from), failures_(failures) {}
  int num_states() const override { return 1; }
  int Rhs(double, const double* y, double* ydot) override {
    ++calls_;
    if (calls_ > fail_from_ && calls_ <= fail_from_ + failures_) return 1;
    ydot[0] = -y[0];
    return 0;
  }
  long calls() const { return calls_; }

 private:
  long fail_from_, failures_;
  long calls_ = 0;
};

TEST(OdeIntegratorTest, RungeKuttaRetriesAStepWhoseRightHandSideFailed) {
  SundialsContext ctx;
  FlakyDecay sys(/*fail_from=*/20, /*failures=*/1);
  std::vector<double> y0 = {1.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, RungeKutta(1e-10, 1e-14));
  ASSERT_TRUE(integ.ok());
  for (int k = 1; k <= 10; ++k) {
    auto stop = (*integ)->Advance(0.5 * k, INFINITY);
    ASSERT_TRUE(stop.ok()) << "t = " << 0.5 * k << ": " << stop.status().ToString();
    const double exact = std::exp(-0.5 * k);
    EXPECT_LE(std::abs((*integ)->y()[0] - exact), 1e-12 + 1e-8 * exact) << "t = " << 0.5 * k;
  }
  EXPECT_GT(sys.calls(), 21);  // the failure happened and the run went on
  // The counters cover every call, the failed one and the retry included.
  EXPECT_EQ((*integ)->stats().rhs_evaluations, sys.calls());
}

// y' = -y whose right-hand side fails on every `period`-th call: isolated
// failures all along one long output interval.
class PeriodicallyFailingDecay : public OdeSystem {
 public:
  explicit PeriodicallyFailingDecay(long period) : period_(period) {}
  int num_states() const override { return 1; }
  int Rhs(double, const double* y, double* ydot) override {
    if (++calls_ % period_ == 0) {
      ++failures_;
      return 1;
    }
    ydot[0] = -y[0];
    return 0;
  }
  long failures() const { return failures_; }

 private:
  long period_, calls_ = 0, failures_ = 0;
};

// Failures count in a row at one step, not in one call: isolated failures
// all along a long output interval each cost one rejected step. (With
// ARKODE they were once counted per call, and each retry restarted at the
// call's start: 12 failures anywhere in one output interval ended the run.)
TEST(OdeIntegratorTest, RungeKuttaRetriesFailuresAllAlongOneLongInterval) {
  SundialsContext ctx;
  PeriodicallyFailingDecay sys(/*period=*/37);
  std::vector<double> y0 = {1.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, RungeKutta(1e-10, 1e-14));
  ASSERT_TRUE(integ.ok());
  auto stop = (*integ)->Advance(10.0, INFINITY);
  ASSERT_TRUE(stop.ok()) << stop.status().ToString();
  EXPECT_GT(sys.failures(), 20);
  const double exact = std::exp(-10.0);
  EXPECT_LE(std::abs((*integ)->y()[0] - exact), 1e-12 + 1e-7 * exact);
}

TEST(OdeIntegratorTest, RungeKuttaGivesUpOnARightHandSideThatKeepsFailing) {
  SundialsContext ctx;
  FlakyDecay sys(/*fail_from=*/20, /*failures=*/1000000);
  std::vector<double> y0 = {1.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, RungeKutta(1e-10, 1e-14));
  ASSERT_TRUE(integ.ok());
  Status s = Status::Ok();
  for (int k = 1; k <= 10 && s.ok(); ++k) s = (*integ)->Advance(0.5 * k, INFINITY).status();
  ASSERT_EQ(s.code(), ErrorCode::kSolverFailure);
  // Ten failures in a row end the run, naming the right-hand side.
  EXPECT_NE(s.message().find("right-hand side"), std::string::npos) << s.message();
  EXPECT_LE(sys.calls(), 20 + 200);  // a bounded number of retries
}

TEST(OdeIntegratorTest, RungeKuttaOnAStiffProblemSaysToUseBdf) {
  SundialsContext ctx;
  StiffCosine sys;
  std::vector<double> y0 = {1.0};
  IntegratorOptions o = RungeKutta(1e-6, 1e-9);
  o.max_steps = 2000;  // h < ~3e-5 by stability: 1 time unit needs ~3e4 steps
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, o);
  ASSERT_TRUE(integ.ok());
  Status s = (*integ)->Advance(1.0, 1.0).status();
  ASSERT_EQ(s.code(), ErrorCode::kSolverFailure);
  EXPECT_NE(s.message().find("stiff"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("bdf"), std::string::npos) << s.message();
}

TEST(OdeIntegratorTest, RungeKuttaHasNoSensitivities) {
  SundialsContext ctx;
  Decay sys(0.7);
  std::vector<double> y0 = {1.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, RungeKutta(1e-8, 1e-12));
  ASSERT_TRUE(integ.ok());
  std::vector<double> s0 = {0.0};
  Status s = (*integ)->EnableSensitivities(1, s0, SensitivityOptions{});
  EXPECT_EQ(s.code(), ErrorCode::kUnsupported);
  EXPECT_NE(s.message().find("Runge-Kutta"), std::string::npos) << s.message();
}

// y' = -y (no root function) recording every step it is shown, as delay
// histories need.
class SteppedDecay : public Decay {
 public:
  SteppedDecay() : Decay(1.0) {}
  int num_roots() const override { return 0; }
  bool wants_steps() const override { return true; }
  void OnStep(double t, const double* y, const double* ydot) override {
    times.push_back(t);
    values.push_back(y[0]);
    slopes.push_back(ydot[0]);
  }
  std::vector<double> times, values, slopes;
};

TEST(OdeIntegratorTest, RungeKuttaShowsEveryStepToSystemsThatWantThem) {
  SundialsContext ctx;
  SteppedDecay sys;
  std::vector<double> y0 = {1.0};
  auto integ = OdeIntegrator::Create(ctx, &sys, 0.0, y0, RungeKutta(1e-9, 1e-12));
  ASSERT_TRUE(integ.ok());
  for (int k = 1; k <= 4; ++k) {
    auto stop = (*integ)->Advance(0.25 * k, 1.0);
    ASSERT_TRUE(stop.ok()) << stop.status().ToString();
    EXPECT_DOUBLE_EQ((*integ)->t(), 0.25 * k);
  }
  ASSERT_GE(sys.times.size(), 4u);
  EXPECT_EQ(static_cast<long>(sys.times.size()), (*integ)->stats().steps);
  for (size_t i = 0; i < sys.times.size(); ++i) {
    if (i > 0) {
      EXPECT_GT(sys.times[i], sys.times[i - 1]);
    }
    EXPECT_LE(sys.times[i], 1.0);  // never past the stop time
    const double exact = std::exp(-sys.times[i]);
    EXPECT_NEAR(sys.values[i], exact, 1e-8 * exact);
    EXPECT_NEAR(sys.slopes[i], -sys.values[i], 1e-12);  // y' = f(t, y) at the step's end
  }
}

}  // namespace
}  // namespace soma::solvers
