#include "scenario/decay_sbml_test_util.h"
#include "scenario/trial.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

#include "expr/jit.h"
#include "formats/sbml/sbml_import.h"
#include "sim/options.h"

namespace soma::scenario {
namespace {

// dX/dt = -k X with X(0) = 0 and a unit bolus at t = 0: X = exp(-k t).
const std::string kDecay = testing::DecaySbml();

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

nlohmann::json Scenario(const std::string& name, double dose) {
  return {{"name", name}, {"end", 10}, {"steps", 1000}, {"outputs", {"X"}},
          {"interventions", {{{"type", "bolus"}, {"target", "X"}, {"amount", dose}, {"time", 0}}}},
          {"outcomes", {{{"name", "x5"}, {"variable", "X"}, {"metric", "value_at"}, {"at", 5}},
                        {{"name", "auc"}, {"variable", "X"}, {"metric", "auc"}}}}};
}

class TrialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto imported = formats::ParseSbml(kDecay);
    ASSERT_TRUE(imported.ok());
    model_ = imported->model;
    sim_.integrator.rel_tol = 1e-10;
    sim_.integrator.abs_tol = 1e-12;
  }
  model::Model model_;
  sim::SimulationOptions sim_;
};

TEST_F(TrialTest, MembersMatchTheirAnalyticOutcomesWhateverTheThreadCount) {
  nlohmann::json j = {
      {"name", "decay trial"},
      {"scenarios", {Scenario("dose 1", 1.0), Scenario("dose 2", 2.0)}},
      {"population", {{"size", 40}, {"seed", 3}, {"sampling", "latin_hypercube"},
                      {"parameters", {{"k", {{"distribution", "lognormal"}, {"median", 0.5}, {"cv", 0.3}}}}}}}};
  auto trial = ParseTrial(j, ".");
  ASSERT_TRUE(trial.ok()) << trial.status().ToString();
  TrialOptions o;
  o.simulation = sim_;
  o.threads = 1;
  auto one = RunTrialMembers(*trial, model_, o);
  o.threads = 3;
  auto three = RunTrialMembers(*trial, model_, o);
  ASSERT_TRUE(one.ok() && three.ok());
  ASSERT_EQ(one->size(), 40u);
  for (size_t i = 0; i < one->size(); ++i) {
    const MemberResult& r = (*one)[i];
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.outcomes, (*three)[i].outcomes) << "member " << i;  // bitwise identical
    double k = MemberParameters(*trial, r.member)[0].second;
    EXPECT_NEAR(r.outcomes[0][0], std::exp(-5 * k), 1e-8) << "member " << i;
    EXPECT_NEAR(r.outcomes[1][0], 2 * std::exp(-5 * k), 2e-8);
  }
  TrialSummary s = SummariseTrial(*trial, *one);
  EXPECT_EQ(s.members, 40);
  EXPECT_EQ(s.failed, 0);
  ASSERT_EQ(s.differences.size(), 2u);
  // Paired difference dose 2 - dose 1 is each member's dose-1 value.
  // (two separate integrations at rel_tol 1e-10: agreement to ~1e-8)
  EXPECT_NEAR(s.differences[0].mean, s.outcomes[0].mean, 1e-7);
  // The median of k is 0.5 by construction; the band's median at t = 5 sits near exp(-2.5).
  ASSERT_EQ(s.bands.size(), 2u);
  EXPECT_EQ(s.band_variables[0][0], "X");
  EXPECT_NEAR(s.bands[0][0][500][2], std::exp(-2.5), 0.02);
  EXPECT_LT(s.bands[0][0][500][0], s.bands[0][0][500][4]);  // p5 < p95
  std::string csv = MembersCsv(*trial, *one);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "member,name,k,dose 1.x5,dose 1.auc,dose 2.x5,dose 2.auc,error");
  // Every number as printf's %.10g writes it (members.csv) and %.8g (bands.csv).
  auto g = [](double v, int precision) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    return std::string(buf);
  };
  const MemberResult& m7 = (*one)[7];
  EXPECT_EQ(Lines(csv)[8], "7,," + g(MemberParameters(*trial, 7)[0].second, 10) + "," + g(m7.outcomes[0][0], 10) +
                               "," + g(m7.outcomes[0][1], 10) + "," + g(m7.outcomes[1][0], 10) + "," +
                               g(m7.outcomes[1][1], 10) + ",");
  const std::string bands = BandsCsv(*trial, s);
  std::string row = "dose 1,X," + g(s.times[500], 8);
  for (double v : s.bands[0][0][500]) row += "," + g(v, 8);
  EXPECT_EQ(Lines(bands)[501], row);
  EXPECT_EQ(Lines(bands)[0], "scenario,variable,time,p5,p25,p50,p75,p95");
  // ... and bands that do not depend on the threads that computed them.
  const TrialSummary two = SummariseTrial(*trial, *one, 3);
  EXPECT_EQ(BandsCsv(*trial, two), bands);
}

