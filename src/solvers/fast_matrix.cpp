#include "solvers/fast_matrix.h"

#include <nvector/nvector_serial.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunmatrix/sunmatrix_sparse.h>

#include <cmath>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include "solvers/vector_clones.h"

namespace soma::solvers {

namespace {

// ---- Dense matrices (column-major, leading dimension M). ----

int DenseZero(SUNMatrix a) {
  std::memset(SM_DATA_D(a), 0, static_cast<size_t>(SM_LDATA_D(a)) * sizeof(double));
  return 0;
}

int DenseCopy(SUNMatrix a, SUNMatrix b) {
  if (SM_ROWS_D(a) != SM_ROWS_D(b) || SM_COLUMNS_D(a) != SM_COLUMNS_D(b)) return SUNMatCopy_Dense(a, b);
  std::memcpy(SM_DATA_D(b), SM_DATA_D(a), static_cast<size_t>(SM_LDATA_D(a)) * sizeof(double));
  return 0;
}

// A = c A + I, as SUNMatScaleAddI_Dense: c * a, then + 1 on the diagonal.
int DenseScaleAddI(double c, SUNMatrix a) {
  const sunindextype m = SM_ROWS_D(a), n = SM_COLUMNS_D(a);
  for (sunindextype j = 0; j < n; ++j) {
    double* col = SM_COLUMN_D(a, j);
    for (sunindextype i = 0; i < m; ++i) col[i] *= c;
    if (j < m) col[j] += 1.0;
  }
  return 0;
}

// ---- Sparse matrices (CSC). ----

int SparseZero(SUNMatrix a) {
  const size_t nnz = static_cast<size_t>(SM_NNZ_S(a));
  std::memset(SM_DATA_S(a), 0, nnz * sizeof(double));
  std::memset(SM_INDEXVALS_S(a), 0, nnz * sizeof(sunindextype));
  std::memset(SM_INDEXPTRS_S(a), 0, static_cast<size_t>(SM_NP_S(a) + 1) * sizeof(sunindextype));
  return 0;
}

// B = A. As SUNMatCopy_Sparse (entries of B past A's nonzeros end up zero);
// a B too small to hold A is grown by the library's function.
int SparseCopy(SUNMatrix a, SUNMatrix b) {
  if (SM_SPARSETYPE_S(a) != SM_SPARSETYPE_S(b) || SM_ROWS_S(a) != SM_ROWS_S(b) ||
      SM_COLUMNS_S(a) != SM_COLUMNS_S(b)) {
    return SUNMatCopy_Sparse(a, b);
  }
  const sunindextype np = SM_NP_S(a);
  const sunindextype nz = SM_INDEXPTRS_S(a)[np];
  if (SM_NNZ_S(b) < nz) return SUNMatCopy_Sparse(a, b);
  const size_t used = static_cast<size_t>(nz), rest = static_cast<size_t>(SM_NNZ_S(b) - nz);
  std::memcpy(SM_DATA_S(b), SM_DATA_S(a), used * sizeof(double));
  std::memcpy(SM_INDEXVALS_S(b), SM_INDEXVALS_S(a), used * sizeof(sunindextype));
  std::memset(SM_DATA_S(b) + used, 0, rest * sizeof(double));
  std::memset(SM_INDEXVALS_S(b) + used, 0, rest * sizeof(sunindextype));
  std::memcpy(SM_INDEXPTRS_S(b), SM_INDEXPTRS_S(a), static_cast<size_t>(np + 1) * sizeof(sunindextype));
  return 0;
}

// A = c A + I in place when every column (row) that can hold a diagonal
// entry has one: 1 + c a on the diagonal, c a elsewhere, as the library
// computes them. Otherwise the library's function inserts the entries.
int SparseScaleAddI(double c, SUNMatrix a) {
  const bool csc = SM_SPARSETYPE_S(a) == CSC_MAT;
  const sunindextype n = csc ? SM_COLUMNS_S(a) : SM_ROWS_S(a);
  const sunindextype m = csc ? SM_ROWS_S(a) : SM_COLUMNS_S(a);
  const sunindextype* ap = SM_INDEXPTRS_S(a);
  const sunindextype* ai = SM_INDEXVALS_S(a);
  double* ax = SM_DATA_S(a);
  for (sunindextype j = 0; j < n && j < m; ++j) {
    bool found = false;
    for (sunindextype p = ap[j]; p < ap[j + 1] && !found; ++p) found = ai[p] == j;
    if (!found) return SUNMatScaleAddI_Sparse(c, a);
  }
  const sunindextype nz = ap[n];
  for (sunindextype p = 0; p < nz; ++p) ax[p] *= c;
  for (sunindextype j = 0; j < n && j < m; ++j) {
    for (sunindextype p = ap[j]; p < ap[j + 1]; ++p) {
      if (ai[p] == j) ax[p] += 1.0;
    }
  }
  return 0;
}

// ---- Dense LU linear solver. ----

struct DenseLu {
  std::vector<sunindextype> pivots;
  sunindextype last_flag = 0;
};

DenseLu* Content(SUNLinearSolver s) { return static_cast<DenseLu*>(s->content); }

SUNLinearSolver_Type LuType(SUNLinearSolver) { return SUNLINEARSOLVER_DIRECT; }
SUNLinearSolver_ID LuId(SUNLinearSolver) { return SUNLINEARSOLVER_CUSTOM; }

int LuInitialize(SUNLinearSolver s) {
  Content(s)->last_flag = 0;
  return SUNLS_SUCCESS;
}

// SUNDlsMat_denseGETRF: column-oriented LU with partial pivoting, in place.
// Returns 0, or k + 1 for a zero pivot in column k.
SOMA_VECTOR_CLONES sunindextype Factor(double** a, sunindextype m, sunindextype n, sunindextype* p) {
  for (sunindextype k = 0; k < n; ++k) {
    double* col_k = a[k];
    sunindextype l = k;
    double best = std::fabs(col_k[k]);
    for (sunindextype i = k + 1; i < m; ++i) {
      const double v = std::fabs(col_k[i]);
      if (v > best) {
        best = v;
        l = i;
      }
    }
    p[k] = l;
    if (col_k[l] == 0.0) return k + 1;
    if (l != k) {
      for (sunindextype j = 0; j < n; ++j) std::swap(a[j][l], a[j][k]);
    }
    const double mult = 1.0 / col_k[k];
    for (sunindextype i = k + 1; i < m; ++i) col_k[i] *= mult;
    for (sunindextype j = k + 1; j < n; ++j) {
      double* __restrict col_j = a[j];
      const double* __restrict ck = col_k;
      const double a_kj = col_j[k];
      if (a_kj != 0.0) {
        for (sunindextype i = k + 1; i < m; ++i) col_j[i] -= a_kj * ck[i];
      }
    }
  }
  return 0;
}

// SUNDlsMat_denseGETRS.
SOMA_VECTOR_CLONES void Solve(double* const* a, sunindextype n, const sunindextype* p, double* b) {
  for (sunindextype k = 0; k < n; ++k) {
    const sunindextype pk = p[k];
    if (pk != k) std::swap(b[k], b[pk]);
  }
  for (sunindextype k = 0; k + 1 < n; ++k) {
    const double* col_k = a[k];
    const double bk = b[k];
    for (sunindextype i = k + 1; i < n; ++i) b[i] -= col_k[i] * bk;
  }
  for (sunindextype k = n - 1; k > 0; --k) {
    const double* col_k = a[k];
    b[k] /= col_k[k];
    const double bk = b[k];
    for (sunindextype i = 0; i < k; ++i) b[i] -= col_k[i] * bk;
  }
  b[0] /= a[0][0];
}

int LuSetup(SUNLinearSolver s, SUNMatrix a) {
  DenseLu* lu = Content(s);
  if (a == nullptr || SUNMatGetID(a) != SUNMATRIX_DENSE ||
      static_cast<size_t>(SM_COLUMNS_D(a)) != lu->pivots.size()) {
    lu->last_flag = SUNLS_ILL_INPUT;
    return SUNLS_ILL_INPUT;
  }
  lu->last_flag = Factor(SM_COLS_D(a), SM_ROWS_D(a), SM_COLUMNS_D(a), lu->pivots.data());
  return lu->last_flag > 0 ? SUNLS_LUFACT_FAIL : SUNLS_SUCCESS;
}

int LuSolve(SUNLinearSolver s, SUNMatrix a, N_Vector x, N_Vector b, double) {
  DenseLu* lu = Content(s);
  if (a == nullptr || x == nullptr || b == nullptr) {
    lu->last_flag = SUNLS_MEM_NULL;
    return SUNLS_MEM_NULL;
  }
  const sunindextype n = SM_COLUMNS_D(a);
  double* xd = N_VGetArrayPointer(x);
  const double* bd = N_VGetArrayPointer(b);
  if (xd != bd) std::memcpy(xd, bd, static_cast<size_t>(n) * sizeof(double));
  Solve(SM_COLS_D(a), n, lu->pivots.data(), xd);
  lu->last_flag = SUNLS_SUCCESS;
  return SUNLS_SUCCESS;
}

sunindextype LuLastFlag(SUNLinearSolver s) { return Content(s)->last_flag; }

int LuSpace(SUNLinearSolver s, long* lenrw, long* leniw) {
  *lenrw = 0;
  *leniw = 2 + static_cast<long>(Content(s)->pivots.size());
  return SUNLS_SUCCESS;
}

int LuFree(SUNLinearSolver s) {
  if (s == nullptr) return SUNLS_SUCCESS;
  delete Content(s);
  s->content = nullptr;
  SUNLinSolFreeEmpty(s);
  return SUNLS_SUCCESS;
}

// SUNDIALS' matrix clones are built by the constructors, with the
// library's ops table: give clones (CVODES' saved Jacobian) the kernels too.
SUNMatrix DenseClone(SUNMatrix a) {
  SUNMatrix b = SUNMatClone_Dense(a);
  UseFastMatrixOps(b);
  return b;
}

SUNMatrix SparseClone(SUNMatrix a) {
  SUNMatrix b = SUNMatClone_Sparse(a);
  UseFastMatrixOps(b);
  return b;
}

}  // namespace

void UseFastMatrixOps(SUNMatrix m) {
  if (m == nullptr) return;
  SUNMatrix_Ops ops = m->ops;
  if (SUNMatGetID(m) == SUNMATRIX_DENSE) {
    ops->clone = DenseClone;
    ops->zero = DenseZero;
    ops->copy = DenseCopy;
    ops->scaleaddi = DenseScaleAddI;
  } else if (SUNMatGetID(m) == SUNMATRIX_SPARSE && SM_SPARSETYPE_S(m) == CSC_MAT) {
    ops->clone = SparseClone;
    ops->zero = SparseZero;
    ops->copy = SparseCopy;
    ops->scaleaddi = SparseScaleAddI;
  }
}

SUNLinearSolver NewDenseLuSolver(N_Vector y, SUNMatrix a, SUNContext ctx) {
  if (y == nullptr || a == nullptr || SUNMatGetID(a) != SUNMATRIX_DENSE) return nullptr;
  const sunindextype n = SM_COLUMNS_D(a);
  if (SM_ROWS_D(a) != n || N_VGetLength(y) != n || n < 1) return nullptr;
  SUNLinearSolver s = SUNLinSolNewEmpty(ctx);
  if (s == nullptr) return nullptr;
  auto* lu = new (std::nothrow) DenseLu();
  if (lu == nullptr) {
    SUNLinSolFreeEmpty(s);
    return nullptr;
  }
  lu->pivots.assign(static_cast<size_t>(n), 0);
  s->content = lu;
  s->ops->gettype = LuType;
  s->ops->getid = LuId;
  s->ops->initialize = LuInitialize;
  s->ops->setup = LuSetup;
  s->ops->solve = LuSolve;
  s->ops->lastflag = LuLastFlag;
  s->ops->space = LuSpace;
  s->ops->free = LuFree;
  return s;
}

}  // namespace soma::solvers
