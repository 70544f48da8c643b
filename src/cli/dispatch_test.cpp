#include "cli/dispatch.h"

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <stdlib.h>

namespace soma::cli {
namespace {

bool Light(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"soma"};
  argv.insert(argv.end(), args);
  return RunsInLightBinary(argv);
}

TEST(CliDispatch, LightCommandsRunInTheLightBinary) {
  for (const char* c : {"simulate", "check", "steady-state", "sensitivities", "fba", "scenario", "trial"}) {
    EXPECT_TRUE(IsLightCommand(c)) << c;
    EXPECT_TRUE(Light({c, "model.xml", "--end", "10"})) << c;
    EXPECT_TRUE(Light({c, "--help"})) << c;  // the command's own help
  }
}

// Only the full binary links the zip reader: a light command with a model
// archive among its arguments is handed over; other files stay light.
TEST(CliDispatch, ModelArchivesGoToTheFullBinary) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string zip = (dir / "soma_dispatch_test.omex").string();
  const std::string xml = (dir / "soma_dispatch_test.xml").string();
  std::ofstream(zip, std::ios::binary) << std::string("PK\x03\x04rest of a zip", 18);
  std::ofstream(xml) << "<?xml version=\"1.0\"?><sbml/>";
  EXPECT_TRUE(IsZipFile(zip.c_str()));
  EXPECT_FALSE(IsZipFile(xml.c_str()));
  EXPECT_FALSE(IsZipFile("/no/such/file"));
  EXPECT_FALSE(Light({"simulate", zip.c_str(), "--end", "10"}));
  EXPECT_FALSE(Light({"scenario", "run", "s.json", "--model", zip.c_str()}));
  EXPECT_TRUE(Light({"simulate", xml.c_str(), "--end", "10"}));
  EXPECT_TRUE(Light({"simulate", "/no/such/model.omex"}));  // the light binary reports it missing
}

TEST(CliDispatch, OtherCommandsGoToTheFullBinary) {
  for (const char* c : {"serve", "repo", "admin", "audit", "twin", "petab"}) {
    EXPECT_FALSE(IsLightCommand(c)) << c;
    EXPECT_FALSE(Light({c, "--help"})) << c;
  }
  EXPECT_FALSE(Light({"petab", "fit", "p.yaml", "--model", "simulate"}));
}

// Trials run in the light binary, unless an MPI launcher started the
// process: several ranks need the full binary, which links MPI.
TEST(CliDispatch, TrialsUnderAnMpiLauncherGoToTheFullBinary) {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) ASSERT_EQ(unsetenv(var), 0);
  EXPECT_TRUE(Light({"trial", "run", "t.json", "--model", "m.xml", "--threads", "2"}));
  EXPECT_TRUE(Light({"trial", "status", "out"}));
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
    SCOPED_TRACE(var);
    ASSERT_EQ(setenv(var, "2", 1), 0);
    EXPECT_FALSE(Light({"trial", "run", "t.json", "--model", "m.xml"}));
    EXPECT_TRUE(Light({"simulate", "m.xml", "--end", "10"}));  // other light commands stay light
    ASSERT_EQ(unsetenv(var), 0);
  }
  EXPECT_TRUE(Light({"trial", "run", "t.json", "--model", "m.xml"}));
}

TEST(CliDispatch, OptionsBeforeTheSubcommandAreSkipped) {
  EXPECT_TRUE(Light({"--version", "simulate", "m.xml"}));
  EXPECT_FALSE(Light({"--version", "serve"}));
  EXPECT_TRUE(Light({"--unknown-flag", "check", "m.xml"}));
}

TEST(CliDispatch, TopLevelHelpListsEveryCommandSoGoesToTheFullBinary) {
  EXPECT_FALSE(Light({"--help"}));
  EXPECT_FALSE(Light({"-h"}));
  EXPECT_FALSE(Light({"--version", "--help"}));
  // Help before a light subcommand is the top-level help too.
  EXPECT_FALSE(Light({"--help", "simulate"}));
  EXPECT_FALSE(Light({"-h", "simulate"}));
}

TEST(CliDispatch, NoSubcommandStaysLight) {
  EXPECT_TRUE(Light({}));
  EXPECT_TRUE(Light({"--version"}));
  EXPECT_TRUE(Light({"--", "simulate"}));  // after "--" nothing is a subcommand
  EXPECT_TRUE(RunsInLightBinary(std::vector<const char*>{}));
}

TEST(CliDispatch, UnknownSubcommandsGoToTheFullBinary) {
  EXPECT_FALSE(IsLightCommand("simulat"));
  EXPECT_FALSE(IsLightCommand(""));
  EXPECT_FALSE(Light({"frobnicate"}));
  EXPECT_FALSE(Light({""}));
  EXPECT_FALSE(Light({"Simulate"}));
}

TEST(CliDispatch, FullBinaryIsBesideTheRunningExecutable) {
  EXPECT_EQ(FullBinaryPath("/opt/soma/bin/soma"), "/opt/soma/bin/soma-full");
  EXPECT_EQ(FullBinaryPath("/tmp/copy/soma"), "/tmp/copy/soma-full");
}

}  // namespace
}  // namespace soma::cli