// The T1D standard day as a trial on `size` members drawn by `sampling`,
// each of `parameters` log-normal around the model's default adult with
// coefficient of variation `cv`.
Result<Trial> T1dDayTrial(const std::string& name, int size, int seed, const std::string& sampling, double cv,
                          const std::vector<std::string>& parameters) {
  const std::map<std::string, double> medians = {{"Vmx", 0.031319}, {"kp3", 0.01208}, {"m30", 0.23169}};
  nlohmann::json varied = nlohmann::json::object();
  for (const std::string& p : parameters) {
    varied[p] = {{"distribution", "lognormal"}, {"median", medians.at(p)}, {"cv", cv}};
  }
  nlohmann::json j = {
      {"name", name},
      {"scenarios", {std::string(SOMA_SOURCE_DIR) + "/scenarios/t1d-standard-day.json"}},
      {"population", {{"size", size}, {"seed", seed}, {"sampling", sampling}, {"parameters", varied}}}};
  return ParseTrial(j, ".");
}

TEST(TrialLanesTest, MembersInLanesGetTheBitsOfMembersRunAlone) {
  // The T1D standard day on 24 members (Vmx, kp3, m30 varied), native code,
  // 2 threads: with exact lanes (each thread switching between 4 members'
  // fibers and making their step attempts 4 at a time, tanh per lane with
  // the scalar function) every member's outcomes and series are bit for bit
  // those without.
  auto imported = formats::LoadSbmlFile(std::string(SOMA_SOURCE_DIR) + "/models/t1d-uva-padova.xml");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  auto trial = T1dDayTrial("lanes", 24, 5, "latin_hypercube", 0.3, {"Vmx", "kp3", "m30"});
  ASSERT_TRUE(trial.ok()) << trial.status().ToString();
  TrialOptions o;
  o.simulation.integrator = sim::IntegratorOptionsForAccuracy(1e-6, 1e-6);
  o.threads = 2;
  o.native_code_simulations = 0;
  o.lanes = 0;
  auto alone = RunTrialMembers(*trial, imported->model, o);
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  std::atomic<long> batches{0};
  o.lanes = 4;
  o.exact_lanes = true;
  o.lane_batches = &batches;
  auto in_lanes = RunTrialMembers(*trial, imported->model, o);
  ASSERT_TRUE(in_lanes.ok()) << in_lanes.status().ToString();
  if (batches.load() == 0) {
    ASSERT_FALSE(expr::JitAvailable()) << "the trial did not run in lanes";
    GTEST_SKIP() << "built without LLVM: no lanes";
  }
  EXPECT_GT(batches.load(), 24 * 300);  // about 1,190 attempts per member, up to 4 per batch
  ASSERT_EQ(alone->size(), in_lanes->size());
  auto same = [](const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
  };
  for (size_t i = 0; i < alone->size(); ++i) {
    const MemberResult &a = (*alone)[i], &b = (*in_lanes)[i];
    ASSERT_TRUE(a.ok && b.ok) << a.error << b.error;
    ASSERT_EQ(a.member, b.member);
    ASSERT_EQ(a.outcomes.size(), 1u);
    EXPECT_TRUE(same(a.outcomes[0], b.outcomes[0])) << "member " << a.member;
    ASSERT_EQ(a.series[0].size(), b.series[0].size());
    for (size_t c = 0; c < a.series[0].size(); ++c) EXPECT_TRUE(same(a.series[0][c], b.series[0][c])) << c;
  }
}

