#pragma once
// Test support: fresh, isolated databases for each backend, so one test
// suite runs against SQLite and (when a server is available) PostgreSQL.
//
//   class MyTest : public ::testing::TestWithParam<Dialect> {
//     void SetUp() override {
//       if (!TestBackendAvailable(GetParam())) GTEST_SKIP() << "no PostgreSQL server";
//       auto db = MakeTestDatabase(GetParam(), temp_dir);   // db->url() for Repository
//       ...
//   };
//   INSTANTIATE_TEST_SUITE_P(Backends, MyTest, ::testing::ValuesIn(TestDialects()),
//       [](const auto& i) { return std::string(DialectName(i.param)); });
//
// PostgreSQL runs when SOMA_TEST_POSTGRES_URL names a server where the user
// may CREATE DATABASE (scripts/test.sh starts one and fails if it cannot, so
// CI always runs it); each TestDatabase is a new database soma_test_<random>,
// dropped (WITH (FORCE)) when the handle is destroyed.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "repo/database.h"

namespace soma::repo {

class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  virtual const std::string& url() const = 0;
};

// SQLite: DIR/db/soma.db. PostgreSQL: a new database on the test server.
Result<std::unique_ptr<TestDatabase>> MakeTestDatabase(Dialect dialect,
                                                       const std::filesystem::path& dir);

// {kSqlite, kPostgres}, whatever the environment: gtest_discover_tests lists
// a test binary's tests when it is built, before scripts/test.sh has started
// PostgreSQL, so the list must not depend on SOMA_TEST_POSTGRES_URL. Tests on
// a backend that is not available here skip (TestBackendAvailable).
std::vector<Dialect> TestDialects();
// True for kSqlite; for kPostgres, when SOMA_TEST_POSTGRES_URL is set.
bool TestBackendAvailable(Dialect dialect);
std::string_view DialectName(Dialect dialect);  // "sqlite" / "postgres"

}  // namespace soma::repo
