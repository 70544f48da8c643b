// The SQLite backend of Database: one sqlite3 connection, WAL journal.

#include <sqlite3.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "repo/database.h"

namespace soma::repo {
namespace {

std::string Quote(std::string_view sql) {
  std::string s(sql.substr(0, 80));
  if (sql.size() > 80) s += "...";
  return "'" + s + "'";
}

// A prepared statement borrowed from the connection's cache; reset (and its
// bindings cleared) when returned, so the next use starts fresh.
struct StmtResetter {
  void operator()(sqlite3_stmt* s) const {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtResetter>;

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  ~SqliteDatabase() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  Status Exec(std::string_view sql, const std::vector<SqlValue>& params) override {
    SOMA_ASSIGN_OR_RETURN(Stmt stmt, Prepare(sql, params));
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return Error(rc, sql);
    return Status::Ok();
  }

  Result<std::vector<SqlRow>> Query(std::string_view sql,
                                    const std::vector<SqlValue>& params) override {
    SOMA_ASSIGN_OR_RETURN(Stmt stmt, Prepare(sql, params));
    std::vector<SqlRow> rows;
    int n = sqlite3_column_count(stmt.get());
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      SqlRow row;
      row.values.reserve(n);
      for (int i = 0; i < n; ++i) {
        switch (sqlite3_column_type(stmt.get(), i)) {
          case SQLITE_INTEGER: row.values.emplace_back(sqlite3_column_int64(stmt.get(), i)); break;
          case SQLITE_FLOAT: row.values.emplace_back(sqlite3_column_double(stmt.get(), i)); break;
          case SQLITE_NULL: row.values.emplace_back(nullptr); break;
          default: {
            const void* p = sqlite3_column_blob(stmt.get(), i);
            int len = sqlite3_column_bytes(stmt.get(), i);
            row.values.emplace_back(std::string(static_cast<const char*>(p), len));
          }
        }
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return Error(rc, sql);
    return rows;
  }

  Status ExecScript(std::string_view sql) override {
    char* err = nullptr;
    std::string text(sql);
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string m = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      return Unavailable("sqlite: " + m + " in script " + Quote(sql));
    }
    return Status::Ok();
  }

  Status BeginWrite() override { return Exec("BEGIN IMMEDIATE", {}); }
  Status BeginRead() override { return Exec("BEGIN", {}); }
  Status Commit() override { return Exec("COMMIT", {}); }
  Status Rollback() override {
    if (sqlite3_get_autocommit(db_)) return Status::Ok();
    return Exec("ROLLBACK", {});
  }
  bool Ping() override { return Query("SELECT 1", {}).ok(); }

 private:
  Result<Stmt> Prepare(std::string_view sql, const std::vector<SqlValue>& params) {
    // Statements are prepared once per connection and reused: the
    // repository issues a small fixed set of SQL texts.
    sqlite3_stmt* raw = nullptr;
    int rc;
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) {
      raw = it->second;
    } else {
      rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
      if (rc != SQLITE_OK) return Error(rc, sql);
      if (cache_.size() >= kMaxCached) {
        for (auto& [text, stmt] : cache_) sqlite3_finalize(stmt);
        cache_.clear();
      }
      cache_.emplace(std::string(sql), raw);
    }
    Stmt stmt(raw);
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(raw)) {
      return Internal("sqlite: statement " + Quote(sql) + " takes " +
                      std::to_string(sqlite3_bind_parameter_count(raw)) + " parameters, got " +
                      std::to_string(params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      const SqlValue& v = params[i];
      if (auto* x = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(raw, idx, *x);
      } else if (auto* x = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(raw, idx, *x);
      } else if (auto* x = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text(raw, idx, x->data(), static_cast<int>(x->size()), SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(raw, idx);
      }
      if (rc != SQLITE_OK) return Error(rc, sql);
    }
    return stmt;
  }

  Status Error(int rc, std::string_view sql) {
    std::string m = "sqlite: " + std::string(sqlite3_errmsg(db_)) + " in " + Quote(sql);
    int primary = rc & 0xff;
    if (primary == SQLITE_CONSTRAINT) return AlreadyExists(m);
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_CANTOPEN ||
        primary == SQLITE_IOERR || primary == SQLITE_FULL) {
      return Unavailable(m);
    }
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return DataLoss(m);
    return Internal(m);
  }

  static constexpr size_t kMaxCached = 256;
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& spec) {
  // "PATH" or "PATH?synchronous=normal" (bulk loads and benchmarks only: with
  // WAL a crash still leaves a consistent database, but the last commits may
  // be lost on power failure).
  std::string path = spec;
  std::string synchronous = "FULL";
  if (size_t q = spec.find('?'); q != std::string::npos) {
    path = spec.substr(0, q);
    std::string opt = spec.substr(q + 1);
    if (opt == "synchronous=normal") {
      synchronous = "NORMAL";
    } else {
      return InvalidArgument("sqlite URL option '" + opt + "': only synchronous=normal is known");
    }
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string m = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return Unavailable("sqlite: cannot open '" + path + "': " + m);
  }
  auto db = std::make_unique<SqliteDatabase>(raw);
  sqlite3_busy_timeout(raw, 10000);
  // WAL: readers never block the writer; synchronous=FULL makes a commit
  // durable before it returns (a killed process or power cut keeps it).
  SOMA_RETURN_IF_ERROR(db->ExecScript("PRAGMA journal_mode=WAL; PRAGMA synchronous=" + synchronous +
                                     "; PRAGMA foreign_keys=ON;"));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace soma::repo
