// The `soma` command's contract, exercised on the real binary: output shape,
// column selection, errors with a non-zero exit and no partial output.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

CommandResult Soma(const std::string& args) {
  std::string cmd = std::string(SOMA_BINARY) + " " + args + " 2>&1";
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string line;
  while (std::getline(ss, line)) out.push_back(line);
  return out;
}

fs::path TempFile(const std::string& name, const std::string& content) {
  fs::path p = fs::temp_directory_path() / ("soma_cli_test_" + name);
  std::ofstream(p) << content;
  return p;
}

const std::string kModel = std::string(SOMA_SOURCE_DIR) + "/models/bergman-minimal.xml";

TEST(CliTest, SimulatePrintsHeaderAndStepsPlusOneRows) {
  CommandResult r = Soma("simulate " + kModel + " --start 0 --end 60 --steps 6 --vars G,I");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 8u) << r.out;
  EXPECT_EQ(lines[0], "time,G,I");
  EXPECT_EQ(lines[1].substr(0, 2), "0,");
  EXPECT_EQ(lines[7].substr(0, 3), "60,");
  // The insulin bolus at t = 30 adds 50 to I (7 before): the row at t = 30
  // shows the state after the event.
  EXPECT_NE(lines[4].find(",57"), std::string::npos) << lines[4];
}

TEST(CliTest, SimulateSuiteCaseMatchesExpectedResults) {
  const std::string dir = std::string(SOMA_SHARED_DIR) + "/sbml-test-suite/semantic/00002/";
  if (!fs::exists(dir)) GTEST_SKIP() << "no SBML Test Suite";
  CommandResult r = Soma("simulate " + dir + "00002-sbml-l3v2.xml --start 0 --end 5 --steps 50 --vars S1,S2 --amount S1,S2 "
               "--abs 1e-6 --rel 1e-4");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto got = Lines(r.out);
  std::ifstream f(dir + "00002-results.csv");
  std::string line;
  std::getline(f, line);
  size_t row = 1;
  while (std::getline(f, line)) {
    ASSERT_LT(row, got.size());
    double e[3], x[3];
    ASSERT_EQ(std::sscanf(line.c_str(), "%lf,%lf,%lf", &e[0], &e[1], &e[2]), 3);
    ASSERT_EQ(std::sscanf(got[row].c_str(), "%lf,%lf,%lf", &x[0], &x[1], &x[2]), 3);
    for (int k = 0; k < 3; ++k) // The case's own tolerances (00002-settings.txt).
      EXPECT_LE(std::abs(x[k] - e[k]), 1e-6 + 1e-4 * std::abs(e[k])) << "row " << row;
    ++row;
  }
  EXPECT_EQ(row, got.size());
}

TEST(CliTest, JsonOutputToFile) {
  fs::path out = fs::temp_directory_path() / "soma_cli_test_out.json";
  fs::remove(out);
  CommandResult r = Soma("simulate " + kModel + " --end 10 --steps 2 --vars G --format json -o " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_NE(ss.str().find("\"columns\""), std::string::npos);
  EXPECT_NE(ss.str().find("\"G\""), std::string::npos);
}

TEST(CliTest, UnknownVariableFailsWithoutOutput) {
  fs::path out = fs::temp_directory_path() / "soma_cli_test_none.csv";
  fs::remove(out);
  CommandResult r = Soma("simulate " + kModel + " --end 10 --steps 2 --vars G,nonexistent -o " + out.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("nonexistent"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliTest, MalformedXmlGivesLineNumbersAndNonZeroExit) {
  fs::path bad = TempFile("bad.xml", "<?xml version=\"1.0\"?>\n<sbml xmlns=\"http://www.sbml.org/sbml/level3/version2/core\" level=\"3\" version=\"2\">\n<model id=\"m\">\n<listOfSpecies>\n</model>\n</sbml>\n");
  CommandResult r = Soma("simulate " + bad.string() + " --end 1 --steps 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("line"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("time,"), std::string::npos) << "no partial output expected: " << r.out;
}

TEST(CliTest, CheckReportsValidModel) {
  CommandResult r = Soma("check " + kModel);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("0 error(s)"), std::string::npos) << r.out;
  CommandResult j = Soma("check --json " + kModel);
  EXPECT_EQ(j.exit_code, 0) << j.out;
  EXPECT_NE(j.out.find("\"errors\": 0"), std::string::npos) << j.out;
}

TEST(CliTest, BadOptionsAreUsageErrors) {
  CommandResult r = Soma("simulate " + kModel + " --steps 0");
  EXPECT_NE(r.exit_code, 0);
  CommandResult r2 = Soma("simulate " + kModel + " --end -5 --steps 3");
  EXPECT_EQ(r2.exit_code, 1);
  EXPECT_NE(r2.out.find("SimulationOptions::end"), std::string::npos) << r2.out;
}

}  // namespace
