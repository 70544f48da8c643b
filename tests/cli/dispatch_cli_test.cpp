// The light `soma` and `soma-full` (src/cli/dispatch.h) act as one command:
// help lists every command under the name the user typed, heavy commands run
// through the light binary, and a missing `soma-full` is an error naming it.

#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "../run_command.h"

namespace {

namespace fs = std::filesystem;

using Output = soma::test::CommandResult;

// stdout and stderr together.
Output Shell(const std::string& cmd) { return soma::test::RunShell(cmd + " 2>&1"); }

Output Soma(const std::string& args) { return Shell(std::string(SOMA_BINARY) + " " + args); }

const std::string kModel = std::string(SOMA_SOURCE_DIR) + "/models/bergman-minimal.xml";

TEST(CliDispatchTest, TopLevelHelpListsEveryCommandUnderTheTypedName) {
  Output r = Soma("--help");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Usage: " + std::string(SOMA_BINARY) + " [OPTIONS] SUBCOMMAND"), std::string::npos)
      << r.out;
  for (const char* c : {"simulate", "check", "fba", "steady-state", "sensitivities", "scenario", "trial",
                        "petab", "serve", "repo", "admin", "audit", "twin"}) {
    EXPECT_NE(r.out.find(std::string("\n  ") + c + " "), std::string::npos) << c << "\n" << r.out;
  }
}

TEST(CliDispatchTest, HeavyCommandsRunThroughTheLightBinary) {
  Output r = Soma("serve --help");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Usage: " + std::string(SOMA_BINARY) + " serve [OPTIONS]"), std::string::npos) << r.out;
  r = Soma("petab simulate /nonexistent/problem.yaml");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("/nonexistent/problem.yaml"), std::string::npos) << r.out;
}

TEST(CliDispatchTest, VersionAndUsageErrorsAsBefore) {
  Output r = Soma("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "soma 0.1.0\n");
  for (const char* args : {"", "frobnicate", "--bogus"}) {
    r = Soma(args);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_NE(r.out.find("Run with --help for more information."), std::string::npos) << args << ": " << r.out;
  }
}

TEST(CliDispatchTest, MissingFullBinaryIsAnErrorNamingIt) {
  fs::path dir = fs::temp_directory_path() / "soma_dispatch_cli_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(SOMA_BINARY, dir / "soma");
  const std::string light = (dir / "soma").string();
  Output r = Shell(light + " serve --help");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find((dir / "soma-full").string() + ", which is missing"), std::string::npos) << r.out;
  // The light commands do not need it.
  r = Shell(light + " simulate " + kModel + " --end 10 --steps 2 --vars G");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.substr(0, 7), "time,G\n") << r.out;
  fs::remove_all(dir);
}

TEST(CliDispatchTest, LightBinaryLoadsNoServerMpiOrOptimiserLibraries) {
  Output r = Shell("ldd " + std::string(SOMA_BINARY));
  ASSERT_EQ(r.exit_code, 0) << "ldd is needed for this test: " << r.out;
  for (const char* lib : {"libmpi", "libceres", "libssl", "libcrypto", "libpq", "libcpp-httplib", "libglog",
                          "liblapack", "libatlas", "libyaml-cpp", "libgfortran"}) {
    EXPECT_EQ(r.out.find(lib), std::string::npos) << lib << " is linked into the light soma:\n" << r.out;
  }
}

}  // namespace
