#include "cli/dispatch.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "ensemble/mpi_launcher.h"

namespace soma::cli {

namespace {

constexpr std::array<std::string_view, 7> kLightCommands = {
    "simulate", "check", "steady-state", "sensitivities", "fba", "scenario", "trial"};

// Light commands that run on several processes under an MPI launcher: only
// the full binary links MPI.
constexpr std::array<std::string_view, 1> kMpiCommands = {"trial"};

}  // namespace

bool IsLightCommand(std::string_view subcommand) {
  return std::find(kLightCommands.begin(), kLightCommands.end(), subcommand) !=
         kLightCommands.end();
}

bool IsZipFile(const char* path) {
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return false;
  char magic[4] = {};
  const size_t n = std::fread(magic, 1, sizeof magic, f);
  std::fclose(f);
  return n == 4 && std::memcmp(magic, "PK\x03\x04", 4) == 0;
}

bool RunsInLightBinary(std::span<const char* const> argv) {
  for (size_t i = 1; i < argv.size(); ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return false;
    if (arg == "--") return true;  // no subcommand follows; CLI11 reports the misuse
    if (arg.empty() || arg[0] != '-') {
      if (!IsLightCommand(arg)) return false;
      if (std::find(kMpiCommands.begin(), kMpiCommands.end(), arg) != kMpiCommands.end() &&
          ensemble::StartedByMpiLauncher()) {
        return false;
      }
      // A model archive among the arguments needs the zip reader.
      for (size_t j = i + 1; j < argv.size(); ++j) {
        std::error_code ec;
        if (argv[j][0] != '-' && std::filesystem::is_regular_file(argv[j], ec) && IsZipFile(argv[j])) return false;
      }
      return true;
    }
  }
  return true;
}

std::string FullBinaryPath(std::string_view self_exe) {
  return (std::filesystem::path(self_exe).parent_path() / kFullBinaryName).string();
}

int ExecFullBinary(char** argv) {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    std::fprintf(stderr, "soma: cannot find the running executable (/proc/self/exe: %s)\n",
                 ec.message().c_str());
    return 1;
  }
  std::string full = FullBinaryPath(self.string());
  execv(full.c_str(), argv);
  int err = errno;
  if (err == ENOENT) {
    std::fprintf(stderr,
                 "soma: this command needs %s, which is missing (build it with "
                 "`ninja soma-full`, or install it beside %s)\n",
                 full.c_str(), self.c_str());
  } else {
    std::fprintf(stderr, "soma: cannot run %s: %s\n", full.c_str(), std::strerror(err));
  }
  return 1;
}

}  // namespace soma::cli
