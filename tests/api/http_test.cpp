// The HTTP API end to end on a live `soma serve`: resources, versions and
// files, ETags, pagination, problem+json, search, feedback, governance,
// audit, OMEX exchange, the CLI in both modes, 413, 429, TLS and graceful
// shutdown. Runs on SQLite, and on PostgreSQL when SOMA_TEST_POSTGRES_URL is
// set.

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "repo/crypto.h"
#include "server_process.h"

namespace soma::apitest {
namespace {

using repo::Dialect;

struct Shared {
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<ServerProcess> server;
};

// One server per backend for the whole suite.
ServerProcess* SharedServer(Dialect d) {
  static std::map<Dialect, Shared> servers;
  Shared& s = servers[d];
  if (!s.server) {
    s.dir = std::make_unique<TempDir>(std::string("http_") + std::string(repo::DialectName(d)));
    ServeOptions o;
    o.backend = d;
    o.extra_args = {"--rate-limit", "0"};
    s.server = ServerProcess::Start(s.dir->path() / "data", o);
  }
  return s.server.get();
}

class HttpTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    if (!repo::TestBackendAvailable(GetParam())) GTEST_SKIP() << "SOMA_TEST_POSTGRES_URL is not set";
    server_ = SharedServer(GetParam());
    ASSERT_NE(server_, nullptr);
    admin_ = std::make_unique<Client>(server_->url(), server_->admin_token());
    anon_ = std::make_unique<Client>(server_->url());
  }
  // A fresh id so tests do not depend on each other.
  static std::string NewId(const std::string& stem) { return stem + "-" + RandomHexString(4); }

  // Creates a public model resource owned by admin with one version.
  std::string MakeModel(const std::string& stem, const std::string& content = "a,b\n1,2\n") {
    std::string id = NewId(stem);
    Json body = {{"id", id},
                 {"kind", "model"},
                 {"visibility", "public"},
                 {"metadata", {{"title", "Test " + stem}, {"license", "CC-BY-4.0"}}}};
    EXPECT_EQ(admin_->Post("/v1/resources", body).status, 201);
    EXPECT_EQ(admin_->Post("/v1/resources/" + id + "/versions", PushBody({{"data.csv", content}}, "first")).status,
              201);
    return id;
  }

  static void ExpectProblem(const Response& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
    Json j = r.json();
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["status"], status);
    EXPECT_TRUE(j["type"].is_string());
    EXPECT_TRUE(j["title"].is_string());
    EXPECT_TRUE(j["detail"].is_string());
    EXPECT_FALSE(j["detail"].get<std::string>().empty());
  }

  ServerProcess* server_ = nullptr;
  std::unique_ptr<Client> admin_, anon_;
};

