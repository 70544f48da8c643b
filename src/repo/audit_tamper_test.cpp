// The audit log resists tampering: the database refuses UPDATE/DELETE, and
// when someone bypasses that (editing the SQLite file with the triggers
// dropped), VerifyAudit names the first broken entry.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "repo/crypto.h"
#include "repo/repository.h"

namespace soma::repo {
namespace {
namespace fs = std::filesystem;

class AuditTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("soma_audit_test_" + RandomHex(6));
    RepositoryOptions o;
    o.data_dir = dir_;
    auto opened = Repository::Open(o);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    repo_ = std::move(*opened);
    ASSERT_TRUE(repo_->CreateInitialAdmin("admin").ok());
    Principal admin = *repo_->PrincipalForUser("admin");
    for (const char* u : {"u1", "u2", "u3", "u4"}) {
      ASSERT_TRUE(repo_->CreateUser(admin, u, Role::kReader).ok());
    }
    ASSERT_TRUE(repo_->VerifyAudit()->ok);
    ASSERT_EQ(repo_->VerifyAudit()->entries, 5);
  }
  void TearDown() override {
    repo_.reset();
    fs::remove_all(dir_);
  }
  // Runs SQL directly on the database file, as an attacker with file access.
  int Raw(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open((dir_ / "soma.db").c_str(), &db);
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    return rc;
  }
  fs::path dir_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(AuditTamperTest, DatabaseRefusesUpdatesAndDeletes) {
  EXPECT_NE(Raw("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"), SQLITE_OK);
  EXPECT_NE(Raw("DELETE FROM audit_log WHERE seq = 5"), SQLITE_OK);
  EXPECT_TRUE(repo_->VerifyAudit()->ok);
}

TEST_F(AuditTamperTest, EditedEntryIsNamed) {
  ASSERT_EQ(Raw("DROP TRIGGER audit_log_no_update; "
                "UPDATE audit_log SET target = 'user:mallory' WHERE seq = 3"),
            SQLITE_OK);
  auto r = repo_->VerifyAudit();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->first_bad_seq, 3);
  EXPECT_NE(r->problem.find("altered"), std::string::npos) << r->problem;
}

TEST_F(AuditTamperTest, RehashedEntryBreaksTheNextLink) {
  // Recomputing the edited entry's own hash is not enough: entry 4 still
  // links to the old one.
  ASSERT_EQ(Raw("DROP TRIGGER audit_log_no_update; "
                "UPDATE audit_log SET hash = '" + std::string(64, 'a') + "' WHERE seq = 3"),
            SQLITE_OK);
  auto r = repo_->VerifyAudit();
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->first_bad_seq, 3);
}

TEST_F(AuditTamperTest, RemovedEntriesAreFound) {
  ASSERT_EQ(Raw("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2"), SQLITE_OK);
  auto middle = repo_->VerifyAudit();
  EXPECT_FALSE(middle->ok);
  EXPECT_EQ(middle->first_bad_seq, 2);
}

TEST_F(AuditTamperTest, TruncatedTailIsFound) {
  ASSERT_EQ(Raw("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 5"), SQLITE_OK);
  auto tail = repo_->VerifyAudit();
  EXPECT_FALSE(tail->ok);
  EXPECT_NE(tail->problem.find("removed from the end"), std::string::npos) << tail->problem;
}

}  // namespace
}  // namespace soma::repo
