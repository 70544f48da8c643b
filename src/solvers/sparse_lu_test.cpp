#include "solvers/sparse_lu.h"

#include "solvers/dense_block.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
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

// The one-column-at-a-time loops that the blocked dense kernels must match
// bit for bit.
bool ReferenceDenseLu(double* a, uint32_t m, double* diag) {
  for (uint32_t c = 0; c < m; ++c) {
    double* col_c = a + static_cast<size_t>(c) * m;
    const double d = col_c[c];
    diag[c] = d;
    if (!(d != 0.0 && std::isfinite(d))) return false;
    for (uint32_t i = c + 1; i < m; ++i) col_c[i] /= d;
    for (uint32_t j = c + 1; j < m; ++j) {
      double* col_j = a + static_cast<size_t>(j) * m;
      const double u = col_j[c];
      if (u == 0.0) continue;
      for (uint32_t i = c + 1; i < m; ++i) col_j[i] -= col_c[i] * u;
    }
  }
  return true;
}

void ReferenceLowerSolve(const double* a, uint32_t m, double* z) {
  for (uint32_t c = 0; c < m; ++c) {
    const double* col = a + static_cast<size_t>(c) * m;
    const double zc = z[c];
    if (zc == 0.0) continue;
    for (uint32_t i = c + 1; i < m; ++i) z[i] -= col[i] * zc;
  }
}

void ReferenceUpperSolve(const double* a, uint32_t m, double* z) {
  for (uint32_t c = m; c-- > 0;) {
    const double* col = a + static_cast<size_t>(c) * m;
    const double zc = z[c] / col[c];
    z[c] = zc;
    if (zc == 0.0) continue;
    for (uint32_t i = 0; i < c; ++i) z[i] -= col[i] * zc;
  }
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

TEST(DenseBlockTest, BlockedKernelsAreBitIdenticalToOneColumnLoops) {
  // Sizes around the block widths (1, 2, 4) and larger; entries zero with
  // probability 0, 0.3 or 0.7 so that the zero-multiplier paths are taken,
  // and right-hand sides with zeros.
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> value(-1.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (uint32_t m : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u, 9u, 13u, 50u, 121u}) {
    for (double zeros : {0.0, 0.3, 0.7}) {
      SCOPED_TRACE("m = " + std::to_string(m) + ", zeros = " + std::to_string(zeros));
      std::vector<double> a(static_cast<size_t>(m) * m);
      for (uint32_t j = 0; j < m; ++j) {
        for (uint32_t i = 0; i < m; ++i) {
          double& x = a[i + static_cast<size_t>(j) * m];
          x = i == j ? 3.0 + value(rng) : (unit(rng) < zeros ? 0.0 : value(rng));
        }
      }
      std::vector<double> blocked = a, reference = a;
      std::vector<double> diag_b(m), diag_r(m);
      ASSERT_TRUE(internal::DenseLu(blocked.data(), m, diag_b.data()));
      ASSERT_TRUE(ReferenceDenseLu(reference.data(), m, diag_r.data()));
      EXPECT_TRUE(SameBits(blocked, reference));
      EXPECT_TRUE(SameBits(diag_b, diag_r));
      std::vector<double> z(m);
      for (double& v : z) v = unit(rng) < zeros ? 0.0 : value(rng);
      std::vector<double> zb = z, zr = z;
      internal::DenseLowerSolve(reference.data(), m, zb.data());
      ReferenceLowerSolve(reference.data(), m, zr.data());
      EXPECT_TRUE(SameBits(zb, zr));
      internal::DenseUpperSolve(reference.data(), m, zb.data());
      ReferenceUpperSolve(reference.data(), m, zr.data());
      EXPECT_TRUE(SameBits(zb, zr));
      // And it solves the system: A z = the right-hand side, to rounding.
      for (uint32_t i = 0; i < m; ++i) {
        double sum = 0.0;
        for (uint32_t j = 0; j < m; ++j) sum += a[i + static_cast<size_t>(j) * m] * zb[j];
        EXPECT_NEAR(sum, z[i], 1e-9 * (1.0 + std::abs(z[i]))) << "row " << i;
      }
    }
  }
  // A zero pivot is refused by both.
  std::vector<double> singular = {0.0, 1.0, 1.0, 1.0};
  std::vector<double> diag(2);
  EXPECT_FALSE(internal::DenseLu(singular.data(), 2, diag.data()));
}

}  // namespace
}  // namespace soma::solvers
