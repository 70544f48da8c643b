// Loads the LLVM half of native code (libsoma_jit.so, jit_llvm.cpp) on first
// use, so that processes which never compile native code never load LLVM.

#include "expr/jit.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>

namespace soma::expr {
namespace {

// flags: 1 = vector math (CompileNativeLanes). cache_dir: null for none.
using CompileFn = bool (*)(Program* const*, size_t, int lanes, int flags, const char* cache_dir, bool* cached,
                           std::string*);

std::atomic<uint64_t> compiled{0}, from_cache{0};

struct Plugin {
  CompileFn compile = nullptr;
  std::string error;  // why it is not there
};

// The module at `path`, checked; compile stays null with the error set.
Plugin LoadModule(const std::string& path) {
  Plugin plugin;
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (lib == nullptr) {
    const char* why = dlerror();
    plugin.error = "cannot load " + path + ": " + (why != nullptr ? why : "unknown error");
    return plugin;
  }
  // A module from another build of Soma would read Programs wrongly.
  using InterfaceFn = uint64_t (*)();
  const auto interface = reinterpret_cast<InterfaceFn>(dlsym(lib, "soma_expr_native_interface"));
  if (interface == nullptr || interface() != internal::NativeInterface()) {
    plugin.error = path + " was built from another version of Soma (interface " +
                   std::to_string(interface != nullptr ? interface() : 0) + ", this build needs " +
                   std::to_string(internal::NativeInterface()) + "): rebuild it";
    return plugin;
  }
  plugin.compile = reinterpret_cast<CompileFn>(dlsym(lib, "soma_expr_compile_native"));
  if (plugin.compile == nullptr) plugin.error = path + " has no soma_expr_compile_native";
  return plugin;
}

const Plugin& LoadPlugin() {
  static Plugin plugin;
  static std::once_flag once;
  std::call_once(once, [] {
#ifdef SOMA_JIT_LIBRARY
    // The library as built, else wherever the dynamic loader finds it.
    plugin = LoadModule(SOMA_JIT_LIBRARY);
    if (plugin.error.rfind("cannot load ", 0) == 0) {
      Plugin found = LoadModule("libsoma_jit.so");
      if (found.error.rfind("cannot load ", 0) != 0) plugin = std::move(found);
    }
#else
    plugin.error = "this build of Soma has no LLVM JIT (CMake option SOMA_WITH_LLVM, package llvm-14-dev)";
#endif
  });
  return plugin;
}

}  // namespace

bool JitAvailable() { return LoadPlugin().compile != nullptr; }

namespace {
Status Compile(std::span<Program* const> programs, int lanes, int flags) {
  const Plugin& plugin = LoadPlugin();
  if (plugin.compile == nullptr) return Unsupported("native code: " + plugin.error);
  std::string error;
  const std::string cache = NativeCodeCacheDir();
  bool cached = false;
  if (!plugin.compile(programs.data(), programs.size(), lanes, flags, cache.empty() ? nullptr : cache.c_str(), &cached,
                      &error)) {
    return Internal("native code: " + error);
  }
  (cached ? from_cache : compiled).fetch_add(1);
  return Status::Ok();
}
}  // namespace

Status CompileNative(std::span<Program* const> programs) { return Compile(programs, 1, 0); }

std::string NativeCodeCacheDir() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v != nullptr ? v : "";
  };
  const std::string setting = env("SOMA_JIT_CACHE");
  if (setting == "off" || setting == "0") return "";
  if (!env("SOMA_CACHE_DIR").empty()) return env("SOMA_CACHE_DIR") + "/jit";
  if (!env("XDG_CACHE_HOME").empty()) return env("XDG_CACHE_HOME") + "/soma/jit";
  if (!env("HOME").empty()) return env("HOME") + "/.cache/soma/jit";
  return "";
}

NativeCodeCounts NativeCodeCount() { return {compiled.load(), from_cache.load()}; }

Status CompileNativeLanes(std::span<Program* const> programs, int lanes, LaneMath math) {
  if (lanes != 2 && lanes != 4 && lanes != 8) {
    return InvalidArgument("native code over lanes: " + std::to_string(lanes) + " lanes (2, 4 or 8)");
  }
  return Compile(programs, lanes, math == LaneMath::kVector ? 1 : 0);
}

namespace internal {
std::string CheckNativeModule(const std::string& path) { return LoadModule(path).error; }
}  // namespace internal

}  // namespace soma::expr