TEST(TrialLanesTest, MembersInVectorLanesAgreeWithMembersRunAloneAndDoNotDependOnThreads) {
  // The same day on 40 members with the default lanes' vector tanh
  // (libmvec, within 4 units in the last place of the scalar function):
  // every outcome and output within 1e-9 relative (the integration asks for
  // 1e-6; what differs is rounding) of the members run one at a time, and
  // bit for bit the same with 1 and 2 threads (which members share a batch
  // must not matter).
  auto imported = formats::LoadSbmlFile(std::string(SOMA_SOURCE_DIR) + "/models/t1d-uva-padova.xml");
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  auto trial = T1dDayTrial("vector-lanes", 40, 9, "monte_carlo", 0.4, {"Vmx", "kp3"});
  ASSERT_TRUE(trial.ok()) << trial.status().ToString();
  TrialOptions o;
  o.simulation.integrator = sim::IntegratorOptionsForAccuracy(1e-6, 1e-6);
  o.native_code_simulations = 0;
  o.threads = 1;
  o.lanes = 0;
  auto alone = RunTrialMembers(*trial, imported->model, o);
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  std::atomic<long> batches{0};
  o.lanes = 4;
  o.lane_batches = &batches;
  auto one_thread = RunTrialMembers(*trial, imported->model, o);
  ASSERT_TRUE(one_thread.ok()) << one_thread.status().ToString();
  if (batches.load() == 0) {
    ASSERT_FALSE(expr::JitAvailable()) << "the trial did not run in lanes";
    GTEST_SKIP() << "built without LLVM: no lanes";
  }
  o.threads = 2;
  auto two_threads = RunTrialMembers(*trial, imported->model, o);
  ASSERT_TRUE(two_threads.ok()) << two_threads.status().ToString();
  double worst = 0;
  bool any_bits_differ = false;
  auto compare = [&](const std::vector<double>& a, const std::vector<double>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      worst = std::max(worst, std::abs(a[k] - b[k]) / std::max(std::abs(a[k]), 1e-300));
      any_bits_differ = any_bits_differ || std::memcmp(&a[k], &b[k], sizeof(double)) != 0;
    }
  };
  for (size_t i = 0; i < alone->size(); ++i) {
    const MemberResult &a = (*alone)[i], &b = (*one_thread)[i], &c = (*two_threads)[i];
    ASSERT_TRUE(a.ok && b.ok && c.ok) << a.error << b.error << c.error;
    compare(a.outcomes[0], b.outcomes[0]);
    for (size_t col = 0; col < a.series[0].size(); ++col) compare(a.series[0][col], b.series[0][col]);
    EXPECT_EQ(std::memcmp(b.outcomes[0].data(), c.outcomes[0].data(), b.outcomes[0].size() * sizeof(double)), 0)
        << "member " << b.member << " depends on the thread count";
    for (size_t col = 0; col < b.series[0].size(); ++col) {
      EXPECT_EQ(std::memcmp(b.series[0][col].data(), c.series[0][col].data(), b.series[0][col].size() * sizeof(double)),
                0);
    }
  }
  EXPECT_LT(worst, 1e-9);
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", worst);
  RecordProperty("worst_relative_difference", text);
  // Where the CPU has AVX2 (AutoLanes() >= 4) the vector tanh ran (its last bits differ somewhere).
  if (AutoLanes() >= 4) {
    EXPECT_TRUE(any_bits_differ) << "the lanes did not use the vector functions";
  }
}

