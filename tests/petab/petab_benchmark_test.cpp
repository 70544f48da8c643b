// The PEtab benchmark problems in ../shared/petab, simulated at their
// nominal parameters: simulations against the collection's simulatedData
// tables and the nominal nllh against reference_nllh.tsv (the PEtab
// likelihood of those tables, computed by reference_nllh.py). Problems Soma
// cannot import or simulate are listed in known_failures.txt with the
// unsupported construct; they must still fail with that message. Problems
// that simulate but disagree with the collection's table are listed there
// as "mismatch" with what is known; they are skipped after simulating.

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "formats/petab/petab.h"
#include "infer/estimate.h"

namespace soma {
namespace {

namespace fs = std::filesystem;
using formats::petab::Table;

const fs::path kPetabDir = fs::path(SOMA_SHARED_DIR) / "petab";
const fs::path kHere = fs::path(SOMA_SOURCE_DIR) / "tests" / "petab";

std::map<std::string, std::string> KnownFailures() {
  std::map<std::string, std::string> out;
  std::ifstream in(kHere / "known_failures.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    out[line.substr(0, tab)] = tab == std::string::npos ? "" : line.substr(tab + 1);
  }
  return out;
}

std::map<std::string, double> ReferenceNllh() {
  std::map<std::string, double> out;
  auto t = formats::petab::ReadTsv(kHere / "reference_nllh.tsv");
  if (!t.ok()) return out;
  for (size_t r = 0; r < t->rows.size(); ++r) out[t->Cell(r, "problem")] = std::stod(t->Cell(r, "nllh"));
  return out;
}

std::vector<std::string> Problems() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kPetabDir, ec))
    if (fs::exists(e.path() / (e.path().filename().string() + ".yaml"))) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string Either(const Table& t, size_t r, const char* a, const char* b) {
  const std::string& v = t.Cell(r, a);
  return v.empty() ? t.Cell(r, b) : v;
}

class PetabBenchmark : public ::testing::TestWithParam<std::string> {};

TEST_P(PetabBenchmark, NominalSimulationAndNllh) {
  const std::string name = GetParam();
  const fs::path yaml = kPetabDir / name / (name + ".yaml");
  const auto known = KnownFailures();
  infer::EstimationOptions options;  // CVODES rel 1e-10, abs 1e-12 (soma petab simulate's defaults)
  options.rel_tol = 1e-10;
  options.abs_tol = 1e-12;
  auto imp = formats::petab::LoadPetab(yaml);
  Result<infer::Evaluation> ev = imp.ok() ? infer::Evaluate(imp->problem, imp->problem.NominalValues(), options)
                                          : Result<infer::Evaluation>(imp.status());
  if (auto it = known.find(name); it != known.end() && it->second.rfind("mismatch\t", 0) != 0) {
    ASSERT_FALSE(ev.ok()) << name << " now works: remove it from known_failures.txt";
    EXPECT_NE(ev.status().message().find(it->second), std::string::npos)
        << "expected '" << it->second << "' in: " << ev.status().ToString();
    GTEST_SKIP() << "known failure: " << it->second;
  }
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  if (auto it = known.find(name); it != known.end()) {
    // Simulates, but differs from the collection's table (reason given).
    GTEST_SKIP() << "known mismatch: " << it->second << " (nllh " << ev->nllh << ")";
  }

  // Simulations vs the collection's simulatedData table, matched by
  // (observable, condition, time); |sim - ref| <= 1e-3 |ref| + 1e-5 max|ref|.
  std::vector<fs::path> sims;
  for (const auto& e : fs::directory_iterator(kPetabDir / name))
    if (e.path().filename().string().rfind("simulatedData", 0) == 0) sims.push_back(e.path());
  if (!sims.empty()) {
    auto ref = formats::petab::ReadTsv(sims[0]);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    std::map<std::string, std::vector<std::pair<double, double>>> pool;
    double max_ref = 0;
    for (size_t r = 0; r < ref->rows.size(); ++r) {
      const std::string key = ref->Cell(r, "observableId") + "|" +
                              Either(*ref, r, "simulationConditionId", "simulationCondition");
      const double v = std::stod(ref->Cell(r, "simulation"));
      pool[key].emplace_back(std::stod(ref->Cell(r, "time")), v);
      max_ref = std::max(max_ref, std::abs(v));
    }
    const Table ours = formats::petab::SimulationTable(*imp, *ev);
    int compared = 0, bad = 0;
    for (size_t r = 0; r < ours.rows.size(); ++r) {
      std::string key = ours.Cell(r, "observableId") + "|" + ours.Cell(r, "simulationConditionId");
      const double t = std::stod(ours.Cell(r, "time"));
      // Older tables name observables without the "observable_" prefix.
      if (!pool.count(key) && key.rfind("observable_", 0) == 0) key = key.substr(11);
      auto& cand = pool[key];
      auto it = std::find_if(cand.begin(), cand.end(),
                             [&](const auto& p) { return std::abs(p.first - t) <= 1e-6 * std::max(1.0, std::abs(t)); });
      if (it == cand.end()) continue;
      const double sim = std::stod(ours.Cell(r, "simulation"));
      const double refv = it->second;
      cand.erase(it);
      ++compared;
      if (!(std::abs(sim - refv) <= 1e-3 * std::abs(refv) + 1e-5 * max_ref)) {
        if (++bad <= 5) ADD_FAILURE() << name << " row " << r + 2 << " (" << key << ", t = " << t << "): " << sim
                                      << " vs " << refv;
      }
    }
    EXPECT_EQ(bad, 0) << bad << " of " << compared << " simulations differ";
    EXPECT_GT(compared, 0) << "no simulated row matched";
    RecordProperty("compared", compared);
  }
  // Nominal nllh: |ours - ref| <= 1e-3 max(1, |ref|).
  const auto refs = ReferenceNllh();
  if (auto it = refs.find(name); it != refs.end() && std::isfinite(it->second)) {
    EXPECT_NEAR(ev->nllh, it->second, 1e-3 * std::max(1.0, std::abs(it->second))) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Problems, PetabBenchmark, ::testing::ValuesIn(Problems()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace soma
