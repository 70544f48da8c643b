// The SBML Test Suite's semantic cases, run from data through one
// parametrised test. A case must pass, or be unsupported (Soma names the
// construct and skips), or be listed in known_failures.txt with its reason.
// A listed case that passes fails the test, so the list stays honest.

#include <cmath>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <map>
#include <ostream>

#include <gtest/gtest.h>

#include "expr/jit.h"
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
// rules and output interpolation through DormandPrince instead of CVODES. Cases it
// cannot do (stiff ones) are listed with the reason in
// known_failures_rk45.txt.
class SbmlTestSuiteRk45 : public ::testing::TestWithParam<std::string> {};
TEST_P(SbmlTestSuiteRk45, Case) {
  RunAndJudge(GetParam(), solvers::OdeMethod::kRungeKutta, "known_failures_rk45.txt");
}
INSTANTIATE_TEST_SUITE_P(SemanticRk45, SbmlTestSuiteRk45, ::testing::ValuesIn(CaseIds()),
                         [](const auto& info) { return "c" + info.param; });

// Native code (LLVM) on every case: the same numbers as the interpreter,
// bit for bit, at every output (and so the same verdict). One test for all
// cases: as 1274 ctest processes, loading LLVM in each would cost more than
// the comparisons.
TEST(SbmlTestSuiteNative, EveryCaseGivesTheInterpretersNumbers) {
  if (!expr::JitAvailable()) GTEST_SKIP() << "built without LLVM";
  const std::vector<std::string> ids = CaseIds();
  if (ids.front() == "none") GTEST_SKIP() << "no SBML Test Suite at " << kRoot;
  int compared = 0;
  for (const std::string& id : ids) {
    SCOPED_TRACE("case " + id);
    auto info = ReadCase(kRoot / id);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    const CaseOutcome interpreted = RunCase(*info, solvers::OdeMethod::kAuto, false);
    const CaseOutcome native = RunCase(*info, solvers::OdeMethod::kAuto, true);
    EXPECT_EQ(VerdictName(native.verdict), VerdictName(interpreted.verdict)) << native.reason;
    if (native.verdict == Verdict::kUnsupported || native.values.empty()) continue;
    EXPECT_TRUE(native.native_code);
    ASSERT_EQ(native.values.size(), interpreted.values.size());
    for (size_t k = 0; k < native.values.size(); ++k) {
      const double a = native.values[k], b = interpreted.values[k];
      ASSERT_TRUE((std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0)
          << "value " << k << ": native " << a << ", interpreted " << b;
    }
    ++compared;
  }
  EXPECT_GT(compared, 1000);  // the development part has about 1,270 time courses
}

// Every time course again in each other Level/Version the suite writes it
// for, converted by libSBML (strict: conversions that would lose
// information are skipped). The development data holds only each case's
// highest Level/Version; this runs Soma's import of Level 1, Level 2 and
// L3V1 documents (most BioModels entries are L2V4 or L3V1) on the same
// cases. A converted case must give the verdict of the original.
struct LevelVersion {
  int level, version;
  int at_least;  // conversions expected (the development part, libSBML 5.19.7: 194 to L1V2 ... 1068 to L3V1)
};
void PrintTo(const LevelVersion& lv, std::ostream* os) { *os << "L" << lv.level << "V" << lv.version; }
class SbmlTestSuiteLevels : public ::testing::TestWithParam<LevelVersion> {};
TEST_P(SbmlTestSuiteLevels, EveryCaseWrittenForItGivesTheSameVerdict) {
  const auto [level, version, at_least] = GetParam();
  const std::vector<std::string> ids = CaseIds();
  if (ids.front() == "none") GTEST_SKIP() << "no SBML Test Suite at " << kRoot;
  int ran = 0, not_convertible = 0;
  for (const std::string& id : ids) {
    auto info = ReadCase(kRoot / id);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    if (info->test_type != "TimeCourse") continue;
    const auto others = OtherLevels(*info);
    if (std::find(others.begin(), others.end(), std::make_pair(level, version)) == others.end()) continue;
    SCOPED_TRACE("case " + id);
    Result<std::string> sbml = ConvertModel(*info, level, version);
    if (!sbml.ok()) {
      ASSERT_EQ(sbml.status().code(), ErrorCode::kUnsupported) << sbml.status().ToString();
      ++not_convertible;
      continue;
    }
    const CaseOutcome original = RunCase(*info);
    const CaseOutcome converted = RunCase(*info, solvers::OdeMethod::kAuto, false, &*sbml);
    EXPECT_STREQ(VerdictName(converted.verdict), VerdictName(original.verdict)) << converted.reason;
    ++ran;
  }
  std::printf("L%dV%d: %d cases converted and run, %d that libSBML cannot convert without loss\n", level, version,
              ran, not_convertible);
  EXPECT_GE(ran, at_least);
}
INSTANTIATE_TEST_SUITE_P(Semantic, SbmlTestSuiteLevels,
                         ::testing::Values(LevelVersion{1, 2, 190}, LevelVersion{2, 1, 700}, LevelVersion{2, 2, 800},
                                           LevelVersion{2, 3, 850}, LevelVersion{2, 4, 850},
                                           LevelVersion{2, 5, 800}, LevelVersion{3, 1, 1050}),
                         [](const auto& info) {
                           return "L" + std::to_string(info.param.level) + "V" + std::to_string(info.param.version);
                         });

}  // namespace
}  // namespace soma::suite