// The percentile bands are each row's values sorted, whatever way the
// summary finds that order (it starts from the previous row's order of
// members): bit for bit what sorting each row from scratch gives, for
// trajectories that cross, rows in random order, NaN, failed members and
// series that end early.
TEST_F(TrialTest, BandsAreThePercentilesOfEachRowSorted) {
  nlohmann::json scen = Scenario("s", 1.0);
  scen["steps"] = 200;
  nlohmann::json j = {{"name", "bands"}, {"scenarios", {scen}},
                      {"population", {{"size", 300}, {"seed", 1}, {"parameters", {{"k", {{"distribution", "uniform"},
                                                                                          {"lower", 0.1}, {"upper", 1.0}}}}}}}};
  auto trial = ParseTrial(j, ".");
  ASSERT_TRUE(trial.ok()) << trial.status().ToString();
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<MemberResult> results(300);
  for (int m = 0; m < 300; ++m) {
    MemberResult& r = results[m];
    r.member = m;
    r.ok = m != 7;  // a failed member is left out
    r.outcomes = {{0.0, 0.0}};
    r.columns = {{"smooth", "random"}};
    r.series.assign(1, std::vector<std::vector<double>>(2));
    const size_t rows = m == 9 ? 120 : 201;  // one series ends early: the set of members changes
    for (size_t row = 0; row < rows; ++row) {
      // Trajectories that cross each other now and then, and ties.
      r.series[0][0].push_back(m % 10 == 3 ? 0.5 : std::sin(0.03 * row * (1 + m % 17) + m) * (1 + 0.01 * m));
      r.series[0][1].push_back(u(rng));
    }
  }
  results[11].series[0][0][50] = std::numeric_limits<double>::quiet_NaN();
  const TrialSummary s = SummariseTrial(*trial, results);
  ASSERT_EQ(s.bands.size(), 1u);
  ASSERT_EQ(s.bands[0].size(), 2u);
  for (size_t out = 0; out < 2; ++out) {
    ASSERT_EQ(s.bands[0][out].size(), 201u);
    for (size_t row = 0; row <= 200; ++row) {
      std::vector<double> v;
      for (const MemberResult& r : results) {
        if (r.ok && row < r.series[0][out].size()) v.push_back(r.series[0][out][row]);
      }
      std::sort(v.begin(), v.end());
      ASSERT_EQ(s.bands[0][out][row].size(), trial->percentiles.size());
      for (size_t k = 0; k < trial->percentiles.size(); ++k) {
        const double pos = trial->percentiles[k] / 100.0 * (v.size() - 1);
        const size_t lo = static_cast<size_t>(std::floor(pos)), hi = std::min(lo + 1, v.size() - 1);
        const double want = v[lo] + (pos - lo) * (v[hi] - v[lo]);
        const double got = s.bands[0][out][row][k];
        ASSERT_TRUE(std::memcmp(&want, &got, sizeof want) == 0 || (std::isnan(want) && std::isnan(got)))
            << "output " << out << " row " << row << " p" << trial->percentiles[k] << ": " << got << " vs " << want;
      }
    }
  }
}

// A trial prepared once serves runs of disjoint member sets (MPI rounds)
// with the members' results of one run over all of them, bit for bit.
TEST_F(TrialTest, OnePreparedTrialServesSeveralRunsWithTheResultsOfOne) {
  nlohmann::json j = {
      {"name", "decay trial"},
      {"scenarios", {Scenario("dose 1", 1.0), Scenario("dose 2", 2.0)}},
      {"population", {{"size", 30}, {"seed", 5}, {"sampling", "monte_carlo"},
                      {"parameters", {{"k", {{"distribution", "lognormal"}, {"median", 0.5}, {"cv", 0.3}}}}}}}};
  auto trial = ParseTrial(j, ".");
  ASSERT_TRUE(trial.ok()) << trial.status().ToString();
  TrialOptions o;
  o.simulation = sim_;
  o.threads = 2;
  auto whole = RunTrialMembers(*trial, model_, o);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();

  auto prepared = PreparedTrial::Prepare(*trial, model_);
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  ASSERT_EQ(prepared->scenarios().size(), 2u);
  o.prepared = &*prepared;
  std::vector<MemberResult> parts;
  for (const std::vector<int>& round : {std::vector<int>{0, 2, 4, 29}, std::vector<int>{1, 3, 10, 11, 12}}) {
    o.members = round;
    auto part = RunTrialMembers(*trial, model_, o);
    ASSERT_TRUE(part.ok()) << part.status().ToString();
    ASSERT_EQ(part->size(), round.size());
    for (auto& r : *part) parts.push_back(std::move(r));
  }
  for (const MemberResult& r : parts) {
    const MemberResult& w = (*whole)[static_cast<size_t>(r.member)];
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.outcomes, w.outcomes) << "member " << r.member;
    EXPECT_EQ(r.series, w.series) << "member " << r.member;
  }

  // A varied symbol the model lacks is refused when preparing, by name.
  nlohmann::json bad = j;
  bad["population"]["parameters"] = {{"kk", {{"distribution", "uniform"}, {"lower", 0.1}, {"upper", 1}}}};
  auto bad_trial = ParseTrial(bad, ".");
  ASSERT_TRUE(bad_trial.ok()) << bad_trial.status().ToString();
  auto refused = PreparedTrial::Prepare(*bad_trial, model_);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("kk"), std::string::npos) << refused.status().ToString();
}

