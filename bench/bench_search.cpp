// Search latency on a large repository: loads N resources (default 100,000)
// with realistic metadata and visibility into a SQLite repository, then times
// a mix of queries as different principals and writes the latency
// percentiles. Run:
//   build/bin/soma_bench_search [--resources N] [--queries Q] [--out FILE]
// Loading uses synchronous=normal (bulk load); queries run on the same file.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "repo/crypto.h"
#include "repo/repository.h"

namespace {
using namespace soma::repo;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kWords = {
    "glucose", "insulin", "glucagon", "cardiac", "ventricle", "pressure", "renal", "hepatic",
    "tumour", "immune", "cytokine", "calcium", "potassium", "sodium", "action", "potential",
    "pharmacokinetic", "absorption", "clearance", "elimination", "receptor", "signalling",
    "circadian", "hormone", "cortisol", "thyroid", "oxygen", "haemoglobin", "lung", "ventilation",
    "bone", "muscle", "exercise", "metabolism", "lipid", "cholesterol", "inflammation", "sepsis",
    "neuron", "synapse", "dopamine", "serotonin", "virus", "infection", "antibody", "vaccine"};
const std::vector<std::string> kOrgans = {"endocrine", "cardiovascular", "renal", "hepatic",
                                          "respiratory", "nervous", "immune", "musculoskeletal"};
const std::vector<std::string> kDiseases = {"type 1 diabetes", "type 2 diabetes", "hypertension",
                                            "heart failure", "sepsis", "cancer", "covid-19", "asthma"};
const std::vector<std::string> kLicences = {"CC-BY-4.0", "CC0-1.0", "MIT", "Apache-2.0"};
const std::vector<std::string> kCredibility = {"", "low", "medium", "high"};
const ResourceKind kKinds[] = {ResourceKind::kModel, ResourceKind::kModel, ResourceKind::kDataset,
                               ResourceKind::kTwin, ResourceKind::kEvidence, ResourceKind::kScenario};

template <typename T>
const T& Pick(std::mt19937_64& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int Fail(const soma::Status& s, const char* what) {
  std::fprintf(stderr, "bench_search: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 100000, queries = 400;
  std::string out = "bench/SEARCH_RESULTS.md";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--resources")) n = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--queries")) queries = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
  }
  fs::path dir = fs::temp_directory_path() / ("soma_bench_search_" + RandomHex(4));
  RepositoryOptions o;
  o.data_dir = dir;
  o.database_url = "sqlite:" + (dir / "soma.db").string() + "?synchronous=normal";
  fs::create_directories(dir);
  auto repo_or = Repository::Open(o);
  if (!repo_or.ok()) return Fail(repo_or.status(), "open");
  auto& repo = **repo_or;
  (void)repo.CreateInitialAdmin("admin");
  Principal admin = *repo.PrincipalForUser("admin");
  constexpr int kUsers = 50, kGroups = 10;
  for (int g = 0; g < kGroups; ++g) (void)repo.CreateGroup(admin, "g" + std::to_string(g), "");
  std::vector<Principal> users;
  for (int u = 0; u < kUsers; ++u) {
    std::string name = "u" + std::to_string(u);
    (void)repo.CreateUser(admin, name, Role::kContributor);
    (void)repo.AddMember(admin, "g" + std::to_string(u % kGroups), name);
    users.push_back(*repo.PrincipalForUser(name));
  }

  std::mt19937_64 rng(42);
  auto load_start = Clock::now();
  for (int i = 0; i < n; ++i) {
    const Principal& owner = users[i % kUsers];
    NewResource r;
    r.kind = kKinds[i % 6];
    r.metadata.title = Pick(rng, kWords) + " " + Pick(rng, kWords) + " model " + std::to_string(i);
    r.metadata.description = "A model of " + Pick(rng, kWords) + " and " + Pick(rng, kWords) +
                             " in " + Pick(rng, kOrgans) + " physiology.";
    r.metadata.license = Pick(rng, kLicences);
    r.metadata.organ_systems = {Pick(rng, kOrgans)};
    r.metadata.diseases = {Pick(rng, kDiseases)};
    r.metadata.scales = {std::string(kScales[i % 5])};
    r.metadata.credibility_level = Pick(rng, kCredibility);
    r.metadata.keywords = {Pick(rng, kWords), Pick(rng, kWords)};
    int v = static_cast<int>(rng() % 10);
    r.visibility = v < 7 ? Visibility::kPublic : v < 9 ? Visibility::kGroup : Visibility::kPrivate;
    r.group = r.visibility == Visibility::kGroup ? owner.groups[0] : "";
    auto created = repo.CreateResource(owner, r);
    if (!created.ok()) return Fail(created.status(), "create");
    if ((i + 1) % 10000 == 0) {
      std::fprintf(stderr, "loaded %d / %d resources (%.0f s)\n", i + 1, n,
                   std::chrono::duration<double>(Clock::now() - load_start).count());
    }
  }
  double load_s = std::chrono::duration<double>(Clock::now() - load_start).count();

