// A stand-in for libsoma_jit.so from another build of Soma, for jit_test:
// it exports the module's entry points, but an interface no build has.
// Its compile function must never be called.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" __attribute__((visibility("default"))) uint64_t soma_expr_native_interface() {
  return (uint64_t{999} << 32) | 1;
}

extern "C" __attribute__((visibility("default"))) bool soma_expr_compile_native(void* const*, size_t, int, int, const char*, bool*, void*) {
  std::abort();
}
