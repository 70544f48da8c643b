#pragma once
// Sparse LU factorisation for the Newton matrices of CVODES (I - gamma J with
// a fixed pattern), in two parts:
//
//  - Factor: KLU chooses the ordering (AMD) and the pivots (partial pivoting
//    with diagonal preference, rows scaled by their largest entry). Only the
//    pivot order and the patterns of L and U are kept from it.
//  - Refactor / Solve: Soma's own elimination and triangular solves over that
//    fixed structure. Columns are eliminated left-looking with sparse
//    columns, except a trailing block where L + U is (nearly) full: there the
//    factors are kept as a dense matrix and eliminated with contiguous,
//    vectorised loops. The split point minimises an estimate of the work per
//    solve. On bench/ networks the last third of the columns is dense
//    (mass-100: 1190 of the 2643 entries of L + U lie in the last 34
//    columns), and KLU's klu_refactor/klu_solve, which treat every column as
//    sparse, were 50-65 % of all simulation instructions.
//
// Refactor refuses (returns false) when the pattern changed, a pivot is zero
// or not finite, or min |U_kk| / max |U_kk| < eps^(2/3) (KLU's cheap
// condition estimate, the threshold SUNLinSol_KLU uses): the caller then
// factors again with pivoting.
//
// Not thread safe; one object per integrator. No allocation in Refactor and
// Solve.

#include <sundials/sundials_types.h>

#include <cstdint>
#include <vector>

namespace soma::solvers {

class SparseLu {
 public:
  SparseLu();
  ~SparseLu();
  SparseLu(const SparseLu&) = delete;
  SparseLu& operator=(const SparseLu&) = delete;

  // Factors the n x n CSC matrix (ap: n + 1 column starts, ai: row indices,
  // ax: values) with pivoting. False if KLU finds it singular or fails.
  bool Factor(sunindextype n, const sunindextype* ap, const sunindextype* ai, const double* ax);

  // Factors a matrix with the pattern of the last Factor using its pivot
  // order. False (and nothing usable) if there was no Factor, the pattern
  // differs, or the pivots are no good for these values (see above).
  bool Refactor(sunindextype n, const sunindextype* ap, const sunindextype* ai, const double* ax);

  // x = A^{-1} x for the last successful Factor or Refactor.
  void Solve(double* x);

  bool factored() const { return factored_; }

 private:
  struct Klu;  // KLU's objects for the pattern (ordering, pivoting)
  bool SamePattern(sunindextype n, const sunindextype* ap, const sunindextype* ai) const;
  // KLU's factorisation as extracted (klu_l_extract): pivots p, q and the
  // patterns of L (lp, li) and U (up, ui), diagonals included.
  struct Extracted {
    std::vector<sunindextype> p, q, r, lp, li, up, ui;
  };
  bool BuildStructure(const sunindextype* ap, const sunindextype* ai, const Extracted& e);
  // The numeric factorisation over the structure; false on a zero or
  // non-finite pivot.
  bool Numeric(const double* ax);

  Klu* klu_;
  bool factored_ = false;
  bool structure_ = false;  // the arrays below describe the current pivots
  uint32_t n_ = 0;
  // The pattern of A the structure was built for.
  std::vector<sunindextype> a_starts_, a_rows_;
  // Pivoting: row k of the factored matrix is row p_[k] of A scaled by
  // 1 / rs_[p_[k]]; column k is column q_[k] of A.
  std::vector<uint32_t> p_, q_;
  std::vector<double> rs_;
  // Per factored column k, its entries of A in [a_begin_[k], a_begin_[k + 1]):
  // a_src_ indexes ax, a_dst_ is the factored row.
  std::vector<uint32_t> a_begin_, a_src_, a_dst_;
  // Columns [k0_, n) and rows [k0_, n) form the dense block (m_ = n - k0_).
  uint32_t k0_ = 0, m_ = 0;
  // Sparse L: columns k < k0_ (unit diagonal not stored), rows > k.
  // Sparse U: for every column k, its rows below min(k, k0_), ascending (the
  // order left-looking elimination consumes them in). Diagonal of the sparse
  // part in u_diag_.
  std::vector<uint32_t> l_begin_, l_row_, u_begin_, u_row_;
  std::vector<double> lx_, ux_, u_diag_;
  // The dense block, column-major m_ x m_: unit lower L below the diagonal,
  // U on and above it.
  std::vector<double> dense_;
  std::vector<double> work_;                              // n, all zero between calls
  std::vector<double> rhs_;                               // n
  Extracted extracted_;                                   // reused buffers
  std::vector<double> lx_tmp_, ux_tmp_, f_tmp_, rs_tmp_;  // klu_l_extract's values, unused
};

}  // namespace soma::solvers