// Sharing one compilation per scenario (member values as simulation
// overrides) must give bit for bit what compiling each member's own model
// gives, also for a symbol with an initial assignment (dropped for members),
// a species value and a symbol the scenario itself sets (the scenario wins).
TEST_F(TrialTest, SharedCompilationEqualsPerMemberCompilation) {
  std::string text = kDecay;
  text.replace(text.find("<parameter id=\"k\" value=\"0.5\" constant=\"true\"/>"),
               std::string("<parameter id=\"k\" value=\"0.5\" constant=\"true\"/>").size(),
               "<parameter id=\"k\" value=\"0.5\" constant=\"true\"/><parameter id=\"k0\" value=\"0.7\" constant=\"true\"/>"
               "<parameter id=\"unused\" value=\"1\" constant=\"true\"/>");
  text.replace(text.find("</listOfParameters>"), std::string("</listOfParameters>").size(),
               "</listOfParameters><listOfInitialAssignments><initialAssignment symbol=\"k\">"
               "<math xmlns=\"http://www.w3.org/1998/Math/MathML\"><ci>k0</ci></math></initialAssignment>"
               "</listOfInitialAssignments>");
  auto imported = formats::ParseSbml(text);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  const model::Model m = imported->model;
  nlohmann::json second = Scenario("dose 2", 2.0);
  second["parameters"] = {{"unused", 5.0}};
  nlohmann::json j = {
      {"name", "equivalence"},
      {"scenarios", {Scenario("dose 1", 1.0), second}},
      {"population", {{"size", 12}, {"seed", 9},
                      {"parameters", {{"k", {{"distribution", "lognormal"}, {"median", 0.5}, {"cv", 0.3}}},
                                      {"X", {{"distribution", "uniform"}, {"lower", 0.0}, {"upper", 1.0}}},
                                      {"unused", {{"distribution", "uniform"}, {"lower", 0.0}, {"upper", 1.0}}}}}}}};
  auto trial = ParseTrial(j, ".");
  ASSERT_TRUE(trial.ok()) << trial.status().ToString();
  TrialOptions o;
  o.simulation = sim_;
  o.threads = 2;
  auto shared = RunTrialMembers(*trial, m, o);
  ASSERT_TRUE(shared.ok()) << shared.status().ToString();
  for (int i = 0; i < PopulationSize(*trial); ++i) {
    model::Model own = m;
    for (const auto& [id, v] : MemberParameters(*trial, i)) ASSERT_TRUE(SetInitialValue(own, id, v).ok());
    for (size_t sc = 0; sc < trial->scenarios.size(); ++sc) {
      auto run = RunScenario(trial->scenarios[sc], own, sim_);
      ASSERT_TRUE(run.ok()) << run.status().ToString();
      const MemberResult& r = (*shared)[i];
      ASSERT_TRUE(r.ok) << r.error;
      for (size_t k = 0; k < run->outcomes.size(); ++k) {
        EXPECT_EQ(r.outcomes[sc][k], run->outcomes[k].second) << "member " << i << " scenario " << sc;
      }
      for (size_t row = 0; row < run->trajectory.rows; ++row) {
        ASSERT_EQ(r.series[sc][0][row], run->trajectory.at(row, 1)) << "member " << i << " row " << row;
      }
    }
  }
}

