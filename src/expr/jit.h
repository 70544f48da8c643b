#pragma once
// Native code for Programs through LLVM 14's ORC JIT.
//
// A Program (expr/program.h) is straight-line register code; CompileNative
// translates each given Program into one LLVM function, instruction for
// instruction (one SSA value per register write, no loops, no branches),
// compiles them together as one module for the host CPU and attaches the
// machine code: afterwards Program::Run calls it instead of the
// interpreter.
//
// Same numbers, bit for bit: the IR carries no fast-math flags and no
// fused multiply-add (LLVM contracts only what the IR asks for, and it asks
// for nothing), and every operation that is not a single IEEE instruction
// (exp, pow, tanh, fmod, ...) calls the same C++ function the interpreter
// uses (gop_eval.h) through a pointer, so LLVM cannot swap it for another
// implementation (pow(2, x) -> exp2(x), say). jit_test compares the two
// bitwise on every operation, NaN and infinities included.
//
// Cost: compilation takes milliseconds to tens of milliseconds for a model
// of a hundred species (bench/PROFILE.md), so callers use it where many
// evaluations follow one compilation (sim::CompileOptions::native_code).
//
// Builds without LLVM (CMake option SOMA_WITH_LLVM=OFF, or no llvm-14-dev)
// keep the interpreter: JitAvailable() is false and CompileNative reports
// kUnsupported.

#include <span>

#include "core/status.h"
#include "expr/program.h"

namespace soma::expr {

// Whether this build can compile native code.
bool JitAvailable();

// Compiles `programs` (none may be null) to native code in one LLVM module
// and attaches it to each; a Program that already has native code is
// compiled again. The code lives as long as any Program (or copy) using it.
// On failure nothing is attached and the programs keep interpreting.
Status CompileNative(std::span<Program* const> programs);

}  // namespace soma::expr
