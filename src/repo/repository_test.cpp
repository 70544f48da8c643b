#include "repo/repository.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "repo/crypto.h"
#include "repo/test_database.h"

namespace soma::repo {
namespace {
namespace fs = std::filesystem;

Metadata Meta(const std::string& title, const std::string& license = "CC-BY-4.0") {
  Metadata m;
  m.title = title;
  m.license = license;
  return m;
}

NewVersion OneFile(const std::string& path, const std::string& bytes, const std::string& msg = "v") {
  NewVersion v;
  v.files.push_back({path, bytes, ""});
  v.message = msg;
  return v;
}

// A repository with users of every role: admin, alice (contributor, group
// "heart"), bob (contributor, no group), carol (reader, "heart"), cur
// (curator), and a public, a group and a private resource owned by alice.
class RepositoryTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    if (!TestBackendAvailable(GetParam())) GTEST_SKIP() << "SOMA_TEST_POSTGRES_URL is not set";
    dir_ = fs::temp_directory_path() / ("soma_repo_test_" + RandomHex(6));
    auto db = MakeTestDatabase(GetParam(), dir_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    RepositoryOptions o;
    o.data_dir = dir_ / "data";
    o.database_url = db_->url();
    auto repo = Repository::Open(o);
    ASSERT_TRUE(repo.ok()) << repo.status().ToString();
    repo_ = std::move(*repo);
    ASSERT_TRUE(repo_->CreateInitialAdmin("admin").ok());
    admin_ = *repo_->PrincipalForUser("admin");
    ASSERT_TRUE(repo_->CreateGroup(admin_, "heart", "Heart consortium").ok());
    for (auto [name, role] : {std::pair{"alice", Role::kContributor}, {"bob", Role::kContributor},
                              {"carol", Role::kReader}, {"cur", Role::kCurator}}) {
      ASSERT_TRUE(repo_->CreateUser(admin_, name, role).ok());
    }
    ASSERT_TRUE(repo_->AddMember(admin_, "heart", "alice").ok());
    ASSERT_TRUE(repo_->AddMember(admin_, "heart", "carol").ok());
    alice_ = *repo_->PrincipalForUser("alice");
    bob_ = *repo_->PrincipalForUser("bob");
    carol_ = *repo_->PrincipalForUser("carol");
    cur_ = *repo_->PrincipalForUser("cur");
  }
  void TearDown() override {
    repo_.reset();
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Resource Create(const Principal& p, const std::string& id, Visibility v,
                  const std::string& group = "", Metadata m = Meta("A model")) {
    NewResource r;
    r.id = id;
    r.metadata = std::move(m);
    r.visibility = v;
    r.group = group;
    auto out = repo_->CreateResource(p, r);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : Resource{};
  }

  fs::path dir_;
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Repository> repo_;
  Principal admin_, alice_, bob_, carol_, cur_;
};

TEST_P(RepositoryTest, CreateGetAndSlugIds) {
  NewResource r;
  r.metadata = Meta("Glucose–Insulin Model (Bergman)");
  r.visibility = Visibility::kPublic;
  auto a = repo_->CreateResource(alice_, r);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->id, "glucose-insulin-model-bergman");
  auto b = repo_->CreateResource(alice_, r);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->id, "glucose-insulin-model-bergman-2");
  auto got = repo_->GetResource(Principal::Anonymous(), a->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->owner, "alice");
  EXPECT_EQ(got->metadata.title, "Glucose–Insulin Model (Bergman)");

  r.id = "Bad Id";
  EXPECT_EQ(repo_->CreateResource(alice_, r).status().code(), ErrorCode::kInvalidArgument);
  r.id = a->id;
  EXPECT_EQ(repo_->CreateResource(alice_, r).status().code(), ErrorCode::kAlreadyExists);
  r.id = "x";
  EXPECT_EQ(repo_->CreateResource(carol_, r).status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(repo_->CreateResource(Principal::Anonymous(), r).status().code(),
            ErrorCode::kUnauthenticated);
  r.metadata.scales = {"galaxy"};
  auto bad = repo_->CreateResource(alice_, r);
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("metadata.scales[0]"), std::string::npos);
}

