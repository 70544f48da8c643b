// Loads the LLVM half of native code (libsoma_jit.so, jit_llvm.cpp) on first
// use, so that processes which never compile native code never load LLVM.

#include "expr/jit.h"

#include <dlfcn.h>

#include <cstdint>

#include <mutex>
#include <string>

namespace soma::expr {
namespace {

using CompileFn = bool (*)(Program* const*, size_t, std::string*);

struct Plugin {
  CompileFn compile = nullptr;
  std::string error;  // why it is not there
};

const Plugin& LoadPlugin() {
  static Plugin plugin;
  static std::once_flag once;
  std::call_once(once, [] {
#ifdef SOMA_JIT_LIBRARY
    // The library as built, else wherever the dynamic loader finds it.
    void* lib = dlopen(SOMA_JIT_LIBRARY, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (lib == nullptr) lib = dlopen("libsoma_jit.so", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (lib == nullptr) {
      const char* why = dlerror();
      plugin.error = "cannot load " + std::string(SOMA_JIT_LIBRARY) + ": " + (why != nullptr ? why : "unknown error");
      return;
    }
    // A module from another build of Soma would read Programs wrongly.
    using InterfaceFn = uint64_t (*)();
    const auto interface = reinterpret_cast<InterfaceFn>(dlsym(lib, "soma_expr_native_interface"));
    if (interface == nullptr || interface() != internal::NativeInterface()) {
      plugin.error = "libsoma_jit.so was built from another version of Soma (interface " +
                     std::to_string(interface != nullptr ? interface() : 0) + ", this build needs " +
                     std::to_string(internal::NativeInterface()) + "): rebuild it";
      return;
    }
    plugin.compile = reinterpret_cast<CompileFn>(dlsym(lib, "soma_expr_compile_native"));
    if (plugin.compile == nullptr) plugin.error = "libsoma_jit.so has no soma_expr_compile_native";
#else
    plugin.error = "this build of Soma has no LLVM JIT (CMake option SOMA_WITH_LLVM, package llvm-14-dev)";
#endif
  });
  return plugin;
}

}  // namespace

bool JitAvailable() { return LoadPlugin().compile != nullptr; }

Status CompileNative(std::span<Program* const> programs) {
  const Plugin& plugin = LoadPlugin();
  if (plugin.compile == nullptr) return Unsupported("native code: " + plugin.error);
  std::string error;
  if (!plugin.compile(programs.data(), programs.size(), &error)) return Internal("native code: " + error);
  return Status::Ok();
}

}  // namespace soma::expr
