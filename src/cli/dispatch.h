#pragma once
// The `soma` command is two executables, as git is: `soma`, which links only
// what the model tools and trials need (simulate, check, steady-state,
// sensitivities, fba, scenario, trial) and so loads 12 shared libraries
// instead of 77 (libSBML, SUNDIALS, KLU and GLPK linked from their static
// archives, cmake/dependencies.cmake), and `soma-full` beside it, which has
// every command (server, repository, twins, trials on several MPI ranks,
// PEtab with Ceres). A trial's fixed start (about 90 ms with native code)
// counts against its parallel efficiency; starting `soma-full` alone costs
// about 40 ms of it. `soma` replaces itself with `soma-full` (execv, same
// argv, environment and PID) for any other command line, so users only ever
// type `soma`.

#include <span>
#include <string>
#include <string_view>

namespace soma::cli {

// File name of the full binary, looked up in the directory of the running
// `soma` executable (never on PATH).
inline constexpr std::string_view kFullBinaryName = "soma-full";

// True for the subcommands the light binary registers (AddLightCommands).
bool IsLightCommand(std::string_view subcommand);

// True when the light binary can run `argv` (argc entries, argv[0] the
// program) itself. The subcommand is the first argument that does not start
// with '-' (the top-level options, --help/-h and --version, take no values).
// Light: a light subcommand with no --help/-h before it, or no subcommand and
// no --help/-h (`soma --version`; `soma` alone, a usage error that both
// binaries report alike). Everything else goes to the full binary: `soma
// --help`, so that it lists every command; heavy subcommands; and unknown
// ones, so that their error is CLI11's, as before the split; a light
// subcommand with a zip file (a COMBINE/OMEX model archive) among its
// arguments, since only the full binary links the zip reader; and `trial`
// in a process an MPI launcher started (ensemble/mpi_launcher.h), since only
// the full binary links MPI.
bool RunsInLightBinary(std::span<const char* const> argv);

// Whether the file at `path` starts as a zip archive does ("PK\3\4").
bool IsZipFile(const char* path);

// `soma-full` in the directory of `self_exe` (the light binary's path).
std::string FullBinaryPath(std::string_view self_exe);

// Replaces this process with the full binary next to /proc/self/exe (so a
// symlink to `soma` elsewhere still finds it), argv unchanged (usage lines
// still read argv[0], e.g. `soma serve`). Call from main before starting
// threads. Returns only on failure, after printing an error naming the path
// to stderr (e.g. "soma: this command needs /x/soma-full, which is
// missing"); the result is then the exit code (1).
int ExecFullBinary(char** argv);

}  // namespace soma::cli
