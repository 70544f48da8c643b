#pragma once
// A direct sparse linear solver for CVODES built on KLU: SUNLinSol_KLU's
// algorithm (AMD ordering, a full factorisation with partial pivoting after
// every (re)initialisation, then refactorisations with the same pivots
// guarded by KLU's condition estimates) with one difference: the symbolic
// analysis (ordering, block triangular form) is kept while the matrix's
// pattern stays the same. SUNLinSol_KLU redoes it at every CVodeReInit, i.e.
// after every event; the analysis depends on the pattern alone, so reusing
// it gives bit-identical factors.

#include <sundials/sundials_context.h>
#include <sundials/sundials_linearsolver.h>
#include <sundials/sundials_matrix.h>
#include <sundials/sundials_nvector.h>

namespace soma::solvers {

// `a` must be an n x n CSC SUNSparseMatrix and `y` a vector of length n.
// Returns nullptr on a mismatch or allocation failure. Free with
// SUNLinSolFree. Setup failures that a smaller step may cure (a singular
// matrix) return SUNLS_PACKAGE_FAIL_REC; KLU failures to allocate return
// SUNLS_PACKAGE_FAIL_UNREC.
SUNLinearSolver NewKluSolver(N_Vector y, SUNMatrix a, SUNContext ctx);

}  // namespace soma::solvers
