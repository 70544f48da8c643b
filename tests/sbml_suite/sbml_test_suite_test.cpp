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

std::map<std::string, std::string> KnownFailures() {
  std::map<std::string, std::string> out;
  std::ifstream f(SOMA_SOURCE_DIR "/tests/sbml_suite/known_failures.txt");
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

class SbmlTestSuite : public ::testing::TestWithParam<std::string> {};

TEST_P(SbmlTestSuite, Case) {
  if (GetParam() == "none") GTEST_SKIP() << "no SBML Test Suite at " << kRoot;
  auto info = ReadCase(kRoot / GetParam());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  CaseOutcome out = RunCase(*info);
  static const auto known = KnownFailures();
  auto listed = known.find(GetParam());
  if (out.verdict == Verdict::kUnsupported) GTEST_SKIP() << "unsupported: " << out.reason;
  if (listed != known.end()) {
    if (out.verdict == Verdict::kPass) {
      FAIL() << "case " << GetParam() << " now passes: remove it from known_failures.txt";
    }
    GTEST_SKIP() << "known failure (" << listed->second << "): " << out.reason;
  }
  EXPECT_EQ(out.verdict, Verdict::kPass) << VerdictName(out.verdict) << ": " << out.reason;
}

INSTANTIATE_TEST_SUITE_P(Semantic, SbmlTestSuite, ::testing::ValuesIn(CaseIds()),
                         [](const auto& info) { return "c" + info.param; });

}  // namespace
}  // namespace soma::suite
