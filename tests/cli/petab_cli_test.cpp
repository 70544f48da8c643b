// `soma petab simulate|fit|profile`: the contract automated checks rely on (the last
// line of standard output is "nllh: VALUE"; errors exit non-zero).

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../run_command.h"

namespace {

namespace fs = std::filesystem;

using StdoutRun = soma::test::CommandResult;

// Standard output only.
StdoutRun SomaStdout(const std::string& args) {
  return soma::test::RunShell(std::string(SOMA_BINARY) + " " + args + " 2>/dev/null");
}

std::string LastLine(const std::string& s) {
  std::stringstream ss(s);
  std::string line, last;
  while (std::getline(ss, line))
    if (!line.empty()) last = line;
  return last;
}

const fs::path kBoehm = fs::path(SOMA_SHARED_DIR) / "petab" / "Boehm_JProteomeRes2014" / "Boehm_JProteomeRes2014.yaml";

TEST(PetabCli, SimulateWritesTableAndPrintsNllhLast) {
  const fs::path out = fs::temp_directory_path() / "soma_petab_cli_sim.tsv";
  StdoutRun r = SomaStdout("petab simulate " + kBoehm.string() + " -o " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string last = LastLine(r.out);
  ASSERT_EQ(last.rfind("nllh: ", 0), 0u) << r.out;
  // Reference: 138.2219997 from the collection's simulated table (tests/petab).
  EXPECT_NEAR(std::stod(last.substr(6)), 138.2219997, 1e-3);
  std::ifstream in(out);
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header.substr(header.rfind('\t') + 1), "simulation");
  EXPECT_NE(header.find("measurement\t"), std::string::npos);
  int rows = 0;
  while (std::getline(in, line)) rows += !line.empty();
  EXPECT_EQ(rows, 48);
  fs::remove(out);
}

TEST(PetabCli, FitPrintsReportThenNllhLast) {
  StdoutRun r = SomaStdout("petab fit " + kBoehm.string() + " --starts 1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Estimation: "), std::string::npos);
  const std::string last = LastLine(r.out);
  ASSERT_EQ(last.rfind("nllh: ", 0), 0u) << r.out;
  EXPECT_LE(std::stod(last.substr(6)), 138.2219997 + 1e-3);
}

TEST(PetabCli, FitWithATimeLimitReportsTheBestPointSoFar) {
  // A limit spent before the first iteration ends: start 1 keeps its start
  // point (the nominal values, nllh 138.222), the other starts do not run.
  StdoutRun r = SomaStdout("petab fit " + kBoehm.string() + " --starts 3 --max-time 0.000001");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("(time limit)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 not run (time limit)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0 iterations"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(stopped by the time limit)"), std::string::npos) << r.out;
  const std::string last = LastLine(r.out);
  ASSERT_EQ(last.rfind("nllh: ", 0), 0u) << r.out;
  EXPECT_NEAR(std::stod(last.substr(6)), 138.2219997, 1e-3);
  StdoutRun bad = SomaStdout("petab fit " + kBoehm.string() + " --max-time -1");
  EXPECT_NE(bad.exit_code, 0);
}

TEST(PetabCli, ProfileWritesPointsAndAPlotThenNllhLast) {
  const fs::path dir = fs::temp_directory_path() / ("soma_petab_profile_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  StdoutRun r = SomaStdout("petab profile " + kBoehm.string() + " --starts 1 --parameters k_exp_homo -o " +
                           (dir / "p.tsv").string() + " --plot " + (dir / "p.svg").string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Profile likelihood"), std::string::npos) << r.out;
  const std::string last = LastLine(r.out);
  ASSERT_EQ(last.rfind("nllh: ", 0), 0u) << r.out;
  // The points: the estimate (delta 0) and, on both sides, a point above
  // the 95 % threshold chi2_1(0.95) / 2 = 1.92 (k_exp_homo is identifiable).
  std::ifstream tsv(dir / "p.tsv");
  std::string line;
  std::getline(tsv, line);
  EXPECT_EQ(line.rfind("parameterId\tvalue\tobjective\tdeltaObjective\tthreshold\tconverged\t", 0), 0u) << line;
  std::vector<std::pair<double, double>> points;  // value, delta
  while (std::getline(tsv, line)) {
    std::stringstream ss(line);
    std::string id, value, objective, delta;
    std::getline(ss, id, '\t');
    std::getline(ss, value, '\t');
    std::getline(ss, objective, '\t');
    std::getline(ss, delta, '\t');
    EXPECT_EQ(id, "k_exp_homo");
    points.emplace_back(std::stod(value), std::stod(delta));
  }
  ASSERT_GE(points.size(), 5u);
  EXPECT_GT(points.front().second, 1.92);
  EXPECT_GT(points.back().second, 1.92);
  double min_delta = 1e300;
  for (const auto& [v, d] : points) min_delta = std::min(min_delta, d);
  EXPECT_EQ(min_delta, 0.0);
  std::ifstream svg(dir / "p.svg");
  std::string picture((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  EXPECT_EQ(picture.rfind("<svg", 0), 0u);
  EXPECT_NE(picture.find("k_exp_homo"), std::string::npos);
  EXPECT_NE(picture.find("<polyline"), std::string::npos);
  // An unknown parameter is named in the error.
  const std::string cmd = std::string(SOMA_BINARY) + " petab profile " + kBoehm.string() +
                          " --starts 1 --parameters nope 2>&1 >/dev/null";
  soma::test::CommandResult bad = soma::test::RunShell(cmd);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("'nope' is not an estimated parameter"), std::string::npos) << bad.out;
  fs::remove_all(dir);
}

TEST(PetabCli, UnsupportedAndMissingProblemsFailWithAMessage) {
  // PEtab v2 is not supported: Boehm's problem relabelled as version 2.
  const fs::path boehm = fs::path(SOMA_SHARED_DIR) / "petab" / "Boehm_JProteomeRes2014";
  const fs::path dir = fs::temp_directory_path() / ("soma_petab_v2_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(boehm))
    if (e.is_regular_file()) fs::copy_file(e.path(), dir / e.path().filename(), fs::copy_options::overwrite_existing);
  const fs::path yaml = dir / "Boehm_JProteomeRes2014.yaml";
  std::ifstream in(yaml);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const size_t at = text.find("format_version: 1");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, 17, "format_version: 2");
  std::ofstream(yaml) << text;
  const std::string cmd = std::string(SOMA_BINARY) + " petab simulate " + yaml.string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string all;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) all.append(buf, n);
  const int status = pclose(p);
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_NE(all.find("unsupported"), std::string::npos) << all;
  EXPECT_NE(all.find("format_version '2'"), std::string::npos) << all;
  fs::remove_all(dir);
  EXPECT_NE(SomaStdout("petab simulate /nonexistent/problem.yaml").exit_code, 0);
}

}  // namespace
