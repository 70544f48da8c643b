// The authorisation matrix: every route x role (anonymous, reader,
// contributor, curator, admin; group member vs outsider; owner) x
// visibility (public, group, private), with the expected statuses written
// as data below, checked on a live server. Also: search totals and facets
// never count what the caller may not read, and invisible resources are
// indistinguishable from absent ones.

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "server_process.h"

namespace soma::apitest {
namespace {

// Columns of the tables, in this order.
enum Who { kAnon, kReaderOut, kReaderIn, kContribOut, kOwner, kCurator, kAdmin, kWhoCount };
constexpr const char* kWhoNames[] = {"anonymous", "reader (outsider)", "reader (group member)",
                                     "contributor (not owner)", "owner (contributor, member)", "curator",
                                     "admin"};
enum Vis { kPub, kGrp, kPrv, kVisCount };
constexpr const char* kVisNames[] = {"public", "group", "private"};

// Per-resource routes: expected status for [who][visibility].
struct ResourceRow {
  const char* method;
  const char* path;  // {id} is the resource, {fid} a comment on it
  const char* body;  // "", or JSON ({vis} -> that resource's visibility body)
  int expect[kWhoCount][kVisCount];
};

// Reading: anyone who may see it; invisible is 404, never 403.
#define READ_ROW {{200, 404, 404}, {200, 404, 404}, {200, 200, 404}, {200, 404, 404}, \
                  {200, 200, 200}, {200, 200, 404}, {200, 200, 200}}
#define READ_ROW_STATUS(ok) {{ok, 404, 404}, {ok, 404, 404}, {ok, ok, 404}, {ok, 404, 404}, \
                            {ok, ok, ok}, {ok, ok, 404}, {ok, ok, ok}}
// Writing: owner, admin, curators who can read it; readers and other
// contributors get 403 where they can read and 404 where they cannot.
#define WRITE_ROW(ok) {{401, 401, 401}, {403, 404, 404}, {403, 403, 404}, {403, 404, 404}, \
                       {ok, ok, ok}, {ok, ok, 404}, {ok, ok, ok}}

const ResourceRow kResourceRows[] = {
    {"GET", "/v1/resources/{id}", "", READ_ROW},
    {"GET", "/v1/resources/{id}/versions", "", READ_ROW},
    {"GET", "/v1/resources/{id}/versions/1", "", READ_ROW},
    {"GET", "/v1/resources/{id}/versions/latest/files/data.csv", "", READ_ROW},
    {"GET", "/v1/resources/{id}/export", "", READ_ROW},
    {"GET", "/v1/resources/{id}/feedback", "", READ_ROW},
    {"POST", "/v1/resources/{id}/feedback", R"({"kind":"comment","text":"matrix"})",
     {{401, 401, 401}, {201, 404, 404}, {201, 201, 404}, {201, 404, 404},
      {201, 201, 201}, {201, 201, 404}, {201, 201, 201}}},
    // Same visibility again and the same content again: allowed calls do
    // not change the resources the rest of the matrix reads.
    {"PATCH", "/v1/resources/{id}", "{vis}", WRITE_ROW(200)},
    {"POST", "/v1/resources/{id}/versions", "{push}", WRITE_ROW(201)},
    // Twins ({tid}: a twin of that visibility owned by "owner"). Changing a
    // twin (new data, a forecast that records its events, a fit) needs what
    // a version push needs. The fit of a twin without data is refused (409)
    // after the authorisation checks.
    {"GET", "/v1/twins/{tid}", "", READ_ROW},
    {"GET", "/v1/twins/{tid}/posterior", "", READ_ROW},
    // The matrix twins have no data: readers learn that (409), others nothing.
    {"GET", "/v1/twins/{tid}/hindcast", "", READ_ROW_STATUS(409)},
    {"POST", "/v1/twins/{tid}/observations", R"({"observations":[]})", WRITE_ROW(200)},
    {"POST", "/v1/twins/{tid}/forecast", R"({"horizon":10,"step":5})", WRITE_ROW(200)},
    {"POST", "/v1/twins/{tid}/fit", "{}", WRITE_ROW(409)},
    // A what-if computes and records nothing: signed-in callers who may read.
    {"POST", "/v1/twins/{tid}/whatif", R"({"horizon":10,"step":5,"scenarios":[{"name":"none"}]})",
     {{401, 401, 401}, {200, 404, 404}, {200, 200, 404}, {200, 404, 404}, {200, 200, 200}, {200, 200, 404},
      {200, 200, 200}}},
    // After the forecast rows every twin has events, so limit=1 returns at once.
    {"GET", "/v1/twins/{tid}/events?since=0&limit=1&timeout=5", "", READ_ROW},
};

