#pragma once
// The dense trailing block of SparseLu (sparse_lu.h): LU factorisation
// without pivoting and the two triangular solves on an m x m column-major
// block. Blocked over pairs of pivot columns, so that each entry is loaded
// and stored once per pair rather than once per column, but with exactly
// the floating-point operations, in the same order, of the textbook
// one-column-at-a-time loops (no FMA, updates with a zero multiplier
// skipped): results are bit-identical to those loops, which
// sparse_lu_test checks against a reference.
//
// Not part of the public interface (namespace internal); thread safe on
// distinct data; no allocation.

#include <cstdint>

namespace soma::solvers::internal {

// In place: below the diagonal the multipliers of unit lower L, on and
// above it U. diag[c] = U_cc. False (block partly overwritten) on a zero or
// non-finite pivot.
bool DenseLu(double* a, uint32_t m, double* diag);

// z = L^{-1} z with L the unit lower triangle of a factored block.
void DenseLowerSolve(const double* a, uint32_t m, double* z);

// z = U^{-1} z with U the upper triangle (diagonal included).
void DenseUpperSolve(const double* a, uint32_t m, double* z);

}  // namespace soma::solvers::internal