TEST_P(RepositoryTest, PublicNeedsLicence) {
  NewResource r;
  r.id = "m";
  r.metadata = Meta("Unlicensed", "");
  r.visibility = Visibility::kPublic;
  EXPECT_EQ(repo_->CreateResource(alice_, r).status().code(), ErrorCode::kFailedPrecondition);
  r.visibility = Visibility::kPrivate;
  ASSERT_TRUE(repo_->CreateResource(alice_, r).ok());
  EXPECT_EQ(repo_->SetVisibility(alice_, "m", Visibility::kPublic, "").status().code(),
            ErrorCode::kFailedPrecondition);
  NewVersion v = OneFile("a.txt", "x");
  v.metadata = Meta("Now licensed", "MIT");
  ASSERT_TRUE(repo_->PushVersion(alice_, "m", v).ok());
  EXPECT_TRUE(repo_->SetVisibility(alice_, "m", Visibility::kPublic, "").ok());
  // A public resource cannot drop its licence in a later version.
  v.metadata = Meta("Licence removed", "");
  EXPECT_EQ(repo_->PushVersion(alice_, "m", v).status().code(), ErrorCode::kFailedPrecondition);
}

TEST_P(RepositoryTest, VersionsAreContentAddressedAndImmutable) {
  Create(alice_, "m", Visibility::kPublic);
  auto v1 = repo_->PushVersion(alice_, "m", OneFile("model.xml", "<sbml/>", "first"));
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->number, 1);
  EXPECT_TRUE(IsSha256Hex(v1->hash));
  ASSERT_EQ(v1->files.size(), 1u);
  EXPECT_EQ(v1->files[0].sha256, Sha256Hex("<sbml/>"));
  EXPECT_EQ(v1->files[0].media_type, "application/sbml+xml");
  // Same content again: no new version.
  auto same = repo_->PushVersion(alice_, "m", OneFile("model.xml", "<sbml/>", "again"));
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->hash, v1->hash);
  auto v2 = repo_->PushVersion(alice_, "m", OneFile("model.xml", "<sbml level='3'/>", "second"));
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->number, 2);
  EXPECT_NE(v2->hash, v1->hash);
  // Back to the first content: a third version with its own address.
  auto v3 = repo_->PushVersion(alice_, "m", OneFile("model.xml", "<sbml/>", "revert"));
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(v3->number, 3);
  EXPECT_NE(v3->hash, v1->hash);

  auto list = repo_->ListVersions(bob_, "m");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].number, 3);
  EXPECT_EQ(repo_->GetVersion(bob_, "m", "1")->hash, v1->hash);
  EXPECT_EQ(repo_->GetVersion(bob_, "m", v2->hash.substr(0, 10))->number, 2);
  EXPECT_EQ(repo_->GetVersion(bob_, "m", "latest")->hash, v3->hash);
  EXPECT_EQ(*repo_->ReadFile(bob_, "m", "2", "model.xml"), "<sbml level='3'/>");
  EXPECT_EQ(repo_->ReadFile(bob_, "m", "2", "other.xml").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(repo_->GetVersion(bob_, "m", "9").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(repo_->GetVersion(bob_, "m", "zz").status().code(), ErrorCode::kInvalidArgument);
  auto r = repo_->GetResource(bob_, "m");
  EXPECT_EQ(r->version_count, 3);
  EXPECT_EQ(r->latest_version, v3->hash);
}

TEST_P(RepositoryTest, PushRejectsBadFilesAndOutsiders) {
  Create(alice_, "m", Visibility::kPublic);
  for (const char* path : {"../x", "/abs", "a//b", "a/./b", ""}) {
    EXPECT_EQ(repo_->PushVersion(alice_, "m", OneFile(path, "x")).status().code(),
              ErrorCode::kInvalidArgument)
        << path;
  }
  NewVersion dup = OneFile("a", "1");
  dup.files.push_back({"a", "2", ""});
  EXPECT_EQ(repo_->PushVersion(alice_, "m", dup).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(repo_->PushVersion(alice_, "m", OneFile("a", "x", " ")).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(repo_->PushVersion(bob_, "m", OneFile("a", "x")).status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(repo_->PushVersion(Principal::Anonymous(), "m", OneFile("a", "x")).status().code(),
            ErrorCode::kUnauthenticated);
  EXPECT_TRUE(repo_->PushVersion(cur_, "m", OneFile("a", "x")).ok());
  EXPECT_TRUE(repo_->PushVersion(admin_, "m", OneFile("a", "y")).ok());
  EXPECT_EQ(repo_->GetResource(alice_, "m")->version_count, 2);
}

TEST_P(RepositoryTest, VisibilityIsEnforcedOnReadsListsAndSearch) {
  Metadata m = Meta("Heart model");
  m.organ_systems = {"cardiovascular"};
  Create(alice_, "pub", Visibility::kPublic, "", m);
  Create(alice_, "grp", Visibility::kGroup, "heart", m);
  Create(alice_, "priv", Visibility::kPrivate, "", m);
  struct Case {
    const Principal* who;
    std::set<std::string> sees;
  };
  Principal anon = Principal::Anonymous();
  for (const Case& c : std::vector<Case>{{&anon, {"pub"}},
                                         {&bob_, {"pub"}},
                                         {&carol_, {"pub", "grp"}},
                                         {&cur_, {"pub", "grp"}},
                                         {&alice_, {"pub", "grp", "priv"}},
                                         {&admin_, {"pub", "grp", "priv"}}}) {
    std::string who = c.who->anonymous() ? "anonymous" : c.who->user;
    for (const char* id : {"pub", "grp", "priv"}) {
      auto r = repo_->GetResource(*c.who, id);
      EXPECT_EQ(r.ok(), c.sees.count(id) == 1) << who << " " << id;
      if (!r.ok()) EXPECT_EQ(r.status().code(), ErrorCode::kNotFound) << who << " " << id;
      EXPECT_EQ(repo_->ListVersions(*c.who, id).ok(), c.sees.count(id) == 1) << who << " " << id;
    }
    SearchQuery q;
    q.text = "heart";
    auto s = repo_->Search(*c.who, q);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->total, static_cast<int>(c.sees.size())) << who;
    std::set<std::string> ids;
    for (const Resource& r : s->items) ids.insert(r.id);
    EXPECT_EQ(ids, c.sees) << who;
    // Facet counts cover only what the caller sees.
    ASSERT_EQ(s->facets["organ"].size(), 1u) << who;
    EXPECT_EQ(s->facets["organ"][0].count, static_cast<int>(c.sees.size())) << who;
    int vis_total = 0;
    for (const FacetCount& f : s->facets["visibility"]) vis_total += f.count;
    EXPECT_EQ(vis_total, static_cast<int>(c.sees.size())) << who;
    auto l = repo_->ListResources(*c.who, {});
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l->total, static_cast<int>(c.sees.size())) << who;
  }
  // Group membership changes take effect for new principals.
  ASSERT_TRUE(repo_->AddMember(admin_, "heart", "bob").ok());
  EXPECT_TRUE(repo_->GetResource(*repo_->PrincipalForUser("bob"), "grp").ok());
}

TEST_P(RepositoryTest, SearchFullTextFacetsSortAndPages) {
  Metadata a = Meta("Bergman minimal model");
  a.description = "Glucose and insulin kinetics after an IVGTT";
  a.organ_systems = {"endocrine"};
  a.diseases = {"type 1 diabetes"};
  a.scales = {"body"};
  Create(alice_, "bergman", Visibility::kPublic, "", a);
  NewVersion v = OneFile("model.xml", "<sbml/>");
  v.index_text = "G X I Gb Ib p1 p2 p3 plasma_glucose remote_insulin";
  v.annotations = {"https://identifiers.org/CHEBI:17234"};
  ASSERT_TRUE(repo_->PushVersion(alice_, "bergman", v).ok());
  Metadata b = Meta("Windkessel circulation");
  b.organ_systems = {"cardiovascular"};
  b.scales = {"organ"};
  b.license = "MIT";
  Create(alice_, "windkessel", Visibility::kPublic, "", b);
  Metadata c = Meta("Theophylline PK");
  c.organ_systems = {"endocrine"};
  c.credibility_level = "medium";
  Create(bob_, "theo", Visibility::kPublic, "", c);

  auto search = [&](const std::string& text, std::map<std::string, std::vector<std::string>> f = {},
                    SortOrder sort = SortOrder::kRelevance) {
    SearchQuery q;
    q.text = text;
    q.filters = std::move(f);
    q.sort = sort;
    auto r = repo_->Search(carol_, q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> ids;
    for (const Resource& x : r->items) ids.push_back(x.id);
    return std::pair{*r, ids};
  };
  EXPECT_EQ(search("insulin").second, std::vector<std::string>{"bergman"});
  EXPECT_EQ(search("plasma_glucose").second, std::vector<std::string>{"bergman"});  // model content
  EXPECT_EQ(search("CHEBI:17234").second, std::vector<std::string>{"bergman"});     // annotation
  EXPECT_EQ(search("gluc").second, std::vector<std::string>{"bergman"});            // prefix
  EXPECT_EQ(search("windkessel circulation").second, std::vector<std::string>{"windkessel"});
  EXPECT_TRUE(search("nonexistentword").second.empty());
  EXPECT_EQ(search("\"; DROP TABLE resources; --").second.size(), 0u);  // no injection, no error
  auto [all, ids] = search("");
  EXPECT_EQ(all.total, 3);
  std::map<std::string, int> organ;
  for (const FacetCount& f : all.facets["organ"]) organ[f.value] = f.count;
  EXPECT_EQ(organ["endocrine"], 2);
  EXPECT_EQ(organ["cardiovascular"], 1);
  EXPECT_EQ(all.facets["organ"][0].value, "endocrine");  // counts descending
  std::map<std::string, int> lic;
  for (const FacetCount& f : all.facets["license"]) lic[f.value] = f.count;
  EXPECT_EQ(lic["CC-BY-4.0"], 2);
  EXPECT_EQ(lic["MIT"], 1);
  EXPECT_EQ(search("", {{"organ", {"endocrine"}}}).first.total, 2);
  EXPECT_EQ(search("", {{"organ", {"endocrine"}}, {"credibility", {"medium"}}}).second,
            std::vector<std::string>{"theo"});
  EXPECT_EQ(search("", {{"organ", {"endocrine", "cardiovascular"}}}).first.total, 3);
  EXPECT_EQ(search("", {}, SortOrder::kTitle).second,
            (std::vector<std::string>{"bergman", "theo", "windkessel"}));
  SearchQuery q;
  q.sort = SortOrder::kTitle;
  q.limit = 2;
  q.offset = 2;
  auto page = repo_->Search(carol_, q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 3);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, "windkessel");
  q.limit = 0;
  EXPECT_EQ(repo_->Search(carol_, q).status().code(), ErrorCode::kInvalidArgument);
  q.limit = 10;
  q.filters["colour"] = {"red"};
  EXPECT_EQ(repo_->Search(carol_, q).status().code(), ErrorCode::kInvalidArgument);
}

TEST_P(RepositoryTest, TokensAuthenticateAndAreStoredOnlyHashed) {
  auto t = repo_->CreateToken(alice_, "alice", "laptop");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto p = repo_->Authenticate(t->token);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->user, "alice");
  EXPECT_EQ(p->role, Role::kContributor);
  EXPECT_EQ(p->groups, std::vector<std::string>{"heart"});
  std::string wrong = t->token;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_EQ(repo_->Authenticate(wrong).status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(repo_->Authenticate("garbage").status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(repo_->CreateToken(alice_, "bob", "x").status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(repo_->CreateToken(Principal::Anonymous(), "admin", "x").status().code(),
            ErrorCode::kUnauthenticated);  // bootstrap is over: a token exists
  if (GetParam() == Dialect::kSqlite) {
    // The secret part never reaches the database file.
    std::string secret = t->token.substr(18);
    for (const char* f : {"soma.db", "soma.db-wal"}) {
      std::ifstream in(dir_ / "db" / f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      EXPECT_EQ(ss.str().find(secret), std::string::npos) << f;
    }
  }
  ASSERT_TRUE(repo_->RevokeToken(alice_, t->info.id).ok());
  EXPECT_EQ(repo_->Authenticate(t->token).status().code(), ErrorCode::kUnauthenticated);
  EXPECT_TRUE(repo_->ListTokens(alice_, "alice")->at(0).revoked);
}

TEST_P(RepositoryTest, AuditRecordsWritesAndNonPublicReadsAndVerifies) {
  Create(alice_, "pub", Visibility::kPublic);
  Create(alice_, "priv", Visibility::kPrivate);
  auto before = repo_->ListAudit(admin_, 1000, 0);
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(repo_->GetResource(bob_, "pub").ok());
  EXPECT_EQ(repo_->ListAudit(admin_, 1000, 0)->total, before->total);  // public reads: not audited
  ASSERT_TRUE(repo_->GetResource(alice_, "priv").ok());
  auto after = repo_->ListAudit(admin_, 1000, 0);
  EXPECT_EQ(after->total, before->total + 1);
  EXPECT_EQ(after->items[0].action, "resource.read");
  EXPECT_EQ(after->items[0].actor, "alice");
  EXPECT_EQ(after->items[0].target, "priv");
  EXPECT_EQ(repo_->ListAudit(alice_, 10, 0).status().code(), ErrorCode::kPermissionDenied);
  auto ok = repo_->VerifyAudit();
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->ok) << ok->problem;
  EXPECT_EQ(ok->entries, after->total);
}

TEST_P(RepositoryTest, FeedbackAndModeration) {
  Create(alice_, "m", Visibility::kPublic);
  ASSERT_TRUE(repo_->AddComment(carol_, "m", "Which units is G in?").ok());
  auto r1 = repo_->AddReview(carol_, "m", 4, "Reproduces the paper");
  auto r2 = repo_->AddReview(bob_, "m", 2, "spam spam");
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(repo_->AddReview(bob_, "m", 6, "").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(repo_->AddComment(Principal::Anonymous(), "m", "hi").status().code(),
            ErrorCode::kUnauthenticated);
  EXPECT_DOUBLE_EQ(repo_->GetResource(carol_, "m")->rating, 3.0);
  EXPECT_EQ(repo_->Moderate(carol_, r2->id, true, "").status().code(), ErrorCode::kPermissionDenied);
  ASSERT_TRUE(repo_->Moderate(cur_, r2->id, true, "off-topic").ok());
  EXPECT_EQ(repo_->ListFeedback(carol_, "m")->size(), 2u);
  EXPECT_EQ(repo_->ListFeedback(cur_, "m")->size(), 3u);
  auto res = repo_->GetResource(carol_, "m");
  EXPECT_DOUBLE_EQ(res->rating, 4.0);
  EXPECT_EQ(res->review_count, 1);
  Create(alice_, "priv", Visibility::kPrivate);
  EXPECT_EQ(repo_->AddComment(bob_, "priv", "x").status().code(), ErrorCode::kNotFound);
}

TEST_P(RepositoryTest, ConcurrentPushesKeepNumbersAndTheAuditChainWhole) {
  Create(alice_, "shared", Visibility::kPublic);
  constexpr int kThreads = 4, kEach = 8;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto v = repo_->PushVersion(alice_, "shared",
                                    OneFile("f.txt", std::to_string(t) + "-" + std::to_string(i)));
        if (!v.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto list = repo_->ListVersions(alice_, "shared");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), static_cast<size_t>(kThreads * kEach));
  for (size_t i = 0; i < list->size(); ++i) EXPECT_EQ((*list)[i].number, kThreads * kEach - static_cast<int>(i));
  auto audit = repo_->VerifyAudit();
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->ok) << audit->problem;
  auto integrity = repo_->CheckIntegrity();
  ASSERT_TRUE(integrity.ok());
  EXPECT_TRUE(integrity->problems.empty());
  EXPECT_EQ(integrity->versions, kThreads * kEach);
}

TEST_P(RepositoryTest, CorruptBlobIsDetected) {
  Create(alice_, "m", Visibility::kPublic);
  auto v = repo_->PushVersion(alice_, "m", OneFile("a.txt", "original bytes"));
  ASSERT_TRUE(v.ok());
  std::string h = v->files[0].sha256;
  fs::path blob = dir_ / "data" / "blobs" / h.substr(0, 2) / h.substr(2);
  ASSERT_TRUE(fs::exists(blob));
  std::ofstream(blob, std::ios::binary | std::ios::trunc) << "tampered";
  EXPECT_EQ(repo_->ReadFile(alice_, "m", "latest", "a.txt").status().code(), ErrorCode::kDataLoss);
  auto report = repo_->CheckIntegrity();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_NE(report->problems[0].find("a.txt"), std::string::npos);
}

TEST_P(RepositoryTest, OrphanBlobsAreNeitherListedNorKeptForever) {
  Create(alice_, "m", Visibility::kPublic);
  ASSERT_TRUE(repo_->PushVersion(alice_, "m", OneFile("a.txt", "kept")).ok());
  // A push killed after writing its blob but before its transaction.
  auto blobs = BlobStore::Open(dir_ / "data" / "blobs");
  auto orphan = blobs->Put("orphan bytes");
  ASSERT_TRUE(orphan.ok());
  EXPECT_EQ(repo_->GetResource(alice_, "m")->version_count, 1);
  EXPECT_EQ(*repo_->CollectGarbage(), 0);  // too young: may belong to a push in flight
  fs::path p = dir_ / "data" / "blobs" / orphan->substr(0, 2) / orphan->substr(2);
  fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::hours(2));
  EXPECT_EQ(*repo_->CollectGarbage(), 1);
  EXPECT_FALSE(blobs->Contains(*orphan));
  EXPECT_EQ(*repo_->ReadFile(alice_, "m", "latest", "a.txt"), "kept");
}

TEST_P(RepositoryTest, DeletedResourcesDisappearButStayAudited) {
  Create(alice_, "m", Visibility::kPublic);
  EXPECT_EQ(repo_->DeleteResource(bob_, "m").code(), ErrorCode::kPermissionDenied);
  ASSERT_TRUE(repo_->DeleteResource(alice_, "m").ok());
  EXPECT_EQ(repo_->GetResource(alice_, "m").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(repo_->Search(admin_, {})->total, 0);
  EXPECT_EQ(repo_->ListAudit(admin_, 1, 0)->items[0].action, "resource.delete");
}

INSTANTIATE_TEST_SUITE_P(Backends, RepositoryTest, ::testing::ValuesIn(TestDialects()),
                         [](const auto& info) { return std::string(DialectName(info.param)); });

}  // namespace
}  // namespace soma::repo
