// The `soma` command. Each subcommand is a thin layer over library calls.
//
// Built twice (src/cli/CMakeLists.txt, cli/dispatch.h): as `soma-full` with
// SOMA_CLI_FULL, which registers every command, and as the light `soma`,
// which registers the light commands and hands every other command line to
// `soma-full` before parsing.

#include <CLI/CLI.hpp>

#include <iostream>
#include <new>

#include <span>
#include <string>

#include "cli/commands.h"
#include "cli/dispatch.h"
#ifdef SOMA_CLI_FULL
#include "formats/omex/omex.h"
#include "formats/sbml/sbml_import.h"
#endif

namespace {

// Model tools and trials: libSBML, SUNDIALS, GLPK; no server, MPI or Ceres.
// Keep in step with IsLightCommand (cli/dispatch.cpp).
void AddLightCommands(CLI::App& app) {
  soma::cli::AddSimulateCommand(app);
  soma::cli::AddCheckCommand(app);
  soma::cli::AddFbaCommand(app);
  soma::cli::AddSteadyStateCommand(app);
  soma::cli::AddSensitivityCommand(app);
  soma::cli::AddScenarioCommand(app);
  soma::cli::AddTrialCommand(app);
}

#ifdef SOMA_CLI_FULL
void AddFullOnlyCommands(CLI::App& app) {
  soma::cli::AddPetabCommand(app);
  soma::cli::AddServeCommand(app);
  soma::cli::AddRepoCommand(app);
  soma::cli::AddAdminCommand(app);
  soma::cli::AddAuditCommand(app);
  soma::cli::AddTwinCommand(app);
}
#endif

}  // namespace

int main(int argc, char** argv) {
#ifndef SOMA_CLI_FULL
  if (!soma::cli::RunsInLightBinary(std::span<const char* const>(argv, argc))) {
    return soma::cli::ExecFullBinary(argv);
  }
#endif
#ifdef SOMA_CLI_FULL
  // Model files may be COMBINE/OMEX archives (libzip is linked here only;
  // the light binary hands such command lines over, cli/dispatch.h).
  soma::formats::SetModelArchiveReader(&soma::formats::ExtractModelArchive);
#endif
  CLI::App app{"Soma: simulation platform for digital twins in healthcare"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(soma::cli::kVersion));
  AddLightCommands(app);
#ifdef SOMA_CLI_FULL
  AddFullOnlyCommands(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2 (CLI11's own
    // codes, 105 for a failed check and so on, say nothing to scripts).
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const std::bad_alloc&) {
    // A result larger than this machine's memory (a table of many output
    // rows and columns, a huge population): a message, not an abort.
    std::cerr << "soma: out of memory: the command needs more memory than this machine has "
                 "(fewer output rows, columns or members?)\n";
    return 1;
  }
  return soma::cli::ExitCode();
}
