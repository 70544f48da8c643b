// Jobs on a live server (server/jobs.h): a trial job run to the end with
// progress polled and its result checked against the analytic solution, a
// scenario comparison, cancelling a queued and a running job, privacy of
// jobs and their result resources, and jobs left running across a restart
// reported as failed.

#include <chrono>
#include <cmath>
#include <thread>

#include <gtest/gtest.h>

#include "scenario/decay_sbml_test_util.h"
#include "server_process.h"

namespace soma::apitest {
namespace {

// dX/dt = -k X with X(0) = 0 (a unit bolus at t = 0 makes X = exp(-k t)).
const std::string kDecay = scenario::testing::DecaySbml();

Json Scenario(const std::string& name, double dose) {
  return {{"name", name}, {"end", 10}, {"steps", 100}, {"outputs", {"X"}},
          {"interventions", {{{"type", "bolus"}, {"target", "X"}, {"amount", dose}, {"time", 0}}}},
          {"outcomes", {{{"name", "x5"}, {"variable", "X"}, {"metric", "value_at"}, {"at", 5}}}}};
}

Json TrialJob(int members) {
  return {{"kind", "trial"},
          {"model", {{"id", "decay"}}},
          {"trial", {{"name", "decay trial"},
                     {"scenarios", {Scenario("dose 1", 1.0)}},
                     {"population", {{"size", members}, {"seed", 5},
                                     {"parameters", {{"k", {{"distribution", "uniform"}, {"lower", 0.2},
                                                            {"upper", 0.8}}}}}}}}}};
}

class Jobs : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("jobs");
    ServeOptions o;
    o.extra_args = {"--rate-limit", "0", "--job-workers", "1", "--job-queue", "2"};
    server_ = ServerProcess::Start(dir_->path() / "data", o);
    ASSERT_NE(server_, nullptr);
    Client admin(server_->url(), server_->admin_token());
    for (const char* name : {"alice", "bob"}) {
      ASSERT_EQ(admin.Post("/v1/users", {{"name", name}, {"role", "contributor"}}).status, 201);
    }
    ASSERT_EQ(admin.Post("/v1/users", {{"name", "rita"}, {"role", "reader"}}).status, 201);
    alice_ = MakeClient("alice");
    bob_ = MakeClient("bob");
    rita_ = MakeClient("rita");
    ASSERT_EQ(alice_->Post("/v1/resources", {{"id", "decay"}, {"metadata", {{"title", "decay"}}}}).status, 201);
    ASSERT_EQ(alice_->Post("/v1/resources/decay/versions", PushBody({{"decay.xml", kDecay}}, "v1")).status, 201);
  }

  std::unique_ptr<Client> MakeClient(const std::string& user) {
    Client admin(server_->url(), server_->admin_token());
    Json t = admin.Post("/v1/tokens", {{"user", user}}).json();
    return std::make_unique<Client>(server_->url(), t["token"].get<std::string>());
  }