TEST_F(TrialTest, PopulationFromATable) {
  auto dir = std::filesystem::temp_directory_path() / "soma_trial_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "patients.csv") << "Name,kel,BW\npatient#1,0.2,70\npatient#2,1.0,80\n";
  nlohmann::json j = {{"name", "table"}, {"scenarios", {Scenario("dose", 1.0)}},
                      {"population", {{"table", "patients.csv"}, {"columns", {{"kel", "k"}}}}}};
  auto trial = ParseTrial(j, dir.string());
  ASSERT_TRUE(trial.ok()) << trial.status().ToString();
  EXPECT_EQ(PopulationSize(*trial), 2);
  auto results = RunTrialMembers(*trial, model_, {.simulation = sim_});
  ASSERT_TRUE(results.ok());
  EXPECT_NEAR((*results)[0].outcomes[0][0], std::exp(-5 * 0.2), 1e-8);
  EXPECT_NEAR((*results)[1].outcomes[0][0], std::exp(-5 * 1.0), 1e-8);
  EXPECT_NE(MembersCsv(*trial, *results).find("patient#2"), std::string::npos);

  j["population"]["columns"] = {{"kel", "nonexistent"}};
  auto bad = ParseTrial(j, dir.string());
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(RunTrialMembers(*bad, model_, {}).status().code(), ErrorCode::kNotFound);
  j["population"]["columns"] = {{"weight", "k"}};
  EXPECT_EQ(ParseTrial(j, dir.string()).status().code(), ErrorCode::kNotFound);

  // The same table inline ("csv", as the API takes a twin's posterior): the
  // same members, names and outcomes, and the same errors.
  nlohmann::json inline_table = {
      {"name", "table"}, {"scenarios", {Scenario("dose", 1.0)}},
      {"population", {{"csv", "Name,kel,BW\npatient#1,0.2,70\npatient#2,1.0,80\n"}, {"columns", {{"kel", "k"}}}}}};
  auto from_text = ParseTrial(inline_table, "/nonexistent");
  ASSERT_TRUE(from_text.ok()) << from_text.status().ToString();
  auto text_results = RunTrialMembers(*from_text, model_, {.simulation = sim_});
  ASSERT_TRUE(text_results.ok());
  EXPECT_EQ(MembersCsv(*from_text, *text_results), MembersCsv(*trial, *results));
  inline_table["population"]["columns"] = {{"weight", "k"}};
  auto missing = ParseTrial(inline_table, "");
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("population.csv"), std::string::npos) << missing.status().ToString();
  inline_table["population"]["csv"] = "Name,kel\n";
  EXPECT_EQ(ParseTrial(inline_table, "").status().code(), ErrorCode::kInvalidArgument);
  inline_table["population"]["csv"] = 3;
  EXPECT_EQ(ParseTrial(inline_table, "").status().code(), ErrorCode::kInvalidArgument);
  inline_table["population"]["csv"] = "Name,kel\np,0.2\n";
  inline_table["population"]["table"] = "patients.csv";
  EXPECT_EQ(ParseTrial(inline_table, dir.string()).status().code(), ErrorCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}


// Bitwise equality, so that NaN equals NaN and -0 differs from +0.
bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void ExpectSameResult(const MemberResult& a, const MemberResult& b) {
  EXPECT_EQ(a.member, b.member);
  EXPECT_EQ(a.ok, b.ok);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.columns, b.columns);
  ASSERT_EQ(a.outcomes.size(), b.outcomes.size());
  for (size_t s = 0; s < a.outcomes.size(); ++s) {
    ASSERT_EQ(a.outcomes[s].size(), b.outcomes[s].size());
    for (size_t k = 0; k < a.outcomes[s].size(); ++k) EXPECT_TRUE(SameBits(a.outcomes[s][k], b.outcomes[s][k]));
  }
  ASSERT_EQ(a.series.size(), b.series.size());
  for (size_t s = 0; s < a.series.size(); ++s) {
    ASSERT_EQ(a.series[s].size(), b.series[s].size());
    for (size_t c = 0; c < a.series[s].size(); ++c) {
      ASSERT_EQ(a.series[s][c].size(), b.series[s][c].size());
      for (size_t k = 0; k < a.series[s][c].size(); ++k) {
        EXPECT_TRUE(SameBits(a.series[s][c][k], b.series[s][c][k])) << s << " " << c << " " << k;
      }
    }
  }
}

