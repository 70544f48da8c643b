#include "solvers/sparse_lu.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace soma::solvers {
namespace {

// A random n x n CSC matrix with a full diagonal, `per_column` further
// entries per column and an optional dense last row and column (which makes
// the trailing block of L + U dense).
struct Csc {
  sunindextype n = 0;
  std::vector<sunindextype> ap, ai;
  std::vector<double> ax;
};

Csc RandomMatrix(sunindextype n, int per_column, bool arrow, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<sunindextype> row(0, n - 1);
  std::uniform_real_distribution<double> value(-1.0, 1.0);
  Csc m;
  m.n = n;
  m.ap.push_back(0);
  for (sunindextype j = 0; j < n; ++j) {
    std::vector<bool> used(static_cast<size_t>(n), false);
    used[j] = true;
    for (int k = 0; k < per_column; ++k) used[row(rng)] = true;
    if (arrow) used[n - 1] = true;
    if (arrow && j == n - 1) used.assign(static_cast<size_t>(n), true);
    for (sunindextype i = 0; i < n; ++i) {
      if (!used[i]) continue;
      m.ai.push_back(i);
      m.ax.push_back(i == j ? 4.0 + value(rng) : value(rng));
    }
    m.ap.push_back(static_cast<sunindextype>(m.ai.size()));
  }
  return m;
}

std::vector<double> Multiply(const Csc& m, const std::vector<double>& x) {
  std::vector<double> b(x.size(), 0.0);
  for (sunindextype j = 0; j < m.n; ++j) {
    for (sunindextype p = m.ap[j]; p < m.ap[j + 1]; ++p) b[m.ai[p]] += m.ax[p] * x[j];
  }
  return b;
}

void ExpectSolves(SparseLu& lu, const Csc& m, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> value(-2.0, 2.0);
  std::vector<double> x(static_cast<size_t>(m.n));
  for (double& v : x) v = value(rng);
  std::vector<double> b = Multiply(m, x);
  lu.Solve(b.data());
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_NEAR(b[i], x[i], 1e-10 * (1.0 + std::abs(x[i]))) << "i = " << i;
}

TEST(SparseLuTest, FactorAndRefactorSolveRandomSystems) {
  for (bool arrow : {false, true}) {
    for (sunindextype n : {1, 2, 7, 40, 150}) {
      Csc m = RandomMatrix(n, 3, arrow, static_cast<uint64_t>(n));
      SparseLu lu;
      ASSERT_TRUE(lu.Factor(m.n, m.ap.data(), m.ai.data(), m.ax.data())) << "n = " << n;
      ExpectSolves(lu, m, 1);
      // New values, same pattern: the pivot order of the first factorisation.
      for (size_t p = 0; p < m.ax.size(); ++p) m.ax[p] *= 1.0 + 0.1 * std::sin(static_cast<double>(p));
      ASSERT_TRUE(lu.Refactor(m.n, m.ap.data(), m.ai.data(), m.ax.data())) << "n = " << n;
      ExpectSolves(lu, m, 2);
    }
  }
}

TEST(SparseLuTest, RefactorRefusesAChangedPatternOrAZeroPivot) {
  Csc m = RandomMatrix(20, 2, true, 7);
  SparseLu lu;
  EXPECT_FALSE(lu.Refactor(m.n, m.ap.data(), m.ai.data(), m.ax.data()));  // nothing factored yet
  ASSERT_TRUE(lu.Factor(m.n, m.ap.data(), m.ai.data(), m.ax.data()));
  Csc other = RandomMatrix(20, 2, true, 8);
  EXPECT_FALSE(lu.Refactor(other.n, other.ap.data(), other.ai.data(), other.ax.data()));
  // A zero column: singular with any pivots.
  Csc singular = m;
  for (sunindextype p = singular.ap[3]; p < singular.ap[4]; ++p) singular.ax[p] = 0.0;
  EXPECT_FALSE(lu.Refactor(singular.n, singular.ap.data(), singular.ai.data(), singular.ax.data()));
  EXPECT_FALSE(lu.factored());
  EXPECT_FALSE(lu.Factor(singular.n, singular.ap.data(), singular.ai.data(), singular.ax.data()));
  // And back to a regular matrix with the same pattern.
  ASSERT_TRUE(lu.Factor(m.n, m.ap.data(), m.ai.data(), m.ax.data()));
  ExpectSolves(lu, m, 3);
}

}  // namespace
}  // namespace soma::solvers
