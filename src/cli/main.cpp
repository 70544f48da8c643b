// The `soma` command. Each subcommand is a thin layer over library calls.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Soma: simulation platform for digital twins in healthcare"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(soma::cli::kVersion));
  soma::cli::AddSimulateCommand(app);
  soma::cli::AddCheckCommand(app);
  soma::cli::AddFbaCommand(app);
  soma::cli::AddSteadyStateCommand(app);
  soma::cli::AddSensitivityCommand(app);
  soma::cli::AddServeCommand(app);
  soma::cli::AddRepoCommand(app);
  soma::cli::AddAdminCommand(app);
  soma::cli::AddAuditCommand(app);
  soma::cli::AddTwinCommand(app);
  soma::cli::AddScenarioCommand(app);
  soma::cli::AddTrialCommand(app);
  soma::cli::AddPetabCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return soma::cli::ExitCode();
}
