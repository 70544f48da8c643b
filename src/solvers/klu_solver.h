#pragma once
// A direct sparse linear solver for CVODES on SparseLu (sparse_lu.h): KLU
// chooses the ordering and pivots, Soma's elimination refactors and solves
// over that structure. Compared with SUNLinSol_KLU: the symbolic analysis
// and the pivot order survive CVodeReInit (after an event the matrix has the
// same pattern; SUNLinSol_KLU re-ran AMD and a pivoting factorisation each
// time), and a refactorisation that fails its condition check (or meets a
// zero pivot) is redone with fresh pivoting rather than reported.

#include <sundials/sundials_context.h>
#include <sundials/sundials_linearsolver.h>
#include <sundials/sundials_matrix.h>
#include <sundials/sundials_nvector.h>

namespace soma::solvers {

// `a` must be an n x n CSC SUNSparseMatrix and `y` a vector of length n.
// Returns nullptr on a mismatch or allocation failure. Free with
// SUNLinSolFree. Setup on a matrix that is singular even with fresh pivoting
// returns SUNLS_PACKAGE_FAIL_REC (CVODES retries with a smaller step).
SUNLinearSolver NewKluSolver(N_Vector y, SUNMatrix a, SUNContext ctx);

}  // namespace soma::solvers
