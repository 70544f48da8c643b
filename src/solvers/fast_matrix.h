#pragma once
// Compiled replacements for SUNDIALS' dense and sparse matrix arithmetic and
// for its dense LU linear solver.
//
// Why: Debian's libsundials 6.4.1 is built without optimisation (see
// fast_nvector.h). CVODES' linear solver setup copies the saved Jacobian,
// forms I - gamma J and factors it at every setup; with the library's loops
// the copy, scale-add and dense LU cost several times what the same loops
// cost compiled. The kernels here are the same algorithms in the same
// arithmetic order (bit-identical results), compiled with Soma's flags.

#include <sundials/sundials_context.h>
#include <sundials/sundials_linearsolver.h>
#include <sundials/sundials_matrix.h>
#include <sundials/sundials_nvector.h>

namespace soma::solvers {

// Installs the kernels (zero, copy, scale-add-identity) into the ops table
// of `m`, a SUNDenseMatrix or a CSC SUNSparseMatrix; other matrices are left
// untouched. Clones (CVODES' saved Jacobian) copy the ops table. The sparse
// kernels keep SUNDIALS' behaviour where it reallocates (a missing diagonal,
// a copy into a smaller matrix) by calling the library's own function.
void UseFastMatrixOps(SUNMatrix m);

// A direct linear solver for SUNDenseMatrix: LU with partial pivoting, the
// algorithm of SUNLinSol_Dense (SUNDlsMat_denseGETRF/GETRS) compiled with
// Soma's flags. Setup factors the matrix in place (as SUNLinSol_Dense does)
// and returns SUNLS_LUFACT_FAIL (recoverable) on a zero pivot. `y` gives
// the size (a serial vector); `a` must be an n x n SUNDenseMatrix. Returns
// nullptr on a size mismatch or allocation failure. Free with SUNLinSolFree.
SUNLinearSolver NewDenseLuSolver(N_Vector y, SUNMatrix a, SUNContext ctx);

}  // namespace soma::solvers
