#pragma once
// Test support (library soma::repo_testing, linked only by tests): a fresh,
// empty database per test on each backend, so one parametrised suite checks
// SQLite and PostgreSQL alike.
//
// PostgreSQL tests need a server: SOMA_TEST_POSTGRES_URL names it
// ("postgresql://USER@127.0.0.1:PORT/postgres", a role that may CREATE
// DATABASE). scripts/test.sh starts a throwaway one (scripts/postgres.sh) and
// sets the variable, so CI always runs them; without it the PostgreSQL
// variants are reported as skipped.
//
// Usage, a suite that runs on both backends:
//
//   class StoreTest : public soma::repo::DialectTest {
//    protected:
//     void SetUp() override {
//       DialectTest::SetUp();              // skips, or makes url() and temp_dir()
//       if (IsSkipped() || HasFatalFailure()) return;
//       // ... open what is tested with url() (a database URL for OpenDatabase
//       // or RepositoryOptions::database_url) and temp_dir() (blobs etc.)
//     }
//   };
//   TEST_P(StoreTest, Something) { ... dialect() ... }
//   INSTANTIATE_TEST_SUITE_P(Dialects, StoreTest, ::testing::ValuesIn(soma::repo::TestDialects()),
//                            soma::repo::DialectTestName);
//
// Tests are named StoreTest.Something/Sqlite and .../Postgres, so
// `ctest -R Postgres` runs the PostgreSQL half.
//
// Thread safety: TestDialects() and DialectTestName() are; a TestDatabase or
// DialectTest belongs to one test.

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "repo/database.h"

namespace soma::repo {

// Every backend: {kSqlite, kPostgres}, whether or not a server is configured.
// (gtest_discover_tests lists a test binary's tests when it is built, before
// scripts/test.sh has started PostgreSQL, so the list cannot depend on the
// environment; an unconfigured backend's tests skip instead.)
std::vector<Dialect> TestDialects();

// "Sqlite" or "Postgres": the name suffix for INSTANTIATE_TEST_SUITE_P.
std::string DialectTestName(const ::testing::TestParamInfo<Dialect>& info);

// SOMA_TEST_POSTGRES_URL, or "" when unset.
std::string TestPostgresServerUrl();

// One empty database, removed when the handle is destroyed. Move-only.
class TestDatabase {
 public:
  // SQLite: a new file in `dir` (which must exist). PostgreSQL: CREATE
  // DATABASE soma_test_<random hex> on the server at SOMA_TEST_POSTGRES_URL.
  // Errors: kFailedPrecondition when PostgreSQL is asked for and the variable
  // is unset; the server's error (kUnavailable etc.) when it cannot be created.
  static Result<TestDatabase> Create(Dialect dialect, const std::filesystem::path& dir);

  TestDatabase(TestDatabase&& other) noexcept;
  TestDatabase& operator=(TestDatabase&& other) noexcept;
  // SQLite: deletes the file (and its -wal, -shm). PostgreSQL: DROP DATABASE
  // ... WITH (FORCE), which also ends connections still open to it. Errors
  // are printed to stderr, not thrown.
  ~TestDatabase();

  Dialect dialect() const { return dialect_; }
  // For OpenDatabase: "sqlite:PATH" or "postgresql://.../soma_test_...".
  const std::string& url() const { return url_; }

 private:
  TestDatabase(Dialect dialect, std::string url, std::string pg_name, std::filesystem::path file)
      : dialect_(dialect), url_(std::move(url)), pg_name_(std::move(pg_name)), file_(std::move(file)) {}
  void Drop();

  Dialect dialect_ = Dialect::kSqlite;
  std::string url_;
  std::string pg_name_;         // PostgreSQL: the database to drop; "" once moved from
  std::filesystem::path file_;  // SQLite: the file to delete; empty once moved from
};

// A fixture parametrised over Dialect. SetUp() skips the test (GTEST_SKIP)
// when the dialect has no server configured, otherwise makes a private temp
// folder and a fresh database in it; TearDown() removes both.
class DialectTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override;
  void TearDown() override;

  Dialect dialect() const { return GetParam(); }
  // The fresh database's URL.
  const std::string& url() const { return database_->url(); }
  // A folder of this test's own, removed afterwards.
  const std::filesystem::path& temp_dir() const { return temp_dir_; }

 private:
  std::filesystem::path temp_dir_;
  std::optional<TestDatabase> database_;
};

// Makes a new empty folder under the system temp folder ("soma-test-XXXXXX").
Result<std::filesystem::path> MakeTestTempDir();

}  // namespace soma::repo