  struct Kind {
    std::string name;
    std::vector<double> ms;
  };
  std::vector<Kind> kinds = {{"full text, one word", {}},
                             {"full text, two words", {}},
                             {"facet filter only", {}},
                             {"full text + facet filter", {}},
                             {"everything (no text), sorted by title", {}}};
  std::vector<double> all;
  Principal anon = Principal::Anonymous();
  for (int q = 0; q < queries; ++q) {
    const Principal& who = q % 3 == 0 ? anon : users[q % kUsers];
    SearchQuery sq;
    int k = q % static_cast<int>(kinds.size());
    switch (k) {
      case 0: sq.text = Pick(rng, kWords); break;
      case 1: sq.text = Pick(rng, kWords) + " " + Pick(rng, kWords); break;
      case 2: sq.filters["organ"] = {Pick(rng, kOrgans)}; break;
      case 3:
        sq.text = Pick(rng, kWords);
        sq.filters["disease"] = {Pick(rng, kDiseases)};
        break;
      case 4: sq.sort = SortOrder::kTitle; break;
    }
    sq.offset = static_cast<int>(rng() % 3) * 20;
    auto t0 = Clock::now();
    auto r = repo.Search(who, sq);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!r.ok()) return Fail(r.status(), "search");
    kinds[k].ms.push_back(ms);
    all.push_back(ms);
  }

  std::FILE* f = std::fopen(out.c_str(), "w");
  if (f == nullptr) return Fail(soma::IoError("cannot write " + out), "output");
  std::string cpu = "unknown";
  {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("model name", 0) == 0) {
        cpu = line.substr(line.find(':') + 2);
        break;
      }
    }
  }
  auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  std::fprintf(f, "# Search latency, SQLite, %d resources\n\n", n);
  std::fprintf(f, "Written by `build/bin/soma_bench_search` (bench/bench_search.cpp); do not edit by hand.\n\n");
  std::fprintf(f, "- date: %s\n- CPU: %s, %u hardware threads\n- resources: %d (70%% public, 20%% group, 10%% private; 50 users in 10 groups), loaded in %.0f s\n",
               date, cpu.c_str(), std::thread::hardware_concurrency(), n, load_s);
  std::fprintf(f, "- queries: %d, one at a time, as anonymous (1/3) and as signed-in users with group access (2/3); each returns a page of 20, the total and all facet counts, under the caller's visibility\n\n", queries);
  std::fprintf(f, "| query | n | p50 ms | p95 ms | p99 ms | max ms |\n|---|--:|--:|--:|--:|--:|\n");
  for (const Kind& k : kinds) {
    std::fprintf(f, "| %s | %zu | %.1f | %.1f | %.1f | %.1f |\n", k.name.c_str(), k.ms.size(),
                 Percentile(k.ms, 0.5), Percentile(k.ms, 0.95), Percentile(k.ms, 0.99),
                 *std::max_element(k.ms.begin(), k.ms.end()));
  }
  std::fprintf(f, "| **all** | %zu | %.1f | **%.1f** | %.1f | %.1f |\n", all.size(), Percentile(all, 0.5),
               Percentile(all, 0.95), Percentile(all, 0.99), *std::max_element(all.begin(), all.end()));
  std::fclose(f);
  std::printf("p95 %.1f ms over %zu queries; written to %s\n", Percentile(all, 0.95), all.size(), out.c_str());
  repo_or->reset();
  if (std::getenv("SOMA_BENCH_KEEP") == nullptr) fs::remove_all(dir);
  else std::printf("kept %s\n", dir.c_str());
  return 0;
}