TEST_P(HttpTest, HealthAndReadiness) {
  EXPECT_EQ(anon_->Get("/healthz").status, 200);
  Response ready = anon_->Get("/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.json()["status"], "ready");
}

TEST_P(HttpTest, FirstStartCreatedAdminTokenFileAndSeededBundledModels) {
  EXPECT_FALSE(server_->admin_token().empty());
  auto perms = fs::status(server_->data_dir() / "admin-token").permissions();
  EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
  EXPECT_NE(server_->banner().find("admin-token"), std::string::npos);
  EXPECT_EQ(server_->banner().find(server_->admin_token()), std::string::npos) << "token printed";

  Response r = anon_->Get("/v1/resources/bergman-minimal");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = r.json();
  EXPECT_EQ(j["visibility"], "public");
  EXPECT_EQ(j["kind"], "model");
  EXPECT_EQ(j["metadata"]["license"], "CC-BY-4.0");
  EXPECT_NE(j["metadata"]["title"].get<std::string>().find("Bergman"), std::string::npos);
  // Found by the content of the model (a parameter's name), not only its title.
  Response s = anon_->Get("/v1/search?q=effectiveness");
  ASSERT_EQ(s.status, 200);
  std::set<std::string> ids;
  Json found = s.json();
  for (const Json& item : found["items"]) ids.insert(item["id"].get<std::string>());
  EXPECT_TRUE(ids.count("bergman-minimal")) << s.body;
}

TEST_P(HttpTest, MeReportsTheCaller) {
  EXPECT_EQ(anon_->Get("/v1/me").json()["anonymous"], true);
  Json me = admin_->Get("/v1/me").json();
  EXPECT_EQ(me["user"], "admin");
  EXPECT_EQ(me["role"], "admin");
}

TEST_P(HttpTest, BadTokensAreRejectedWith401) {
  Client bad(server_->url(), "soma_nope_0123456789");
  Response r = bad.Get("/v1/resources");
  ExpectProblem(r, 401);
  EXPECT_FALSE(r.header("WWW-Authenticate").empty());
  ExpectProblem(anon_->Get("/v1/me", {{"Authorization", "Basic YWRtaW46YWRtaW4="}}), 401);
}

TEST_P(HttpTest, ResourceVersionFileLifecycle) {
  std::string id = NewId("life");
  Json create = {{"id", id}, {"kind", "dataset"}, {"visibility", "private"},
                 {"metadata", {{"title", "Glucose clamp data"}, {"license", "CC0-1.0"},
                               {"organ_systems", {"endocrine"}}}}};
  Response c = admin_->Post("/v1/resources", create);
  ASSERT_EQ(c.status, 201) << c.body;
  EXPECT_EQ(c.header("Location"), "/v1/resources/" + id);
  ExpectProblem(admin_->Post("/v1/resources", create), 409);

  // JSON push with base64 files.
  std::string csv = "t,glucose\n0,5.5\n10,6.1\n";
  Response p1 = admin_->Post("/v1/resources/" + id + "/versions", PushBody({{"data/obs.csv", csv}}, "v1"));
  ASSERT_EQ(p1.status, 201) << p1.body;
  Json v1 = p1.json();
  EXPECT_EQ(v1["number"], 1);
  EXPECT_EQ(v1["files"][0]["sha256"], repo::Sha256Hex(csv));

  // Multipart push.
  httplib::MultipartFormDataItems items = {
      {"message", "v2 by multipart", "", ""},
      {"file", "t,insulin\n0,7\n", "data/insulin.csv", "text/csv"},
      {"file", csv, "data/obs.csv", "text/csv"},
  };
  httplib::Client raw(server_->url());
  raw.set_bearer_token_auth(server_->admin_token());
  auto p2 = raw.Post(("/v1/resources/" + id + "/versions").c_str(), items);
  ASSERT_TRUE(p2);
  ASSERT_EQ(p2->status, 201) << p2->body;
  Json v2 = Json::parse(p2->body);
  EXPECT_EQ(v2["number"], 2);
  EXPECT_EQ(v2["files"].size(), 2u);

  Json versions = admin_->Get("/v1/resources/" + id + "/versions").json();
  ASSERT_EQ(versions["items"].size(), 2u);
  std::string h1 = v1["hash"], h2 = v2["hash"];
  EXPECT_EQ(admin_->Get("/v1/resources/" + id + "/versions/1").json()["hash"], h1);
  EXPECT_EQ(admin_->Get("/v1/resources/" + id + "/versions/latest").json()["hash"], h2);
  EXPECT_EQ(admin_->Get("/v1/resources/" + id + "/versions/" + h1.substr(0, 10)).json()["number"], 1);

  Response file = admin_->Get("/v1/resources/" + id + "/versions/1/files/data/obs.csv");
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(file.body, csv);
  EXPECT_EQ(file.header("ETag"), "\"" + repo::Sha256Hex(csv) + "\"");
  ExpectProblem(admin_->Get("/v1/resources/" + id + "/versions/1/files/nope.csv"), 404);
  ExpectProblem(admin_->Get("/v1/resources/" + id + "/versions/99"), 404);

  // Private: invisible to anonymous callers, as if absent.
  ExpectProblem(anon_->Get("/v1/resources/" + id), 404);
  ExpectProblem(anon_->Get("/v1/resources/" + id + "/versions/1/files/data/obs.csv"), 404);

  // Publish, then delete.
  Response pub = admin_->Patch("/v1/resources/" + id, {{"visibility", "public"}});
  ASSERT_EQ(pub.status, 200) << pub.body;
  EXPECT_EQ(anon_->Get("/v1/resources/" + id).status, 200);
  EXPECT_EQ(admin_->Delete("/v1/resources/" + id).status, 204);
  ExpectProblem(admin_->Get("/v1/resources/" + id), 404);
}

TEST_P(HttpTest, PublicNeedsALicence) {
  std::string id = NewId("nolicence");
  Json create = {{"id", id}, {"visibility", "private"}, {"metadata", {{"title", "No licence"}}}};
  ASSERT_EQ(admin_->Post("/v1/resources", create).status, 201);
  ExpectProblem(admin_->Patch("/v1/resources/" + id, {{"visibility", "public"}}), 409);
}

TEST_P(HttpTest, ETagsAndConditionalGets) {
  std::string id = MakeModel("etag");
  Response first = anon_->Get("/v1/resources/" + id);
  std::string etag = first.header("ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(anon_->Get("/v1/resources/" + id).header("ETag"), etag) << "ETag not stable";
  Response not_modified = anon_->Get("/v1/resources/" + id, {{"If-None-Match", etag}});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
  EXPECT_EQ(anon_->Get("/v1/resources/" + id, {{"If-None-Match", "\"other\", W/" + etag}}).status, 304);
  EXPECT_EQ(anon_->Get("/v1/resources/" + id, {{"If-None-Match", "\"other\""}}).status, 200);

  // A new version changes the resource's representation and so its ETag.
  ASSERT_EQ(admin_->Post("/v1/resources/" + id + "/versions", PushBody({{"data.csv", "x\n9\n"}}, "second")).status,
            201);
  Response changed = anon_->Get("/v1/resources/" + id, {{"If-None-Match", etag}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_NE(changed.header("ETag"), etag);

  // Versions are immutable: their ETag holds across pushes.
  Response v1 = anon_->Get("/v1/resources/" + id + "/versions/1");
  EXPECT_EQ(anon_->Get("/v1/resources/" + id + "/versions/1", {{"If-None-Match", v1.header("ETag")}}).status, 304);
}

TEST_P(HttpTest, PaginationReportsTotalAndNext) {
  std::string owner = NewId("pager");
  Json user = {{"name", owner}, {"role", "contributor"}};
  ASSERT_EQ(admin_->Post("/v1/users", user).status, 201);
  Json tok = admin_->Post("/v1/tokens", {{"user", owner}, {"label", "pagination"}}).json();
  Client c(server_->url(), tok["token"]);
  for (int i = 0; i < 5; ++i) {
    Json body = {{"id", owner + "-r" + std::to_string(i)}, {"metadata", {{"title", "Page " + std::to_string(i)}}}};
    ASSERT_EQ(c.Post("/v1/resources", body).status, 201);
  }
  std::set<std::string> seen;
  int offset = 0, pages = 0;
  while (true) {
    Json page = c.Get("/v1/resources?owner=" + owner + "&limit=2&offset=" + std::to_string(offset)).json();
    ASSERT_TRUE(page.is_object());
    EXPECT_EQ(page["total"], 5);
    for (const Json& r : page["items"]) seen.insert(r["id"].get<std::string>());
    ++pages;
    if (page["next_offset"].is_null()) break;
    offset = page["next_offset"];
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 5u);
  ExpectProblem(c.Get("/v1/resources?limit=0"), 400);
  ExpectProblem(c.Get("/v1/resources?limit=abc"), 400);
  ExpectProblem(c.Get("/v1/resources?colour=red"), 400);
}

TEST_P(HttpTest, ErrorsAreProblemDocuments) {
  ExpectProblem(anon_->Get("/v1/no-such-thing"), 404);
  Response m = anon_->Send("PUT", "/v1/resources", "{}", "application/json");
  ExpectProblem(m, 405);
  EXPECT_NE(m.header("Allow").find("GET"), std::string::npos);
  ExpectProblem(admin_->PostRaw("/v1/resources", "{not json", "application/json"), 400);
  ExpectProblem(admin_->Post("/v1/resources", {{"kind", "spaceship"}, {"metadata", {{"title", "x"}}}}), 400);
  ExpectProblem(admin_->Post("/v1/resources", {{"metadata", {{"title", ""}}}}), 400);
  ExpectProblem(anon_->Post("/v1/resources", {{"metadata", {{"title", "anon"}}}}), 401);
  ExpectProblem(admin_->Get("/v1/search?sort=sideways"), 400);
}

TEST_P(HttpTest, SearchWithFacetsAndFilters) {
  std::string word = "zq" + RandomHexString(4);
  for (int i = 0; i < 3; ++i) {
    std::string id = NewId("search");
    Json body = {{"id", id}, {"kind", i == 0 ? "dataset" : "model"}, {"visibility", "public"},
                 {"metadata", {{"title", word + " model " + std::to_string(i)}, {"license", "CC-BY-4.0"},
                               {"organ_systems", {i == 2 ? "cardiovascular" : "endocrine"}}}}};
    ASSERT_EQ(admin_->Post("/v1/resources", body).status, 201);
  }
  Json all = anon_->Get("/v1/search?q=" + word).json();
  EXPECT_EQ(all["total"], 3);
  std::map<std::string, int> kinds;
  for (const Json& f : all["facets"]["kind"]) kinds[f["value"]] = f["count"];
  EXPECT_EQ(kinds["model"], 2);
  EXPECT_EQ(kinds["dataset"], 1);
  EXPECT_EQ(anon_->Get("/v1/search?q=" + word + "&kind=model").json()["total"], 2);
  EXPECT_EQ(anon_->Get("/v1/search?q=" + word + "&kind=model&organ=cardiovascular").json()["total"], 1);
  EXPECT_EQ(anon_->Get("/v1/search?q=" + word + "&kind=model,dataset").json()["total"], 3);
  Json page = anon_->Get("/v1/search?q=" + word + "&limit=2&sort=title").json();
  EXPECT_EQ(page["items"].size(), 2u);
  EXPECT_EQ(page["next_offset"], 2);
  EXPECT_EQ(page["items"][0]["metadata"]["title"], word + " model 0");
}

TEST_P(HttpTest, FeedbackAndModeration) {
  std::string id = MakeModel("feedback");
  std::string reader = NewId("reader");
  ASSERT_EQ(admin_->Post("/v1/users", {{"name", reader}, {"role", "reader"}}).status, 201);
  Client r(server_->url(), admin_->Post("/v1/tokens", {{"user", reader}}).json()["token"]);
  ExpectProblem(anon_->Post("/v1/resources/" + id + "/feedback", {{"kind", "comment"}, {"text", "hi"}}), 401);
  Response comment = r.Post("/v1/resources/" + id + "/feedback", {{"kind", "comment"}, {"text", "Spam spam"}});
  ASSERT_EQ(comment.status, 201) << comment.body;
  Response review = r.Post("/v1/resources/" + id + "/feedback", {{"kind", "review"}, {"rating", 4}, {"text", "Good"}});
  ASSERT_EQ(review.status, 201) << review.body;
  ExpectProblem(r.Post("/v1/resources/" + id + "/feedback", {{"kind", "review"}, {"rating", 9}}), 400);
  EXPECT_EQ(anon_->Get("/v1/resources/" + id + "/feedback").json()["items"].size(), 2u);
  EXPECT_EQ(anon_->Get("/v1/resources/" + id).json()["review_count"], 1);

  std::string fid = comment.json()["id"];
  ExpectProblem(r.Post("/v1/feedback/" + fid + "/moderation", {{"hidden", true}}), 403);
  ASSERT_EQ(admin_->Post("/v1/feedback/" + fid + "/moderation", {{"hidden", true}, {"note", "spam"}}).status, 200);
  EXPECT_EQ(anon_->Get("/v1/resources/" + id + "/feedback").json()["items"].size(), 1u);
  EXPECT_EQ(admin_->Get("/v1/resources/" + id + "/feedback").json()["items"].size(), 2u);
}

TEST_P(HttpTest, UsersGroupsAndTokens) {
  std::string u = NewId("user");
  std::string g = NewId("grp");
  Response created = admin_->Post("/v1/users", {{"name", u}, {"role", "contributor"}});
  ASSERT_EQ(created.status, 201) << created.body;
  ExpectProblem(admin_->Post("/v1/users", {{"name", u}}), 409);
  ASSERT_EQ(admin_->Post("/v1/groups", {{"name", g}, {"title", "Consortium"}}).status, 201);
  EXPECT_EQ(admin_->Post("/v1/groups/" + g + "/members", {{"user", u}}).status, 204);

  Response issued = admin_->Post("/v1/tokens", {{"user", u}, {"label", "laptop"}});
  ASSERT_EQ(issued.status, 201);
  std::string token = issued.json()["token"];
  std::string token_id = issued.json()["info"]["id"];
  Client c(server_->url(), token);
  Json me = c.Get("/v1/me").json();
  EXPECT_EQ(me["user"], u);
  EXPECT_EQ(me["groups"], Json::array({g}));
  // Tokens are listed without their secret.
  Response list = c.Get("/v1/tokens");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(token), std::string::npos);
  EXPECT_EQ(admin_->Patch("/v1/users/" + u, {{"role", "curator"}}).json()["role"], "curator");
  EXPECT_EQ(c.Delete("/v1/tokens/" + token_id).status, 204);
  ExpectProblem(c.Get("/v1/me"), 401);
  EXPECT_EQ(admin_->Delete("/v1/groups/" + g + "/members/" + u).status, 204);
}

TEST_P(HttpTest, AuditLogRecordsWritesAndVerifies) {
  std::string id = MakeModel("audited");
  Json audit = admin_->Get("/v1/audit?limit=1000").json();
  ASSERT_TRUE(audit.is_object());
  EXPECT_GT(audit["total"].get<int>(), 0);
  bool found = false;
  Json last = admin_->Get("/v1/audit?limit=50").json();  // newest first
  for (const Json& e : last["items"]) found = found || (e["target"] == id && e["action"] == "version.push");
  EXPECT_TRUE(found) << last.dump(1);
  Json verify = admin_->Get("/v1/audit/verify").json();
  EXPECT_EQ(verify["ok"], true) << verify.dump();
  ExpectProblem(anon_->Get("/v1/audit/verify"), 401);
}

TEST_P(HttpTest, OmexExportImportRoundTrip) {
  std::string id = NewId("omex");
  std::string sbml;
  {
    std::ifstream in(std::string(SOMA_SOURCE_DIR) + "/models/bergman-minimal.xml");
    std::stringstream ss;
    ss << in.rdbuf();
    sbml = ss.str();
  }
  Json create = {{"id", id}, {"visibility", "public"},
                 {"metadata", {{"title", "Exported model"}, {"license", "CC-BY-4.0"},
                               {"organ_systems", {"endocrine"}}, {"scales", {"body"}},
                               {"creators", {{{"name", "Ada Lovelace"}, {"orcid", "0000-0002-1825-0097"}}}}}}};
  ASSERT_EQ(admin_->Post("/v1/resources", create).status, 201);
  ASSERT_EQ(admin_->Post("/v1/resources/" + id + "/versions",
                         PushBody({{"model.xml", sbml}, {"data/obs.csv", "t,G\n0,250\n"}}, "with data"))
                .status,
            201);
  Response zip = anon_->Get("/v1/resources/" + id + "/export");
  ASSERT_EQ(zip.status, 200) << zip.body;
  EXPECT_EQ(zip.body.substr(0, 2), "PK");
  EXPECT_NE(zip.header("Content-Disposition").find(id + ".omex"), std::string::npos);

  std::string copy = NewId("imported");
  Response imported = admin_->PostRaw("/v1/import?id=" + copy, zip.body, "application/zip");
  ASSERT_EQ(imported.status, 201) << imported.body;
  Json r = imported.json()["resource"];
  EXPECT_EQ(r["id"], copy);
  EXPECT_EQ(r["visibility"], "private");
  EXPECT_EQ(r["metadata"]["title"], "Exported model");
  EXPECT_EQ(r["metadata"]["organ_systems"], Json::array({"endocrine"}));
  EXPECT_EQ(r["metadata"]["creators"][0]["orcid"], "0000-0002-1825-0097");
  Json original = anon_->Get("/v1/resources/" + id + "/versions/latest").json();
  Json round = admin_->Get("/v1/resources/" + copy + "/versions/latest").json();
  std::map<std::string, std::string> a, b;
  for (const Json& f : original["files"]) a[f["path"]] = f["sha256"];
  for (const Json& f : round["files"]) b[f["path"]] = f["sha256"];
  EXPECT_EQ(a, b);
  ExpectProblem(admin_->PostRaw("/v1/import", "not a zip", "application/zip"), 400);
}

TEST_P(HttpTest, CliWorksTheSameAgainstServerAndDataFolder) {
  std::string id = NewId("cli");
  std::string model = std::string(SOMA_SOURCE_DIR) + "/models/bergman-minimal.xml";
  std::string remote = "--server " + server_->url() + " --token " + server_->admin_token();
  std::string db = server_->database_url().empty() ? "" : " --db " + server_->database_url();
  std::string local = "--data " + server_->data_dir().string() + db;

  CommandResult push = RunSoma("repo push " + id + " " + model + " --visibility public -m first " + remote);
  ASSERT_EQ(push.exit_code, 0) << push.out;
  EXPECT_NE(push.out.find("pushed " + id + " version 1"), std::string::npos) << push.out;

  CommandResult show_remote = RunSoma("repo show " + id + " --json " + remote);
  CommandResult show_local = RunSoma("repo show " + id + " --json " + local);
  ASSERT_EQ(show_remote.exit_code, 0) << show_remote.out;
  ASSERT_EQ(show_local.exit_code, 0) << show_local.out;
  EXPECT_EQ(Json::parse(show_remote.out), Json::parse(show_local.out));
  EXPECT_EQ(Json::parse(show_remote.out)["metadata"]["license"], "CC-BY-4.0");

  CommandResult versions = RunSoma("repo versions " + id + " --json " + local);
  ASSERT_EQ(versions.exit_code, 0) << versions.out;
  EXPECT_EQ(Json::parse(versions.out)["items"].size(), 1u);

  CommandResult search = RunSoma("repo search bergman --filter kind=model --json " + remote);
  ASSERT_EQ(search.exit_code, 0) << search.out;
  EXPECT_GE(Json::parse(search.out)["total"].get<int>(), 2);

  TempDir out("cli_pull");
  CommandResult pull = RunSoma("repo pull " + id + " -o " + (out.path() / "m").string() + " " + remote);
  ASSERT_EQ(pull.exit_code, 0) << pull.out;
  EXPECT_TRUE(fs::exists(out.path() / "m" / "bergman-minimal.xml"));

  std::string omex = (out.path() / "m.omex").string();
  ASSERT_EQ(RunSoma("repo export " + id + " -o " + omex + " " + local).exit_code, 0);
  CommandResult imp = RunSoma("repo import " + omex + " --id " + id + "-copy --json " + remote);
  ASSERT_EQ(imp.exit_code, 0) << imp.out;
  EXPECT_EQ(Json::parse(imp.out)["resource"]["id"], id + "-copy");

  // Errors exit non-zero with the server's message.
  CommandResult missing = RunSoma("repo show no-such-" + id + " " + remote);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("not found"), std::string::npos) << missing.out;
  CommandResult anon = RunSoma("repo push " + id + " " + model + " --server " + server_->url() + " --token ''");
  EXPECT_EQ(anon.exit_code, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, HttpTest, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return std::string(repo::DialectName(info.param)); });

// ---- servers with special options (SQLite only: the HTTP layer is the same) ----

TEST(HttpLimits, UploadsOverTheLimitGet413) {
  TempDir dir("limit413");
  auto server = ServerProcess::Start(dir.path() / "data", {.extra_args = {"--max-upload", "4096"}});
  ASSERT_NE(server, nullptr);
  Client admin(server->url(), server->admin_token());
  ASSERT_EQ(admin.Post("/v1/resources", {{"id", "big"}, {"metadata", {{"title", "Big"}}}}).status, 201);
  Response small = admin.Post("/v1/resources/big/versions", PushBody({{"a.txt", "small"}}, "ok"));
  EXPECT_EQ(small.status, 201) << small.body;
  Response big = admin.Post("/v1/resources/big/versions", PushBody({{"a.txt", std::string(8000, 'x')}}, "too big"));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.header("Content-Type"), "application/problem+json");
  EXPECT_NE(big.json()["detail"].get<std::string>().find("4096"), std::string::npos) << big.body;
  // The server is still healthy afterwards.
  EXPECT_EQ(admin.Get("/healthz").status, 200);
}

TEST(HttpLimits, RateLimitGives429WithRetryAfter) {
  TempDir dir("limit429");
  // One request per 10 s with a burst of 3: the 4th quick request is over.
  auto server = ServerProcess::Start(dir.path() / "data", {.extra_args = {"--rate-limit", "0.1", "--rate-burst", "3"}});
  ASSERT_NE(server, nullptr);
  Client anon(server->url());
  std::vector<int> statuses;
  Response limited;
  for (int i = 0; i < 6; ++i) {
    Response r = anon.Get("/v1/resources");
    statuses.push_back(r.status);
    if (r.status == 429) limited = r;
  }
  EXPECT_EQ(statuses[0], 200);
  ASSERT_EQ(limited.status, 429) << "statuses: " << ::testing::PrintToString(statuses);
  EXPECT_GE(std::stoi(limited.header("Retry-After")), 1);
  EXPECT_EQ(limited.header("Content-Type"), "application/problem+json");
  // Another client (a token) has its own bucket; probes are never limited.
  Client admin(server->url(), server->admin_token());
  EXPECT_EQ(admin.Get("/v1/me").status, 200);
  EXPECT_EQ(anon.Get("/healthz").status, 200);
}

TEST(HttpTls, ServesHttpsWithTheGivenCertificate) {
  TempDir dir("tls");
  ServeOptions o;
  o.tls = true;
  auto server = ServerProcess::Start(dir.path() / "data", o);
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(server->url().rfind("https://", 0), 0u) << server->url();
  Client tls(server->url(), server->admin_token(), server->cert_file().string());
  Response r = tls.Get("/v1/me");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["user"], "admin");
  // Plain HTTP to the TLS port gets no HTTP answer.
  Client plain("http://127.0.0.1:" + std::to_string(server->port()));
  EXPECT_NE(plain.Get("/healthz").status, 200);
  // The CLI trusts the certificate with --ca-cert.
  CommandResult cli = RunSoma("repo show bergman-minimal --server " + server->url() + " --ca-cert " +
                              server->cert_file().string());
  EXPECT_EQ(cli.exit_code, 0) << cli.out;
}

