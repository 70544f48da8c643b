#pragma once
// Native code for Programs through LLVM 14's ORC JIT.
//
// A Program (expr/program.h) is straight-line register code; CompileNative
// translates each given Program into LLVM IR, one SSA value per operation,
// compiles them together as one module for the host CPU and attaches the
// machine code: afterwards Program::Run calls it instead of the
// interpreter. The operations are re-ordered depth first from each output
// (the interpreter groups them by opcode, which keeps hundreds of values
// alive at once) and cut into functions of 150 operations; with that order
// LLVM's fast instruction selector and register allocator (no
// optimisation passes) give code as fast as its optimising pipeline at a
// tenth of the compile time (bench/PROFILE.md).
//
// Same numbers, bit for bit: the IR carries no fast-math flags and no
// fused multiply-add (LLVM contracts only what the IR asks for, and it asks
// for nothing), and every operation that is not a single IEEE instruction
// (exp, pow, tanh, fmod, ...) calls the same C++ function the interpreter
// uses (gop_eval.h) through a pointer, so LLVM cannot swap it for another
// implementation (pow(2, x) -> exp2(x), say). jit_test compares the two
// bitwise on every operation, NaN and infinities included, and
// sbml_test_suite every case of the SBML Test Suite. (The one exception is
// opt-in: lanes compiled with LaneMath::kVector, below.)
//
// Cost: LLVM lives in libsoma_jit.so, loaded on the first call (about 15 ms
// for loading and relocating it with LLVM's static components inside, or
// 60 ms with libLLVM-14.so; once per process), and compiling
// takes about 5 ms for the T1D model and 15 ms for a 100-species network.
// So callers use it where many evaluations follow (sim::CompileOptions::
// native_code: trials of 64 or more simulations, soma simulate --native-code).
//
// Machine code is cached on disk (NativeCodeCacheDir), keyed by the SHA-1 of
// the module's LLVM bitcode, LLVM's version, the target, the CPU and its
// features and this interface's version: a model compiled before (the same
// programs, lane count and math) skips LLVM's code generation, about 13 ms
// of a T1D trial's 22 ms of native-code overhead. The code is the same
// bytes either way, so results are too (jit_test). The generated code calls
// the interpreter's functions by name, linked when it is loaded, so a file
// holds no address of the process that wrote it.
//
// Builds without LLVM (CMake option SOMA_WITH_LLVM=OFF, or no llvm-14-dev)
// keep the interpreter: JitAvailable() is false and CompileNative reports
// kUnsupported.

#include <span>
#include <string>

#include "core/status.h"
#include "expr/program.h"

namespace soma::expr {

// Whether this build can compile native code.
bool JitAvailable();

// The folder of the machine-code cache: $SOMA_CACHE_DIR/jit, else
// $XDG_CACHE_HOME/soma/jit, else $HOME/.cache/soma/jit; empty (no cache)
// when SOMA_JIT_CACHE is "off" or "0", or none of these is set. Read at
// every compile. Created private to the user (0700) on first use; not used
// when another user owns it or others may write to it (machine code from
// there would run in this process). Files of about 3-200 kB, at most 256,
// the least recently used removed first. Best effort: a file that fails
// its CRC-32 is compiled again, a folder that cannot be written is not
// used; neither changes a result.
std::string NativeCodeCacheDir();

// Compiles in this process so far: by LLVM, and taken from the cache.
struct NativeCodeCounts {
  uint64_t compiled = 0;
  uint64_t from_cache = 0;
};
NativeCodeCounts NativeCodeCount();

// Compiles `programs` (none may be null) to native code in one LLVM module
// and attaches it to each; a Program that already has native code is
// compiled again. The code lives as long as any Program (or copy) using it.
// A program so large that the values passed between its generated
// functions would need more than 1 MiB of stack keeps interpreting
// (Program::native() says which). On failure nothing is attached and the
// programs keep interpreting.
Status CompileNative(std::span<Program* const> programs);

// How CompileNativeLanes evaluates exp, log, pow, tanh and the other
// functions that are not one IEEE instruction. kExact: the interpreter's
// scalar function on each lane, so every lane has the bits of Program::Run.
// kVector: glibc's vector math library (libmvec) where it has the function
// for that many lanes on this CPU (2 lanes: SSE2; 4: AVX2; 8: AVX-512),
// one call for all lanes; its results are within 4 units in the last
// place of the scalar ones (so a lane agrees with Run to about 1e-15
// relative per operation, not bit for bit) and do not depend on the other
// lanes' values. Elsewhere kVector is kExact.
enum class LaneMath { kExact, kVector };

// As CompileNative, but each program gets a second function that evaluates
// it for `lanes` (2, 4 or 8) sets of inputs at once, one per SIMD lane
// (Program::RunLanes): every value is a vector of `lanes` doubles; the
// operations that are not a single IEEE instruction as `math` says. The
// programs' scalar code (Run) is not touched. Made for integrating
// several trial members at once (bench/PROFILE.md, "Trial members in SIMD
// lanes"). InvalidArgument for another lane count.
Status CompileNativeLanes(std::span<Program* const> programs, int lanes, LaneMath math = LaneMath::kExact);

namespace internal {
// Loads the native-code module at `path` (RTLD_LOCAL, never unloaded) and
// checks that it was built from this version of Soma (its exported
// interface, NativeInterface in program.h: a module from another build
// would read Programs wrongly). Empty when it can be used, else why not.
// LoadPlugin runs it on the module as built; tests on others.
std::string CheckNativeModule(const std::string& path);
}  // namespace internal

}  // namespace soma::expr