// Values of the wrong JSON type or out of range are errors that name the
// field; "lower": "abc" aborted the process (nlohmann's type_error escaped
// the parser) and "sd": -1 was reported as "scale".
TEST(TrialParseTest, WrongTypesAndRangesAreErrorsNotAborts) {
  const nlohmann::json base = nlohmann::json::parse(R"({
    "schema": "soma.trial/1", "name": "t",
    "scenarios": [{"name": "s", "end": 1}],
    "population": {"size": 4, "seed": 1,
                   "parameters": {"k": {"distribution": "normal", "mean": 1, "sd": 0.1}}}})");
  ASSERT_TRUE(ParseTrial(base, ".").ok()) << ParseTrial(base, ".").status().ToString();
  auto message = [&](const char* pointer, const nlohmann::json& value) {
    nlohmann::json j = base;
    j[nlohmann::json::json_pointer(pointer)] = value;
    auto t = ParseTrial(j, ".");
    EXPECT_FALSE(t.ok()) << pointer;
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), ErrorCode::kInvalidArgument) << t.status().ToString();
    }
    return t.ok() ? std::string() : t.status().message();
  };
  EXPECT_NE(message("/population/parameters/k/lower", "abc").find("k.lower: must be a finite number"), std::string::npos);
  EXPECT_NE(message("/population/parameters/k/sd", -1).find("k.sd: must be > 0"), std::string::npos);
  EXPECT_NE(message("/population/seed", "x").find("population.seed"), std::string::npos);
  EXPECT_NE(message("/population/seed", -3).find("population.seed"), std::string::npos);
  EXPECT_NE(message("/population/sampling", 7).find("wrong type"), std::string::npos);
  nlohmann::json lognormal = {{"distribution", "lognormal"}, {"median", 1}, {"cv", 0}};
  EXPECT_NE(message("/population/parameters/k", lognormal).find("k.cv: must be > 0"), std::string::npos);
  nlohmann::json correlation = {{"parameters", {"k", 3}}, {"matrix", {{1, 0}, {0, 1}}}};
  EXPECT_NE(message("/population/correlation", correlation).find("array of names"), std::string::npos);
  // Every field of a trial and of its scenario set to every JSON type: an
  // error or a trial, never an exception (both parsers guard their reads).
  const nlohmann::json kinds[] = {nullptr, true, 7, -1.5, "x", nlohmann::json::array({1, "y"}),
                                  nlohmann::json::object({{"a", 1}})};
  const char* pointers[] = {"/schema", "/name", "/scenarios", "/percentiles", "/population",
                            "/population/size", "/population/seed", "/population/sampling",
                            "/population/parameters", "/population/parameters/k",
                            "/population/parameters/k/distribution", "/population/parameters/k/mean",
                            "/population/correlation", "/population/covariates", "/population/table",
                            "/scenarios/0", "/scenarios/0/name", "/scenarios/0/start", "/scenarios/0/end",
                            "/scenarios/0/steps", "/scenarios/0/method", "/scenarios/0/parameters",
                            "/scenarios/0/interventions", "/scenarios/0/meal_input", "/scenarios/0/outputs",
                            "/scenarios/0/outcomes", "/scenarios/0/controllers"};
  for (const char* pointer : pointers) {
    for (const nlohmann::json& kind : kinds) {
      nlohmann::json j = base;
      j[nlohmann::json::json_pointer(pointer)] = kind;
      EXPECT_NO_THROW((void)ParseTrial(j, ".")) << pointer << " = " << kind.dump();
    }
  }
}

// Files a trial names (scenarios, population tables) must be regular files:
// /dev/zero never ends, a folder reads as nothing.
TEST(TrialParseTest, NamedFilesMustBeRegularFiles) {
  for (const auto& [path, what] : {std::pair{"/dev/zero", "not a regular file"}, {"/tmp", "is a directory"}}) {
    nlohmann::json table = nlohmann::json::parse(R"({
      "schema": "soma.trial/1", "name": "t", "scenarios": [{"name": "s", "end": 1}],
      "population": {"columns": {"k": "k"}}})");
    table["population"]["table"] = path;
    auto t = ParseTrial(table, ".");
    ASSERT_FALSE(t.ok()) << path;
    EXPECT_NE(t.status().message().find(std::string("'") + path + "': " + what), std::string::npos)
        << t.status().ToString();
    nlohmann::json scenario = nlohmann::json::parse(R"({"schema": "soma.trial/1", "name": "t",
      "population": {"size": 1, "parameters": {"k": {"distribution": "uniform", "lower": 0, "upper": 1}}}})");
    scenario["scenarios"] = {path};
    t = ParseTrial(scenario, ".");
    ASSERT_FALSE(t.ok()) << path;
    EXPECT_NE(t.status().message().find(what), std::string::npos) << t.status().ToString();
  }
}