TEST(HttpShutdown, SigtermStopsGracefullyAndDataSurvives) {
  TempDir dir("shutdown");
  auto server = ServerProcess::Start(dir.path() / "data", {});
  ASSERT_NE(server, nullptr);
  std::string token = server->admin_token();
  Client admin(server->url(), token);
  ASSERT_EQ(admin.Post("/v1/resources", {{"id", "kept"}, {"metadata", {{"title", "Kept"}}}}).status, 201);
  EXPECT_EQ(server->Stop(), 0);
  EXPECT_NE(server->banner().find("soma: stopped"), std::string::npos) << server->banner();
  // Second start: no new admin, same token works, data still there.
  ASSERT_TRUE(server->Restart());
  EXPECT_EQ(server->admin_token(), token);
  EXPECT_EQ(server->banner().find("first start", server->banner().find("soma: stopped")), std::string::npos);
  EXPECT_EQ(Client(server->url(), token).Get("/v1/resources/kept").status, 200);
}

TEST(CliAudit, VerifyDetectsTampering) {
  TempDir dir("audit");
  fs::path data = dir.path() / "data";
  {
    auto server = ServerProcess::Start(data, {});
    ASSERT_NE(server, nullptr);
    Client admin(server->url(), server->admin_token());
    ASSERT_EQ(admin.Post("/v1/resources", {{"id", "a1"}, {"metadata", {{"title", "A"}}}}).status, 201);
    ASSERT_EQ(admin.Post("/v1/users", {{"name", "bob"}}).status, 201);
  }
  CommandResult ok = RunSoma("audit verify --data " + data.string());
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("audit log ok"), std::string::npos);
  std::string sql = "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'mallory' WHERE seq = 3;";
  ASSERT_EQ(std::system(("sqlite3 " + (data / "soma.db").string() + " \"" + sql + "\"").c_str()), 0);
  CommandResult bad = RunSoma("audit verify --data " + data.string());
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.out.find("seq 3"), std::string::npos) << bad.out;
  EXPECT_EQ(RunSoma("audit verify --data " + (dir.path() / "absent").string()).exit_code, 1);
}

}  // namespace
}  // namespace soma::apitest
