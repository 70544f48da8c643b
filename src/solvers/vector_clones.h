#pragma once
// SOMA_VECTOR_CLONES on a function: GCC also builds it for AVX2 and picks
// the build at load time where the CPU has it. No FMA on either path, so
// both give the same arithmetic (the bit-identity tests rely on that).

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SOMA_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SOMA_VECTOR_CLONES
#endif
