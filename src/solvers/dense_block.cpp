#include "solvers/dense_block.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "solvers/vector_clones.h"

namespace soma::solvers {

namespace internal {

// Right-looking LU without pivoting of the m x m column-major block `a` (L
// unit lower, below the diagonal; U on and above), two pivot columns per
// pass over the trailing columns: each entry a_ij is updated as
// (a_ij - l_ic u_cj) - l_i,c+1 u_c+1,j, exactly the operations, in the same
// order, of one column at a time (so the same bits), with half the loads
// and stores of a_ij. Updates with a zero multiplier are skipped, as in the
// one-column form. (Panels of four measured slower on bench/ models: more
// instructions per column at m = 45 to 120.) Writes the pivots to diag;
// false on a zero or non-finite pivot.
SOMA_VECTOR_CLONES bool DenseLu(double* a, uint32_t m, double* diag) {
  auto pivot = [&](uint32_t c) {
    double* __restrict col_c = a + static_cast<size_t>(c) * m;
    const double d = col_c[c];
    diag[c] = d;
    if (!(d != 0.0 && std::isfinite(d))) return false;
    for (uint32_t i = c + 1; i < m; ++i) col_c[i] /= d;
    return true;
  };
  uint32_t c = 0;
  for (; c + 1 < m; c += 2) {
    const double* __restrict l0 = a + static_cast<size_t>(c) * m;
    double* __restrict l1 = a + static_cast<size_t>(c + 1) * m;
    if (!pivot(c)) return false;
    const double u01 = l1[c];
    if (u01 != 0.0) {
      for (uint32_t i = c + 1; i < m; ++i) l1[i] -= l0[i] * u01;
    }
    if (!pivot(c + 1)) return false;
    for (uint32_t j = c + 2; j < m; ++j) {
      double* __restrict col_j = a + static_cast<size_t>(j) * m;
      const double u0 = col_j[c];
      if (u0 != 0.0) col_j[c + 1] -= l0[c + 1] * u0;
      const double u1 = col_j[c + 1];
      if (u0 != 0.0 && u1 != 0.0) {
        for (uint32_t i = c + 2; i < m; ++i) col_j[i] = (col_j[i] - l0[i] * u0) - l1[i] * u1;
      } else if (u0 != 0.0) {
        for (uint32_t i = c + 2; i < m; ++i) col_j[i] -= l0[i] * u0;
      } else if (u1 != 0.0) {
        for (uint32_t i = c + 2; i < m; ++i) col_j[i] -= l1[i] * u1;
      }
    }
  }
  if (c < m && !pivot(c)) return false;
  return true;
}

// z = L^{-1} z for the unit lower triangle of the m x m column-major block,
// two columns per pass (same operations and order as one at a time).
SOMA_VECTOR_CLONES void DenseLowerSolve(const double* a, uint32_t m, double* __restrict z) {
  uint32_t c = 0;
  for (; c + 1 < m; c += 2) {
    const double* __restrict l0 = a + static_cast<size_t>(c) * m;
    const double* __restrict l1 = l0 + m;
    const double z0 = z[c];
    if (z0 != 0.0) z[c + 1] -= l0[c + 1] * z0;
    const double z1 = z[c + 1];
    if (z0 != 0.0 && z1 != 0.0) {
      for (uint32_t i = c + 2; i < m; ++i) z[i] = (z[i] - l0[i] * z0) - l1[i] * z1;
    } else if (z0 != 0.0) {
      for (uint32_t i = c + 2; i < m; ++i) z[i] -= l0[i] * z0;
    } else if (z1 != 0.0) {
      for (uint32_t i = c + 2; i < m; ++i) z[i] -= l1[i] * z1;
    }
  }
}

// z = U^{-1} z for the upper triangle (diagonal included) of the block, two
// columns per pass from the last (same operations and order as one at a
// time).
SOMA_VECTOR_CLONES void DenseUpperSolve(const double* a, uint32_t m, double* __restrict z) {
  uint32_t c = m;
  for (; c >= 2; c -= 2) {
    const double* __restrict u1 = a + static_cast<size_t>(c - 1) * m;  // column c - 1
    const double* __restrict u0 = u1 - m;                               // column c - 2
    const double z1 = z[c - 1] / u1[c - 1];
    z[c - 1] = z1;
    if (z1 != 0.0) z[c - 2] -= u1[c - 2] * z1;
    const double z0 = z[c - 2] / u0[c - 2];
    z[c - 2] = z0;
    const uint32_t top = c - 2;
    if (z1 != 0.0 && z0 != 0.0) {
      for (uint32_t i = 0; i < top; ++i) z[i] = (z[i] - u1[i] * z1) - u0[i] * z0;
    } else if (z1 != 0.0) {
      for (uint32_t i = 0; i < top; ++i) z[i] -= u1[i] * z1;
    } else if (z0 != 0.0) {
      for (uint32_t i = 0; i < top; ++i) z[i] -= u0[i] * z0;
    }
  }
  if (c == 1) z[0] /= a[0];
}

}  // namespace internal


}  // namespace soma::solvers
