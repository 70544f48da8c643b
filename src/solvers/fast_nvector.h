#pragma once
// Compiled replacements for the arithmetic of SUNDIALS' serial N_Vector.
//
// Why: Debian's libsundials 6.4.1 (the build Soma links) is compiled without
// optimisation: its vector loops spill every index to the stack and run at
// ~20 instructions per element. On bench/ models these loops were 35-50 % of
// all instructions of a simulation (callgrind). The functions installed here
// are the same loops, in the same arithmetic order, built with Soma's flags,
// so results are bit-identical to the serial vector's; the fused and
// vector-array operations (off by default in the serial vector) are enabled
// with SUNDIALS' own serial semantics, which only saves passes.
//
// Ownership and layout are unchanged: the vector stays a SUNDIALS serial
// vector (its id, content, N_VGetArrayPointer, KLU and dense solvers that
// check for it all work), only the entries of its ops table differ. Clones
// copy the ops table, so installing the kernels on the vector handed to
// CVodeInit covers every vector CVODES makes from it.

#include <cstddef>

#include <sundials/sundials_nvector.h>

namespace soma::solvers {

// Installs the kernels into `v`'s ops table. `v` must be a serial vector
// (N_VNew_Serial / N_VMake_Serial); other vectors are left untouched.
void UseFastSerialOps(N_Vector v);

}  // namespace soma::solvers
