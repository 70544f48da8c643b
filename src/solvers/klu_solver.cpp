#include "solvers/klu_solver.h"

#include <sunmatrix/sunmatrix_sparse.h>

#include <cstring>
#include <new>

#include "solvers/sparse_lu.h"

namespace soma::solvers {

namespace {

struct Content {
  SparseLu lu;
  sunindextype last_flag = 0;
};

Content* Get(SUNLinearSolver s) { return static_cast<Content*>(s->content); }

int Flag(SUNLinearSolver s, sunindextype flag) {
  Get(s)->last_flag = flag;
  return static_cast<int>(flag);
}

SUNLinearSolver_Type Type(SUNLinearSolver) { return SUNLINEARSOLVER_DIRECT; }
SUNLinearSolver_ID Id(SUNLinearSolver) { return SUNLINEARSOLVER_CUSTOM; }
int Initialize(SUNLinearSolver s) { return Flag(s, SUNLS_SUCCESS); }

int Setup(SUNLinearSolver s, SUNMatrix a) {
  if (a == nullptr || SUNMatGetID(a) != SUNMATRIX_SPARSE || SM_SPARSETYPE_S(a) != CSC_MAT) {
    return Flag(s, SUNLS_ILL_INPUT);
  }
  SparseLu& lu = Get(s)->lu;
  const sunindextype n = SM_NP_S(a);
  const sunindextype* ap = SM_INDEXPTRS_S(a);
  const sunindextype* ai = SM_INDEXVALS_S(a);
  const double* ax = SM_DATA_S(a);
  if (lu.Refactor(n, ap, ai, ax) || lu.Factor(n, ap, ai, ax)) return Flag(s, SUNLS_SUCCESS);
  return Flag(s, SUNLS_PACKAGE_FAIL_REC);
}

int Solve(SUNLinearSolver s, SUNMatrix a, N_Vector x, N_Vector b, double) {
  SparseLu& lu = Get(s)->lu;
  if (a == nullptr || x == nullptr || b == nullptr || !lu.factored()) return Flag(s, SUNLS_MEM_NULL);
  double* xd = N_VGetArrayPointer(x);
  const double* bd = N_VGetArrayPointer(b);
  if (xd != bd) std::memcpy(xd, bd, static_cast<size_t>(SM_NP_S(a)) * sizeof(double));
  lu.Solve(xd);
  return Flag(s, SUNLS_SUCCESS);
}

sunindextype LastFlag(SUNLinearSolver s) { return Get(s)->last_flag; }

int Space(SUNLinearSolver, long* lenrw, long* leniw) {
  *lenrw = 0;
  *leniw = 2;
  return SUNLS_SUCCESS;
}

int Free(SUNLinearSolver s) {
  if (s == nullptr) return SUNLS_SUCCESS;
  delete Get(s);
  s->content = nullptr;
  SUNLinSolFreeEmpty(s);
  return SUNLS_SUCCESS;
}

}  // namespace

SUNLinearSolver NewKluSolver(N_Vector y, SUNMatrix a, SUNContext ctx) {
  if (y == nullptr || a == nullptr || SUNMatGetID(a) != SUNMATRIX_SPARSE || SM_SPARSETYPE_S(a) != CSC_MAT) {
    return nullptr;
  }
  const sunindextype n = SM_COLUMNS_S(a);
  if (SM_ROWS_S(a) != n || N_VGetLength(y) != n || n < 1) return nullptr;
  SUNLinearSolver s = SUNLinSolNewEmpty(ctx);
  if (s == nullptr) return nullptr;
  auto* content = new (std::nothrow) Content();
  if (content == nullptr) {
    SUNLinSolFreeEmpty(s);
    return nullptr;
  }
  s->content = content;
  s->ops->gettype = Type;
  s->ops->getid = Id;
  s->ops->initialize = Initialize;
  s->ops->setup = Setup;
  s->ops->solve = Solve;
  s->ops->lastflag = LastFlag;
  s->ops->space = Space;
  s->ops->free = Free;
  return s;
}

}  // namespace soma::solvers
