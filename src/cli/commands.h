#pragma once
// Subcommands of the `soma` CLI. Each Add*Command registers its options and
// a callback; the callback records the process exit code (0 success,
// 1 bad input or failure, 2 usage error).

#include <string_view>

namespace CLI {
class App;
}

namespace soma::server {
struct ClientTarget;
}

namespace soma::cli {

inline constexpr std::string_view kVersion = "soma 0.1.0";

void AddSimulateCommand(CLI::App& app);
void AddCheckCommand(CLI::App& app);
void AddFbaCommand(CLI::App& app);
void AddSteadyStateCommand(CLI::App& app);
void AddSensitivityCommand(CLI::App& app);
void AddScenarioCommand(CLI::App& app);
void AddTrialCommand(CLI::App& app);
void AddPetabCommand(CLI::App& app);
void AddServeCommand(CLI::App& app);
void AddRepoCommand(CLI::App& app);
void AddAdminCommand(CLI::App& app);
void AddAuditCommand(CLI::App& app);
void AddTwinCommand(CLI::App& app);

// Options shared by commands that reach a repository: --server/--token
// (token also from SOMA_TOKEN) or --data/--db/--user (defined in
// repo_command.cpp).
void AddConnectionOptions(CLI::App* cmd, server::ClientTarget* target);

// Exit code set by the subcommand that ran.
int ExitCode();
void SetExitCode(int code);

}  // namespace soma::cli
