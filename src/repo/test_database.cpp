#include "repo/test_database.h"

#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <system_error>

namespace soma::repo {
namespace {

// `server_url` with its database name replaced by `name`.
std::string WithDatabase(const std::string& server_url, const std::string& name) {
  size_t scheme = server_url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t slash_or_query = server_url.find_first_of("/?", start);
  if (slash_or_query == std::string::npos) return server_url + "/" + name;
  if (server_url[slash_or_query] == '?') {
    return server_url.substr(0, slash_or_query) + "/" + name + server_url.substr(slash_or_query);
  }
  size_t end = server_url.find('?', slash_or_query);
  if (end == std::string::npos) end = server_url.size();
  return server_url.substr(0, slash_or_query + 1) + name + server_url.substr(end);
}

std::string RandomHex() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(v));
  return buffer;
}

}  // namespace

std::vector<Dialect> TestDialects() { return {Dialect::kSqlite, Dialect::kPostgres}; }

std::string DialectTestName(const ::testing::TestParamInfo<Dialect>& info) {
  return info.param == Dialect::kSqlite ? "Sqlite" : "Postgres";
}

std::string TestPostgresServerUrl() {
  const char* url = std::getenv("SOMA_TEST_POSTGRES_URL");
  return url != nullptr ? url : "";
}

Result<std::filesystem::path> MakeTestTempDir() {
  std::error_code ec;
  std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) return IoError("no temp folder: " + ec.message());
  std::string pattern = (base / "soma-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return IoError("cannot create a temp folder like '" + pattern + "'");
  }
  return std::filesystem::path(pattern);
}

Result<TestDatabase> TestDatabase::Create(Dialect dialect, const std::filesystem::path& dir) {
  if (dialect == Dialect::kSqlite) {
    std::filesystem::path file = dir / ("test-" + RandomHex() + ".db");
    return TestDatabase(dialect, "sqlite:" + file.string(), "", file);
  }
  std::string server = TestPostgresServerUrl();
  if (server.empty()) {
    return FailedPrecondition("SOMA_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)");
  }
  SOMA_ASSIGN_OR_RETURN(std::unique_ptr<Database> admin, OpenDatabase(server));
  std::string name = "soma_test_" + RandomHex();
  SOMA_RETURN_IF_ERROR(admin->Exec("CREATE DATABASE " + name));
  return TestDatabase(dialect, WithDatabase(server, name), name, {});
}

TestDatabase::TestDatabase(TestDatabase&& other) noexcept
    : dialect_(other.dialect_),
      url_(std::move(other.url_)),
      pg_name_(std::move(other.pg_name_)),
      file_(std::move(other.file_)) {
  other.pg_name_.clear();
  other.file_.clear();
}

TestDatabase& TestDatabase::operator=(TestDatabase&& other) noexcept {
  if (this != &other) {
    Drop();
    dialect_ = other.dialect_;
    url_ = std::move(other.url_);
    pg_name_ = std::move(other.pg_name_);
    file_ = std::move(other.file_);
    other.pg_name_.clear();
    other.file_.clear();
  }
  return *this;
}

TestDatabase::~TestDatabase() { Drop(); }

void TestDatabase::Drop() {
  if (!file_.empty()) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(file_.string() + suffix, ec);
    }
    file_.clear();
  }
  if (!pg_name_.empty()) {
    Result<std::unique_ptr<Database>> admin = OpenDatabase(TestPostgresServerUrl());
    Status s =
        admin.ok() ? (*admin)->Exec("DROP DATABASE IF EXISTS " + pg_name_ + " WITH (FORCE)") : admin.status();
    if (!s.ok())
      std::fprintf(stderr, "TestDatabase: cannot drop %s: %s\n", pg_name_.c_str(), s.ToString().c_str());
    pg_name_.clear();
  }
}

void DialectTest::SetUp() {
  if (dialect() == Dialect::kPostgres && TestPostgresServerUrl().empty()) {
    GTEST_SKIP() << "PostgreSQL: SOMA_TEST_POSTGRES_URL is not set (scripts/test.sh starts a server)";
  }
  Result<std::filesystem::path> dir = MakeTestTempDir();
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  temp_dir_ = *dir;
  Result<TestDatabase> db = TestDatabase::Create(dialect(), temp_dir_);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  database_.emplace(std::move(db).value());
}

void DialectTest::TearDown() {
  database_.reset();
  if (!temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);
  }
}

}  // namespace soma::repo