  // Polls until the job is finished; returns the last record and the
  // progress values seen.
  Json WaitFor(Client& c, const std::string& id, std::vector<double>* progress = nullptr, double seconds = 120) {
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    Json j;
    while (std::chrono::steady_clock::now() < until) {
      Response r = c.Get("/v1/jobs/" + id);
      EXPECT_EQ(r.status, 200) << r.body;
      j = r.json();
      if (progress != nullptr) progress->push_back(j["progress"].get<double>());
      std::string state = j["state"];
      if (state == "succeeded" || state == "failed" || state == "cancelled") return j;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "job " << id << " did not finish: " << j.dump();
    return j;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> alice_, bob_, rita_;
};

TEST_F(Jobs, TrialRunsWithProgressAndStoresAPrivateResult) {
  Response submitted = alice_->Post("/v1/jobs", TrialJob(3000));
  ASSERT_EQ(submitted.status, 202) << submitted.body;
  const std::string id = submitted.json()["id"];
  EXPECT_EQ(submitted.header("Location"), "/v1/jobs/" + id);
  std::vector<double> progress;
  Json done = WaitFor(*alice_, id, &progress);
  ASSERT_EQ(done["state"], "succeeded") << done.dump();
  EXPECT_EQ(done["progress"], 1.0);
  for (size_t i = 1; i < progress.size(); ++i) EXPECT_GE(progress[i], progress[i - 1]);  // monotone
  EXPECT_EQ(done["model"]["version"].get<std::string>().size(), 64u);

  Response result = alice_->Get("/v1/jobs/" + id + "/result");
  ASSERT_EQ(result.status, 200) << result.body;
  Json r = result.json();
  EXPECT_EQ(r["members"], 3000);
  EXPECT_EQ(r["failed"], 0);
  // x5 = exp(-5 k), k ~ U(0.2, 0.8): mean = (exp(-1) - exp(-4)) / 3 = 0.116519...
  // Latin hypercube with 3000 members: |mean - exact| < 1e-4 (sampling), the
  // integration error (1e-6) is far below.
  const double exact = (std::exp(-1.0) - std::exp(-4.0)) / 3.0;
  EXPECT_NEAR(r["outcomes"][0]["mean"].get<double>(), exact, 1e-4);

  // The result is a private resource of kind result with provenance.
  const std::string rid = done["result"];
  Json res = alice_->Get("/v1/resources/" + rid).json();
  EXPECT_EQ(res["kind"], "result");
  EXPECT_EQ(res["visibility"], "private");
  Json version = alice_->Get("/v1/resources/" + rid + "/versions/latest").json();
  EXPECT_EQ(version["provenance"]["derived_from"][0], "decay@" + done["model"]["version"].get<std::string>())
      << version.dump();
  EXPECT_EQ(alice_->Get("/v1/resources/" + rid + "/versions/latest/files/members.csv").status, 200);
  auto bands = alice_->Get("/v1/resources/" + rid + "/versions/latest/files/bands.csv");
  EXPECT_EQ(bands.status, 200);
  EXPECT_EQ(bands.body.rfind("scenario,variable,time", 0), 0u) << bands.body.substr(0, 200);
  // Nobody else sees the job or its result.
  EXPECT_EQ(bob_->Get("/v1/jobs/" + id).status, 404);
  EXPECT_EQ(bob_->Get("/v1/jobs/" + id + "/result").status, 404);
  EXPECT_EQ(bob_->Delete("/v1/jobs/" + id).status, 404);
  EXPECT_EQ(bob_->Get("/v1/resources/" + rid).status, 404);
  EXPECT_EQ(bob_->Get("/v1/jobs").json()["total"], 0);
  EXPECT_EQ(alice_->Get("/v1/jobs").json()["total"], 1);
  Client admin(server_->url(), server_->admin_token());
  EXPECT_EQ(admin.Get("/v1/jobs/" + id).status, 200);
  // A finished job cannot be cancelled.
  EXPECT_EQ(alice_->Delete("/v1/jobs/" + id).status, 409);
}

TEST_F(Jobs, ScenarioCompare) {
  Json body = {{"kind", "scenario-compare"}, {"model", {{"id", "decay"}, {"version", "1"}}},
               {"scenarios", {Scenario("one", 1.0), Scenario("two", 2.0)}}};
  Response submitted = alice_->Post("/v1/jobs", body);
  ASSERT_EQ(submitted.status, 202) << submitted.body;
  Json done = WaitFor(*alice_, submitted.json()["id"]);
  ASSERT_EQ(done["state"], "succeeded") << done.dump();
  Json r = alice_->Get("/v1/jobs/" + done["id"].get<std::string>() + "/result").json();
  ASSERT_EQ(r["scenarios"].size(), 2u);
  // exp(-0.5 * 5) and twice that; |x - ref| <= 1e-5 (accuracy 1e-6 requested)
  EXPECT_NEAR(r["scenarios"][0]["outcomes"]["x5"].get<double>(), std::exp(-2.5), 1e-5);
  EXPECT_NEAR(r["scenarios"][1]["outcomes"]["x5"].get<double>(), 2 * std::exp(-2.5), 1e-5);
}

TEST_F(Jobs, CancelQueuedAndRunningJobs) {
  // One worker: the first long job runs, the second waits in the queue.
  Response a = alice_->Post("/v1/jobs", TrialJob(200000));
  Response b = alice_->Post("/v1/jobs", TrialJob(10));
  ASSERT_EQ(a.status, 202) << a.body;
  ASSERT_EQ(b.status, 202) << b.body;
  const std::string running = a.json()["id"], queued = b.json()["id"];
  Response c = alice_->Delete("/v1/jobs/" + queued);
  ASSERT_EQ(c.status, 202) << c.body;
  EXPECT_EQ(c.json()["state"], "cancelled");
  // Wait until the first job has made progress, then cancel it.
  for (int i = 0; i < 2000; ++i) {
    Json j = alice_->Get("/v1/jobs/" + running).json();
    if (j["state"] == "running" && j["done"].get<long>() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Response d = alice_->Delete("/v1/jobs/" + running);
  ASSERT_EQ(d.status, 202) << d.body;
  EXPECT_EQ(d.json()["cancel_requested"], true);
  Json done = WaitFor(*alice_, running);
  EXPECT_EQ(done["state"], "cancelled");
  EXPECT_LT(done["done"].get<long>(), 200000);
  EXPECT_TRUE(done["result"].is_null());
  EXPECT_EQ(alice_->Get("/v1/jobs/" + running + "/result").status, 409);
}

TEST_F(Jobs, RefusedRequestsNameTheProblem) {
  EXPECT_EQ(Client(server_->url()).Post("/v1/jobs", TrialJob(10)).status, 401);
  EXPECT_EQ(rita_->Post("/v1/jobs", TrialJob(10)).status, 403);
  // Bob cannot read alice's private model: it looks absent.
  EXPECT_EQ(bob_->Post("/v1/jobs", TrialJob(10)).status, 404);
  Json bad = TrialJob(10);
  bad["trial"]["population"]["size"] = 0;
  Response r = alice_->Post("/v1/jobs", bad);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("population.size"), std::string::npos) << r.body;
  Json file = TrialJob(10);
  file["trial"]["scenarios"] = {"/etc/passwd"};
  r = alice_->Post("/v1/jobs", file);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("inline"), std::string::npos) << r.body;
  EXPECT_EQ(alice_->Post("/v1/jobs", {{"kind", "fit"}, {"model", {{"id", "decay"}}}}).status, 400);
  r = alice_->Post("/v1/jobs", TrialJob(1000000));  // 1e6 members x 101 rows: above the bound
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("at most"), std::string::npos) << r.body;
  EXPECT_EQ(alice_->Get("/v1/jobs/job-doesnotexist").status, 404);
}

TEST_F(Jobs, RunningJobsAreReportedFailedAfterARestart) {
  Response a = alice_->Post("/v1/jobs", TrialJob(200000));
  ASSERT_EQ(a.status, 202) << a.body;
  const std::string id = a.json()["id"];
  for (int i = 0; i < 2000; ++i) {
    if (alice_->Get("/v1/jobs/" + id).json()["state"] == "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  server_->Kill();
  ASSERT_TRUE(server_->Restart());
  auto alice = MakeClient("alice");
  Response r = alice->Get("/v1/jobs/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["state"], "failed");
  EXPECT_EQ(r.json()["error"], "server restarted");
}

}  // namespace
}  // namespace soma::apitest
