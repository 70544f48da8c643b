#include "solvers/nonlinear_solver.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace soma::solvers {
namespace {

// |x - ref| <= abs + rel |ref|, the SBML Test Suite's rule.
void ExpectClose(double x, double ref, double abs, double rel) {
  EXPECT_LE(std::abs(x - ref), abs + rel * std::abs(ref)) << "x = " << x << ", ref = " << ref;
}

// Circle x^2 + y^2 = 4 meets the line x = y at (sqrt 2, sqrt 2) and
// (-sqrt 2, -sqrt 2). Dense analytic Jacobian.
class CircleLine : public NonlinearSystem {
 public:
  int size() const override { return 2; }
  int Residual(const double* x, double* f) override {
    f[0] = x[0] * x[0] + x[1] * x[1] - 4.0;
    f[1] = x[0] - x[1];
    return 0;
  }
  bool has_dense_jacobian() const override { return true; }
  int DenseJacobian(const double* x, double* j) override {
    j[0] = 2 * x[0]; j[1] = 1.0;   // column 0
    j[2] = 2 * x[1]; j[3] = -1.0;  // column 1
    return 0;
  }
};

// Rosenbrock's function as a system: F = (10 (x1 - x0^2), 1 - x0), root (1, 1).
// From (-1.2, 1) full Newton steps overshoot; the line search keeps them useful.
class Rosenbrock : public NonlinearSystem {
 public:
  int size() const override { return 2; }
  int Residual(const double* x, double* f) override {
    f[0] = 10.0 * (x[1] - x[0] * x[0]);
    f[1] = 1.0 - x[0];
    return 0;
  }
};

// Discrete boundary value problem (Bratu-like, tridiagonal): F_i = 2 x_i -
// x_{i-1} - x_{i+1} + x_i^3 - b_i with x_{-1} = x_n = 0 and b chosen so that
// x*_i = sin(pi (i + 1) / (n + 1)) is the root. Sparse analytic Jacobian.
class Tridiagonal : public NonlinearSystem {
 public:
  explicit Tridiagonal(int n) : n_(n), b_(n) {
    const std::vector<double> x = Exact();
    for (int i = 0; i < n; ++i) ResidualOf(x.data(), &b_[i], i, 0.0);
    pattern_.column_starts.push_back(0);
    for (int j = 0; j < n; ++j) {
      for (int i = std::max(0, j - 1); i <= std::min(n - 1, j + 1); ++i) pattern_.row_indices.push_back(i);
      pattern_.column_starts.push_back(static_cast<int64_t>(pattern_.row_indices.size()));
    }
  }
  std::vector<double> Exact() const {
    std::vector<double> x(n_);
    for (int i = 0; i < n_; ++i) x[i] = std::sin(M_PI * (i + 1) / (n_ + 1));
    return x;
  }
  int size() const override { return n_; }
  int Residual(const double* x, double* f) override {
    for (int i = 0; i < n_; ++i) ResidualOf(x, &f[i], i, b_[i]);
    return 0;
  }
  const SparsePattern* sparse_pattern() const override { return &pattern_; }
  int SparseJacobian(const double* x, double* v) override {
    size_t k = 0;
    for (int j = 0; j < n_; ++j) {
      for (int i = std::max(0, j - 1); i <= std::min(n_ - 1, j + 1); ++i) {
        v[k++] = i == j ? 2.0 + 3.0 * x[j] * x[j] : -1.0;
      }
    }
    return 0;
  }

 private:
  void ResidualOf(const double* x, double* f, int i, double b) const {
    const double left = i > 0 ? x[i - 1] : 0.0, right = i + 1 < n_ ? x[i + 1] : 0.0;
    *f = 2 * x[i] - left - right + x[i] * x[i] * x[i] - b;
  }
  int n_;
  std::vector<double> b_;
  SparsePattern pattern_;
};

// Two parallel lines: x + y = 1 and 2 x + 2 y = 3 have no common point and
// the Jacobian is singular everywhere.
class Inconsistent : public NonlinearSystem {
 public:
  int size() const override { return 2; }
  int Residual(const double* x, double* f) override {
    f[0] = x[0] + x[1] - 1.0;
    f[1] = 2 * x[0] + 2 * x[1] - 3.0;
    return 0;
  }
  bool has_dense_jacobian() const override { return true; }
  int DenseJacobian(const double*, double* j) override {
    j[0] = 1; j[1] = 2; j[2] = 1; j[3] = 2;
    return 0;
  }
};

class AlwaysFails : public NonlinearSystem {
 public:
  int size() const override { return 1; }
  int Residual(const double*, double*) override { return -1; }
};

TEST(NonlinearSolverTest, DenseNewtonFindsTheRootNearTheStart) {
  SundialsContext ctx;
  CircleLine sys;
  auto solver = NonlinearSolver::Create(ctx, &sys, {});
  ASSERT_TRUE(solver.ok()) << solver.status().ToString();
  std::vector<double> x = {1.0, 0.5};
  auto s = (*solver)->Solve(x);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->converged) << s->BriefReport();
  ExpectClose(x[0], std::sqrt(2.0), 1e-12, 1e-10);
  ExpectClose(x[1], std::sqrt(2.0), 1e-12, 1e-10);
  EXPECT_LE(s->residual_max_norm, 1e-10);
  EXPECT_GT(s->iterations, 0);
  EXPECT_EQ(s->jacobian_evaluations, s->iterations);  // exact Newton by default
  // From the other side, the other root.
  std::vector<double> y = {-3.0, -1.0};
  auto s2 = (*solver)->Solve(y);
  ASSERT_TRUE(s2.ok());
  EXPECT_TRUE(s2->converged) << s2->BriefReport();
  ExpectClose(y[0], -std::sqrt(2.0), 1e-12, 1e-10);
  // Counters are per call.
  EXPECT_LT(s2->iterations, s->iterations + s2->iterations);
}

