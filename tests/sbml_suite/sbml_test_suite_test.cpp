// The SBML Test Suite's semantic cases, run from data through one
// parametrised test. A case must pass, or be unsupported (Soma names the
// construct and skips), or be listed in known_failures.txt with its reason.
// A listed case that passes fails the test, so the list stays honest.

#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "suite_case.h"

namespace soma::suite {
namespace {

const std::filesystem::path kRoot = SOMA_SHARED_DIR "/sbml-test-suite/semantic";

std::map<std::string, std::string> KnownFailures(const char* file) {
  std::map<std::string, std::string> out;
  std::ifstream f(std::string(SOMA_SOURCE_DIR "/tests/sbml_suite/") + file);
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.find(' ');
    out[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
  }
  return out;
}

std::vector<std::string> CaseIds() {
  std::vector<std::string> ids;
  for (const auto& p : ListCases(kRoot)) ids.push_back(p.filename().string());
  if (ids.empty()) ids.push_back("none");  // keeps the suite instantiated without data
  return ids;
}

void RunAndJudge(const std::string& id, solvers::OdeMethod method, const char* known_file) {
  if (id == "none") GTEST_SKIP() << "no SBML Test Suite at " << kRoot;
  auto info = ReadCase(kRoot / id);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  CaseOutcome out = RunCase(*info, method);
  // Each list is read once per test binary, not once per case.
  static std::map<std::string, std::map<std::string, std::string>> lists;
  auto list = lists.find(known_file);
  if (list == lists.end()) list = lists.emplace(known_file, KnownFailures(known_file)).first;
  const auto& known = list->second;
  auto listed = known.find(id);
  if (out.verdict == Verdict::kUnsupported) GTEST_SKIP() << "unsupported: " << out.reason;
  if (listed != known.end()) {
    if (out.verdict == Verdict::kPass) FAIL() << "case " << id << " now passes: remove it from " << known_file;
    GTEST_SKIP() << "known failure (" << listed->second << "): " << out.reason;
  }
  EXPECT_EQ(out.verdict, Verdict::kPass) << VerdictName(out.verdict) << ": " << out.reason;
}

// The default method (auto: Adams, BDF once stiff): the suite's verdicts.
class SbmlTestSuite : public ::testing::TestWithParam<std::string> {};
TEST_P(SbmlTestSuite, Case) { RunAndJudge(GetParam(), solvers::OdeMethod::kAuto, "known_failures.txt"); }
INSTANTIATE_TEST_SUITE_P(Semantic, SbmlTestSuite, ::testing::ValuesIn(CaseIds()),
                         [](const auto& info) { return "c" + info.param; });

// The explicit Runge-Kutta method (rk45) on every case: the same events,
// rules and output interpolation through ARKODE instead of CVODES. Cases it
// cannot do (stiff ones) are listed with the reason in
// known_failures_rk45.txt.
class SbmlTestSuiteRk45 : public ::testing::TestWithParam<std::string> {};
TEST_P(SbmlTestSuiteRk45, Case) {
  RunAndJudge(GetParam(), solvers::OdeMethod::kRungeKutta, "known_failures_rk45.txt");
}
INSTANTIATE_TEST_SUITE_P(SemanticRk45, SbmlTestSuiteRk45, ::testing::ValuesIn(CaseIds()),
                         [](const auto& info) { return "c" + info.param; });

}  // namespace
}  // namespace soma::suite