// A normal around a positive mean that reaches below 0 draws non-physical
// values (a negative Vmx gave mean BG 812 mg/dL on the T1D day without a
// word): a warning with the share, none when the tail is negligible, the
// normal is truncated at 0 or the distribution is lognormal.
TEST(TrialParseTest, NormalDrawsBelowZeroAreWarned) {
  auto warnings = [](const nlohmann::json& k) {
    nlohmann::json j = {{"schema", "soma.trial/1"},
                        {"name", "t"},
                        {"scenarios", {{{"name", "s"}, {"end", 1}}}},
                        {"population", {{"size", 4}, {"parameters", {{"k", k}}}}}};
    auto t = ParseTrial(j, ".");
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? t->warnings : std::vector<std::string>{"parse failed"};
  };
  // P(x <= 0) = Phi(-0.03 / 0.5) = 0.476.
  auto wide = warnings({{"distribution", "normal"}, {"mean", 0.03}, {"sd", 0.5}});
  ASSERT_EQ(wide.size(), 1u);
  EXPECT_NE(wide[0].find("population.parameters.k: about 48 % of members draw a value <= 0"), std::string::npos)
      << wide[0];
  EXPECT_TRUE(warnings({{"distribution", "normal"}, {"mean", 1}, {"sd", 0.1}}).empty());  // Phi(-10)
  EXPECT_TRUE(warnings({{"distribution", "normal"}, {"mean", 0.03}, {"sd", 0.5}, {"lower", 0}}).empty());
  EXPECT_TRUE(warnings({{"distribution", "lognormal"}, {"median", 0.03}, {"cv", 2}}).empty());
  EXPECT_TRUE(warnings({{"distribution", "normal"}, {"mean", -1}, {"sd", 1}}).empty());  // negative by design
}

TEST(MemberResultBytesTest, RecordsRoundTripBitForBitAndTruncationIsAnError) {
  const double inf = std::numeric_limits<double>::infinity();
  MemberResult a;
  a.member = 2147483647;
  a.ok = true;
  a.outcomes = {{0.1, -0.0, std::nan(""), inf}, {}, {-inf, 4.9e-324}};
  a.series = {{{1.0, 2.5, std::nan("")}, {}}, {}, {{-1e308}}};
  a.columns = {{"BG", "\xce\xbc" "g/L, with \"quotes\"\n"}, {}, {""}};
  MemberResult b;
  b.member = 7;
  b.error = "scenario 2: CVODES failed at t = 3";
  MemberResult c;  // all empty

  std::string bytes;
  for (const MemberResult* r : {&a, &b, &c}) EncodeMemberResult(*r, &bytes);
  std::string_view rest = bytes;
  for (const MemberResult* r : {&a, &b, &c}) {
    auto got = DecodeMemberResult(&rest);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ExpectSameResult(*got, *r);
  }
  EXPECT_TRUE(rest.empty());

  // Every cut of the first record is refused, none reads past the end.
  std::string one;
  EncodeMemberResult(a, &one);
  for (size_t n = 0; n < one.size(); ++n) {
    const std::string cut = one.substr(0, n);  // its own allocation, for ASan
    std::string_view view = cut;
    auto got = DecodeMemberResult(&view);
    ASSERT_FALSE(got.ok()) << "a cut at " << n << " of " << one.size() << " bytes was accepted";
    EXPECT_EQ(got.status().code(), ErrorCode::kDataLoss);
  }
  // A count far beyond the bytes (here the outcome list's) is refused
  // before anything is allocated for it.
  std::string huge = one;
  const uint64_t lots = uint64_t{1} << 60;
  const size_t outcome_count_at = 8 + 8 + 8 + a.error.size();
  std::memcpy(huge.data() + outcome_count_at, &lots, sizeof lots);
  std::string_view view = huge;
  EXPECT_EQ(DecodeMemberResult(&view).status().code(), ErrorCode::kDataLoss);
  // So are a negative member and an "ok" flag other than 0 or 1.
  for (size_t at : {size_t{0}, size_t{8}}) {
    std::string bad = one;
    const uint64_t v = at == 0 ? ~uint64_t{0} : 2;
    std::memcpy(bad.data() + at, &v, sizeof v);
    std::string_view bv = bad;
    EXPECT_EQ(DecodeMemberResult(&bv).status().code(), ErrorCode::kDataLoss) << at;
  }
}

}  // namespace
}  // namespace soma::scenario