TEST(NonlinearSolverTest, DifferenceQuotientsAndLineSearchSolveRosenbrock) {
  SundialsContext ctx;
  Rosenbrock sys;
  NonlinearSolverOptions opt;
  opt.function_tol = 1e-12;
  auto solver = NonlinearSolver::Create(ctx, &sys, opt);
  ASSERT_TRUE(solver.ok()) << solver.status().ToString();
  std::vector<double> x = {-1.2, 1.0};
  auto s = (*solver)->Solve(x);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->converged) << s->BriefReport();
  ExpectClose(x[0], 1.0, 1e-10, 1e-10);
  ExpectClose(x[1], 1.0, 1e-10, 1e-10);
}

TEST(NonlinearSolverTest, SparseKluSolvesATridiagonalSystem) {
  SundialsContext ctx;
  Tridiagonal sys(60);
  NonlinearSolverOptions opt;
  opt.linear_solver = LinearSolverKind::kSparse;
  auto solver = NonlinearSolver::Create(ctx, &sys, opt);
  ASSERT_TRUE(solver.ok()) << solver.status().ToString();
  std::vector<double> x(60, 0.0);
  auto s = (*solver)->Solve(x);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->converged) << s->BriefReport();
  std::vector<double> exact = sys.Exact();
  for (size_t i = 0; i < x.size(); ++i) ExpectClose(x[i], exact[i], 1e-10, 1e-9);
}

TEST(NonlinearSolverTest, ScalesSetTheConvergenceTest) {
  // With f_scale = 1 / 1e-3 and function_tol = 1, |F_i| <= 1e-3 suffices:
  // a start that close is already accepted.
  SundialsContext ctx;
  CircleLine sys;
  NonlinearSolverOptions opt;
  opt.function_tol = 1.0;
  auto solver = NonlinearSolver::Create(ctx, &sys, opt);
  ASSERT_TRUE(solver.ok());
  const double r = std::sqrt(2.0);
  std::vector<double> x = {r + 1e-7, r};
  std::vector<double> fs = {1e3, 1e3};
  auto s = (*solver)->Solve(x, {}, fs);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->converged) << s->BriefReport();
  EXPECT_EQ(s->iterations, 0) << s->BriefReport();
}

TEST(NonlinearSolverTest, SingularJacobianIsAnOutcomeNotAnError) {
  SundialsContext ctx;
  Inconsistent sys;
  auto solver = NonlinearSolver::Create(ctx, &sys, {});
  ASSERT_TRUE(solver.ok());
  std::vector<double> x = {0.0, 0.0};
  auto s = (*solver)->Solve(x);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE(s->converged);
  EXPECT_LT(s->flag, 0) << s->BriefReport();
  EXPECT_NE(s->termination.find("KIN_"), std::string::npos) << s->termination;
  EXPECT_NE(s->BriefReport().find("did not converge"), std::string::npos);
}

TEST(NonlinearSolverTest, FailingResidualIsReported) {
  SundialsContext ctx;
  AlwaysFails sys;
  auto solver = NonlinearSolver::Create(ctx, &sys, {});
  ASSERT_TRUE(solver.ok());
  std::vector<double> x = {1.0};
  auto s = (*solver)->Solve(x);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE(s->converged);
  EXPECT_NE(s->termination.find("SYSFUNC"), std::string::npos) << s->termination;
}

TEST(NonlinearSolverTest, BadOptionsAndInputsNameTheField) {
  SundialsContext ctx;
  CircleLine sys;
  NonlinearSolverOptions opt;
  opt.function_tol = -1;
  auto bad = NonlinearSolver::Create(ctx, &sys, opt);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("NonlinearSolverOptions::function_tol"), std::string::npos);
  NonlinearSolverOptions sparse;
  sparse.linear_solver = LinearSolverKind::kSparse;
  auto no_pattern = NonlinearSolver::Create(ctx, &sys, sparse);
  ASSERT_FALSE(no_pattern.ok());
  EXPECT_NE(no_pattern.status().message().find("linear_solver"), std::string::npos);

  auto solver = NonlinearSolver::Create(ctx, &sys, {});
  ASSERT_TRUE(solver.ok());
  std::vector<double> x = {1.0, 1.0};
  std::vector<double> zero_scale = {1.0, 0.0};
  auto s = (*solver)->Solve(x, zero_scale);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("x_scale[1]"), std::string::npos) << s.status().ToString();
  std::vector<double> short_x = {1.0};
  EXPECT_FALSE((*solver)->Solve(short_x).ok());
}

TEST(SundialsTest, KinsolFlagsHaveTheirOwnNames) {
  // -5 is CV_LINIT_FAIL in CVODES' table but a line search failure in KINSOL's.
  Status s = CheckFlag(-5, "KINSol", SundialsPackage::kKinsol);
  EXPECT_NE(s.message().find("KIN_LINESEARCH_NONCONV"), std::string::npos) << s.message();
  EXPECT_TRUE(CheckFlag(2, "KINSol", SundialsPackage::kKinsol).ok());
}

}  // namespace
}  // namespace soma::solvers