// Deleting, on disposable copies: owner and admin only.
const int kDeleteExpect[kWhoCount][kVisCount] = {
    {401, 401, 401}, {403, 404, 404}, {403, 403, 404}, {403, 404, 404},
    {204, 204, 204}, {403, 403, 404}, {204, 204, 204}};

// Routes that are not about one resource: expected status per caller.
struct GlobalRow {
  const char* method;
  const char* path;  // {n}: a fresh name per call; {fid}: a comment; {u}: a spare user
  const char* body;
  int expect[kWhoCount];
};

const GlobalRow kGlobalRows[] = {
    {"GET", "/healthz", "", {200, 200, 200, 200, 200, 200, 200}},
    {"GET", "/readyz", "", {200, 200, 200, 200, 200, 200, 200}},
    {"GET", "/v1/openapi.json", "", {200, 200, 200, 200, 200, 200, 200}},
    {"GET", "/v1/me", "", {200, 200, 200, 200, 200, 200, 200}},
    {"GET", "/v1/resources", "", {200, 200, 200, 200, 200, 200, 200}},
    {"GET", "/v1/search", "", {200, 200, 200, 200, 200, 200, 200}},
    {"POST", "/v1/resources", R"({"id":"{n}","metadata":{"title":"made in the matrix"}})",
     {401, 403, 403, 201, 201, 201, 201}},
    {"POST", "/v1/import?id={n}", "{omex}", {401, 403, 403, 201, 201, 201, 201}},
    {"POST", "/v1/feedback/{fid}/moderation", R"({"hidden":false})", {401, 403, 403, 403, 403, 200, 200}},
    {"GET", "/v1/users", "", {401, 403, 403, 403, 403, 403, 200}},
    {"POST", "/v1/users", R"({"name":"{n}","role":"reader"})", {401, 403, 403, 403, 403, 403, 201}},
    {"GET", "/v1/users/{u}", "", {401, 403, 403, 403, 403, 403, 200}},
    {"PATCH", "/v1/users/{u}", R"({"role":"reader"})", {401, 403, 403, 403, 403, 403, 200}},
    {"GET", "/v1/groups", "", {401, 200, 200, 200, 200, 200, 200}},
    {"POST", "/v1/groups", R"({"name":"{n}"})", {401, 403, 403, 403, 403, 403, 201}},
    {"POST", "/v1/groups/spare/members", R"({"user":"{u}"})", {401, 403, 403, 403, 403, 403, 204}},
    {"DELETE", "/v1/groups/spare/members/{u}", "", {401, 403, 403, 403, 403, 403, 204}},
    {"GET", "/v1/tokens", "", {401, 200, 200, 200, 200, 200, 200}},
    {"POST", "/v1/tokens", R"({"label":"matrix"})", {401, 201, 201, 201, 201, 201, 201}},
    {"DELETE", "/v1/tokens/{n}", "", {401, 404, 404, 404, 404, 404, 404}},
    // Jobs: contributors and up start them on a model they can read; a job
    // ({job}: the admin's, finished) is visible to its owner and admins only.
    {"POST", "/v1/jobs", R"({"kind":"scenario-compare","model":{"id":"bergman-minimal"},"scenarios":[{"name":"s","end":10,"steps":10,"outputs":["G"]}]})",
     {401, 403, 403, 202, 202, 202, 202}},
    {"GET", "/v1/jobs", "", {401, 200, 200, 200, 200, 200, 200}},
    {"GET", "/v1/jobs/{job}", "", {401, 404, 404, 404, 404, 404, 200}},
    {"GET", "/v1/jobs/{job}/result", "", {401, 404, 404, 404, 404, 404, 200}},
    {"DELETE", "/v1/jobs/{job}", "", {401, 404, 404, 404, 404, 404, 409}},
    {"GET", "/v1/audit", "", {401, 403, 403, 403, 403, 403, 200}},
    {"GET", "/v1/audit/verify", "", {401, 403, 403, 403, 403, 403, 200}},
    {"GET", "/v1/twins", "", {200, 200, 200, 200, 200, 200, 200}},
    {"POST", "/v1/twins", "{twin}", {401, 403, 403, 201, 201, 201, 201}},
};

