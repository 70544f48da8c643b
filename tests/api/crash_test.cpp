// Crash safety: the server is killed with SIGKILL while clients push
// versions concurrently, ten times over; after each restart every listed
// version must be readable with files whose SHA-256 verifies, every push the
// server acknowledged (201) must still be there, and the repository's own
// integrity check must find nothing wrong.

#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "repo/crypto.h"
#include "repo/repository.h"
#include "server_process.h"

namespace soma::apitest {
namespace {

constexpr int kRounds = 10;
constexpr int kWriters = 4;

class CrashTest : public ::testing::TestWithParam<repo::Dialect> {};

TEST_P(CrashTest, KilledDuringUploadsLeavesOnlyWholeVersions) {
  if (!repo::TestBackendAvailable(GetParam())) GTEST_SKIP() << "SOMA_TEST_POSTGRES_URL is not set";
  TempDir dir("crash");
  ServeOptions o;
  o.backend = GetParam();
  o.extra_args = {"--rate-limit", "0", "--no-log"};
  auto server = ServerProcess::Start(dir.path() / "data", o);
  ASSERT_NE(server, nullptr);
  std::string token = server->admin_token();
  for (int w = 0; w < kWriters; ++w) {
    Json body = {{"id", "crash-" + std::to_string(w)}, {"kind", "dataset"},
                 {"metadata", {{"title", "Crash target " + std::to_string(w)}}}};
    ASSERT_EQ(Client(server->url(), token).Post("/v1/resources", body).status, 201);
  }

  std::mutex mu;
  std::set<std::pair<std::string, std::string>> acknowledged;  // (resource, version hash)
  std::mt19937 rng(::testing::UnitTest::GetInstance()->random_seed());
  int attempted = 0;
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) {
      ASSERT_TRUE(server->Restart()) << "round " << round;
    }
    std::atomic<bool> stop{false};
    std::atomic<int> pushes{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w, seed = rng()] {
        std::mt19937 local(seed);
        Client c(server->url(), token);
        std::string id = "crash-" + std::to_string(w);
        while (!stop) {
          // Several files, up to ~300 KB, so kills land inside blob writes too.
          std::vector<std::pair<std::string, std::string>> files;
          int n = 1 + static_cast<int>(local() % 3);
          for (int f = 0; f < n; ++f) {
            std::string bytes(1000 + local() % 100000, '\0');
            for (char& ch : bytes) ch = static_cast<char>(local());
            files.emplace_back("part" + std::to_string(f) + ".bin", std::move(bytes));
          }
          Response r = c.Post("/v1/resources/" + id + "/versions", PushBody(files, "round " + std::to_string(round)));
          ++pushes;
          if (r.status == 201) {
            std::lock_guard<std::mutex> lock(mu);
            acknowledged.emplace(id, r.json()["hash"].get<std::string>());
          } else if (r.status == 0) {
            break;  // the server is gone
          }
        }
      });
    }
    // Kill at a random moment while pushes are in flight (after the first
    // ones have started, so every round interrupts real work).
    while (pushes.load() < kWriters) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 400));
    server->Kill();
    stop = true;
    for (auto& t : writers) t.join();
    attempted += pushes.load();
  }
  ASSERT_TRUE(server->Restart());
  EXPECT_GT(acknowledged.size(), 0u) << "no push succeeded in " << attempted << " attempts";

  // Every listed version reads back whole; every acknowledged one is listed.
  Client c(server->url(), token);
  std::set<std::pair<std::string, std::string>> listed;
  int files_checked = 0;
  for (int w = 0; w < kWriters; ++w) {
    std::string id = "crash-" + std::to_string(w);
    Response versions = c.Get("/v1/resources/" + id + "/versions");
    ASSERT_EQ(versions.status, 200) << versions.body;
    Json version_list = versions.json();
    for (const Json& v : version_list["items"]) {
      std::string hash = v["hash"];
      listed.emplace(id, hash);
      Response full = c.Get("/v1/resources/" + id + "/versions/" + hash);
      ASSERT_EQ(full.status, 200) << full.body;
      Json version = full.json();
      for (const Json& f : version["files"]) {
        Response bytes = c.Get("/v1/resources/" + id + "/versions/" + hash + "/files/" + f["path"].get<std::string>());
        ASSERT_EQ(bytes.status, 200) << id << "@" << hash << " " << f["path"] << ": " << bytes.body;
        EXPECT_EQ(repo::Sha256Hex(bytes.body), f["sha256"]);
        EXPECT_EQ(static_cast<std::int64_t>(bytes.body.size()), f["size"].get<std::int64_t>());
        ++files_checked;
      }
    }
  }
  for (const auto& ack : acknowledged) {
    EXPECT_TRUE(listed.count(ack)) << "acknowledged push lost: " << ack.first << "@" << ack.second;
  }
  EXPECT_GT(files_checked, 0);
  // Versions of other resources (the bundled models) count in the integrity check too.
  int other_versions = 0;
  Json all = c.Get("/v1/resources?limit=100").json();
  for (const Json& r : all["items"]) {
    if (r["id"].get<std::string>().rfind("crash-", 0) != 0) other_versions += r["version_count"].get<int>();
  }
  Json verify = c.Get("/v1/audit/verify").json();
  EXPECT_EQ(verify["ok"], true) << verify.dump();
  EXPECT_EQ(server->Stop(), 0);

  // The repository's own check, in-process, after the server has stopped.
  repo::RepositoryOptions ro;
  ro.data_dir = server->data_dir();
  ro.database_url = server->database_url();
  auto repo = repo::Repository::Open(ro);
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();
  auto integrity = (*repo)->CheckIntegrity();
  ASSERT_TRUE(integrity.ok()) << integrity.status().ToString();
  EXPECT_TRUE(integrity->problems.empty()) << ::testing::PrintToString(integrity->problems);
  EXPECT_EQ(integrity->versions, static_cast<int>(listed.size()) + other_versions);
  std::cout << "crash test: " << kRounds << " kills, " << attempted << " pushes attempted, "
            << acknowledged.size() << " acknowledged, " << listed.size() << " versions listed, " << files_checked
            << " files verified\n";
}

INSTANTIATE_TEST_SUITE_P(Backends, CrashTest, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return std::string(repo::DialectName(info.param)); });

}  // namespace
}  // namespace soma::apitest
