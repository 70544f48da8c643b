#include "repo/test_database.h"

#include <cstdlib>

#include "repo/crypto.h"

namespace soma::repo {
namespace {

class SqliteTestDatabase : public TestDatabase {
 public:
  explicit SqliteTestDatabase(std::string url) : url_(std::move(url)) {}
  const std::string& url() const override { return url_; }

 private:
  std::string url_;
};

class PostgresTestDatabase : public TestDatabase {
 public:
  PostgresTestDatabase(std::string server_url, std::string name, std::string url)
      : server_url_(std::move(server_url)), name_(std::move(name)), url_(std::move(url)) {}
  ~PostgresTestDatabase() override {
    auto db = OpenDatabase(server_url_);
    if (db.ok()) (void)(*db)->Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)", {});
  }
  const std::string& url() const override { return url_; }

 private:
  std::string server_url_, name_, url_;
};

// Replaces the database name (the path after host[:port]) of a libpq URI.
std::string WithDatabase(const std::string& url, const std::string& name) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  size_t query = url.find('?');
  std::string base = slash == std::string::npos ? url.substr(0, query) : url.substr(0, slash);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  return base + "/" + name + rest;
}

}  // namespace

Result<std::unique_ptr<TestDatabase>> MakeTestDatabase(Dialect dialect,
                                                       const std::filesystem::path& dir) {
  if (dialect == Dialect::kSqlite) {
    std::error_code ec;
    std::filesystem::create_directories(dir / "db", ec);
    if (ec) return IoError("cannot create '" + (dir / "db").string() + "': " + ec.message());
    return std::unique_ptr<TestDatabase>(
        new SqliteTestDatabase("sqlite:" + (dir / "db" / "soma.db").string()));
  }
  const char* server = std::getenv("SOMA_TEST_POSTGRES_URL");
  if (server == nullptr || *server == '\0') {
    return FailedPrecondition("SOMA_TEST_POSTGRES_URL is not set");
  }
  std::string name = "soma_test_" + RandomHex(6);
  SOMA_ASSIGN_OR_RETURN(auto db, OpenDatabase(server));
  SOMA_RETURN_IF_ERROR(db->Exec("CREATE DATABASE " + name, {}));
  return std::unique_ptr<TestDatabase>(
      new PostgresTestDatabase(server, name, WithDatabase(server, name)));
}

std::vector<Dialect> TestDialects() { return {Dialect::kSqlite, Dialect::kPostgres}; }

bool TestBackendAvailable(Dialect dialect) {
  if (dialect == Dialect::kSqlite) return true;
  const char* server = std::getenv("SOMA_TEST_POSTGRES_URL");
  return server != nullptr && *server != '\0';
}

std::string_view DialectName(Dialect dialect) {
  return dialect == Dialect::kSqlite ? "sqlite" : "postgres";
}

}  // namespace soma::repo