bool CanRead(int who, int vis) { return kResourceRows[0].expect[who][vis] == 200; }

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

class AuthzMatrix : public ::testing::TestWithParam<repo::Dialect> {
 protected:
  void SetUp() override {
    if (!repo::TestBackendAvailable(GetParam())) GTEST_SKIP() << "SOMA_TEST_POSTGRES_URL is not set";
    dir_ = std::make_unique<TempDir>("authz");
    ServeOptions o;
    o.backend = GetParam();
    o.extra_args = {"--rate-limit", "0"};
    server_ = ServerProcess::Start(dir_->path() / "data", o);
    ASSERT_NE(server_, nullptr);
    admin_ = std::make_unique<Client>(server_->url(), server_->admin_token());
    word_ = "matrix" + RandomHexString(4);

    ASSERT_EQ(admin_->Post("/v1/groups", {{"name", "g"}}).status, 201);
    ASSERT_EQ(admin_->Post("/v1/groups", {{"name", "spare"}}).status, 201);
    ASSERT_EQ(admin_->Post("/v1/users", {{"name", "spareuser"}, {"role", "contributor"}}).status, 201);
    const std::pair<Who, std::pair<const char*, const char*>> users[] = {
        {kReaderOut, {"rout", "reader"}}, {kReaderIn, {"rin", "reader"}},
        {kContribOut, {"cout", "contributor"}}, {kOwner, {"owner", "contributor"}},
        {kCurator, {"cur", "curator"}}};
    clients_.resize(kWhoCount);
    clients_[kAnon] = std::make_unique<Client>(server_->url());
    clients_[kAdmin] = std::make_unique<Client>(server_->url(), server_->admin_token());
    for (const auto& [who, spec] : users) {
      ASSERT_EQ(admin_->Post("/v1/users", {{"name", spec.first}, {"role", spec.second}}).status, 201);
      Json t = admin_->Post("/v1/tokens", {{"user", spec.first}}).json();
      clients_[who] = std::make_unique<Client>(server_->url(), t["token"].get<std::string>());
    }
    for (const char* member : {"rin", "owner"}) {
      ASSERT_EQ(admin_->Post("/v1/groups/g/members", {{"user", member}}).status, 204);
    }
    // Tokens carry group membership as of authentication, so re-read /v1/me.
    ASSERT_EQ(clients_[kReaderIn]->Get("/v1/me").json()["groups"], Json::array({"g"}));

    for (int v = 0; v < kVisCount; ++v) ids_[v] = MakeResource(word_ + "-" + kVisNames[v], v);
    for (int v = 0; v < kVisCount; ++v) {
      Json body = TwinBody("t-" + RandomHexString(5));
      body["visibility"] = kVisNames[v];
      if (v == kGrp) body["group"] = "g";
      Response t = clients_[kOwner]->Post("/v1/twins", body);
      ASSERT_EQ(t.status, 201) << t.body;
      tids_[v] = t.json()["id"];
    }
    Json comment = clients_[kOwner]->Post("/v1/resources/" + ids_[kPub] + "/feedback",
                                          {{"kind", "comment"}, {"text", "to moderate"}}).json();
    fid_ = comment["id"];
    // A finished job of the admin's.
    Response job = admin_->Post("/v1/jobs", Json::parse(R"({"kind": "scenario-compare",
        "model": {"id": "bergman-minimal"},
        "scenarios": [{"name": "s", "end": 10, "steps": 10, "outputs": ["G"]}]})"));
    ASSERT_EQ(job.status, 202) << job.body;
    job_ = job.json()["id"];
    for (int i = 0; i < 3000 && admin_->Get("/v1/jobs/" + job_).json()["state"] != "succeeded"; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(admin_->Get("/v1/jobs/" + job_).json()["state"], "succeeded");
    // An archive to import (checked by the export rows of the matrix).
    omex_ = admin_->Get("/v1/resources/" + ids_[kPub] + "/export").body;
  }

  // A resource owned by "owner" with one version (file data.csv).
  std::string MakeResource(const std::string& title, int vis) {
    std::string id = "r-" + RandomHexString(5);
    Json body = {{"id", id}, {"visibility", kVisNames[vis]},
                 {"metadata", {{"title", title}, {"license", "CC-BY-4.0"}}}};
    if (vis == kGrp) body["group"] = "g";
    Response c = clients_[kOwner]->Post("/v1/resources", body);
    EXPECT_EQ(c.status, 201) << c.body;
    Response p = clients_[kOwner]->Post("/v1/resources/" + id + "/versions", Push());
    EXPECT_EQ(p.status, 201) << p.body;
    return id;
  }

  static Json Push() { return PushBody({{"data.csv", "a,b\n1,2\n"}}, "matrix content"); }

  // A small twin without data (bundled T1D model, 5 members).
  static Json TwinBody(const std::string& id) {
    std::ifstream in(std::string(SOMA_SOURCE_DIR) + "/twins/t1d-cgm.json");
    std::stringstream ss;
    ss << in.rdbuf();
    Json d = Json::parse(ss.str());
    d["assimilation"]["ensemble_size"] = 5;
    d["title"] = "matrix twin";
    return {{"id", id}, {"definition", d}, {"license", "CC-BY-4.0"}};
  }

  static Json VisibilityBody(int vis) {
    Json b = {{"visibility", kVisNames[vis]}};
    if (vis == kGrp) b["group"] = "g";
    return b;
  }

  Response Call(int who, const std::string& method, const std::string& path, const std::string& body_spec,
                int vis) {
    std::string body = body_spec;
    std::string type = body.empty() ? "" : "application/json";
    if (body == "{vis}") body = VisibilityBody(vis).dump();
    if (body == "{push}") body = Push().dump();
    if (body == "{omex}") {
      body = omex_;
      type = "application/zip";
    }
    std::string fresh = "n" + RandomHexString(5);
    std::string p =
        Replace(Replace(Replace(Replace(path, "{n}", fresh), "{fid}", fid_), "{u}", "spareuser"), "{job}", job_);
    body = Replace(Replace(body, "{n}", fresh), "{u}", "spareuser");
    if (body == "{twin}") body = TwinBody(fresh).dump();
    return clients_[who]->Send(method, p, body, type);
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> admin_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::string ids_[kVisCount];
  std::string tids_[kVisCount];
  std::string word_, fid_, omex_, job_;
};

TEST_P(AuthzMatrix, EveryResourceRouteByRoleAndVisibility) {
  int checked = 0;
  for (const ResourceRow& row : kResourceRows) {
    for (int who = 0; who < kWhoCount; ++who) {
      for (int vis = 0; vis < kVisCount; ++vis) {
        std::string path = Replace(Replace(row.path, "{id}", ids_[vis]), "{tid}", tids_[vis]);
        Response r = Call(who, row.method, path, row.body, vis);
        EXPECT_EQ(r.status, row.expect[who][vis])
            << row.method << " " << row.path << " as " << kWhoNames[who] << " on a " << kVisNames[vis]
            << " resource: " << r.body;
        if (r.status >= 400) EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, static_cast<int>(std::size(kResourceRows)) * kWhoCount * kVisCount);
}

TEST_P(AuthzMatrix, DeleteByRoleAndVisibility) {
  for (int who = 0; who < kWhoCount; ++who) {
    for (int vis = 0; vis < kVisCount; ++vis) {
      std::string id = MakeResource("disposable", vis);
      Response r = clients_[who]->Delete("/v1/resources/" + id);
      EXPECT_EQ(r.status, kDeleteExpect[who][vis])
          << "DELETE as " << kWhoNames[who] << " on a " << kVisNames[vis] << " resource: " << r.body;
      bool gone = admin_->Get("/v1/resources/" + id).status == 404;
      EXPECT_EQ(gone, kDeleteExpect[who][vis] == 204);
    }
  }
}

TEST_P(AuthzMatrix, EveryGlobalRouteByRole) {
  for (const GlobalRow& row : kGlobalRows) {
    for (int who = 0; who < kWhoCount; ++who) {
      Response r = Call(who, row.method, row.path, row.body, kPub);
      EXPECT_EQ(r.status, row.expect[who]) << row.method << " " << row.path << " as " << kWhoNames[who] << ": "
                                           << r.body;
    }
  }
}

TEST_P(AuthzMatrix, SearchAndListsNeverCountInvisibleResources) {
  for (int who = 0; who < kWhoCount; ++who) {
    std::set<std::string> visible;
    for (int vis = 0; vis < kVisCount; ++vis) {
      if (CanRead(who, vis)) visible.insert(ids_[vis]);
    }
    SCOPED_TRACE(kWhoNames[who]);
    Json s = clients_[who]->Get("/v1/search?q=" + word_).json();
    ASSERT_TRUE(s.is_object());
    EXPECT_EQ(s["total"], visible.size());
    std::set<std::string> got;
    for (const Json& item : s["items"]) got.insert(item["id"].get<std::string>());
    EXPECT_EQ(got, visible);
    // Every facet counts only visible matches.
    for (auto& [facet, counts] : s["facets"].items()) {
      int sum = 0;
      for (const Json& c : counts) {
        EXPECT_LE(c["count"].get<int>(), static_cast<int>(visible.size())) << facet;
        sum += c["count"].get<int>();
      }
      if (facet == "visibility" || facet == "kind") EXPECT_EQ(sum, static_cast<int>(visible.size())) << facet;
    }
    for (const Json& c : s["facets"]["visibility"]) {
      std::string v = c["value"];
      int vis = v == "public" ? kPub : v == "group" ? kGrp : kPrv;
      EXPECT_TRUE(CanRead(who, vis)) << "facet counts an invisible " << v << " resource";
    }
    // Filtering on an invisible value finds nothing, not even a count.
    Json priv = clients_[who]->Get("/v1/search?q=" + word_ + "&visibility=private").json();
    EXPECT_EQ(priv["total"], CanRead(who, kPrv) ? 1 : 0);
    // The owner's listing shows the same.
    Json list = clients_[who]->Get("/v1/resources?owner=owner&limit=100").json();
    std::set<std::string> listed;
    for (const Json& item : list["items"]) {
      if (item["metadata"]["title"].get<std::string>().rfind(word_, 0) == 0) listed.insert(item["id"]);
    }
    EXPECT_EQ(listed, visible);
  }
}

TEST_P(AuthzMatrix, InvisibleLooksExactlyLikeAbsent) {
  Response invisible = clients_[kReaderOut]->Get("/v1/resources/" + ids_[kPrv]);
  Response absent = clients_[kReaderOut]->Get("/v1/resources/r-absent0000");
  EXPECT_EQ(invisible.status, 404);
  EXPECT_EQ(Replace(invisible.body, ids_[kPrv], "X"), Replace(absent.body, "r-absent0000", "X"));
}

TEST_P(AuthzMatrix, ReadsOfNonPublicResourcesAreAudited) {
  ASSERT_EQ(clients_[kReaderIn]->Get("/v1/resources/" + ids_[kGrp]).status, 200);
  Json tail = admin_->Get("/v1/audit?limit=20").json();  // newest first
  bool found = false;
  for (const Json& e : tail["items"]) {
    found = found || (e["actor"] == "rin" && e["action"] == "resource.read" && e["target"] == ids_[kGrp]);
  }
  EXPECT_TRUE(found) << tail.dump(1);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthzMatrix, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return std::string(repo::DialectName(info.param)); });

}  // namespace
}  // namespace soma::apitest
