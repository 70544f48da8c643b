#pragma once
// A minimal SQL database connection behind one interface, with two backends:
// SQLite (the embedded default: one file, WAL journal, FTS5 search) and
// PostgreSQL (libpq, for server scale). The repository writes its SQL once in
// the subset both accept; the few places that differ (full-text search,
// locking) ask `dialect()`.
//
// SQL text uses `?` for parameters; the PostgreSQL backend rewrites them to
// `$1, $2, ...` (a `?` inside a quoted string literal, a quoted identifier or
// a comment is left alone). On PostgreSQL an int64 parameter is a BIGINT, a
// double a DOUBLE PRECISION, and text or NULL takes its type from the context
// like a quoted literal; where the context gives none (`? IS NULL`), write
// `CAST(? AS TEXT)`. Column types both accept: BIGINT (PostgreSQL's INTEGER
// is 32-bit), DOUBLE PRECISION, TEXT. The PostgreSQL backend's other choices
// (session timeouts, type conversions, error codes) are listed at the top of
// postgres_database.cpp.
//
// Thread safety: a Database is one connection and is not thread-safe; use one
// per thread (ConnectionPool hands them out). All errors are Status values
// whose message names the backend and quotes the failing statement's start.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace soma::repo {

enum class Dialect { kSqlite, kPostgres };

// A parameter or column value. Text also carries binary-safe bytes.
using SqlValue = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

struct SqlRow {
  std::vector<SqlValue> values;
  // Typed access; a NULL reads as 0 / 0.0 / "". Column indices are 0-based.
  std::int64_t Int(size_t i) const;
  double Real(size_t i) const;
  std::string Text(size_t i) const;
  bool IsNull(size_t i) const;
};

class Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;

  // Runs one statement that returns no rows (or whose rows are ignored).
  virtual Status Exec(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
  // Runs a statement and returns all its rows.
  virtual Result<std::vector<SqlRow>> Query(std::string_view sql,
                                            const std::vector<SqlValue>& params = {}) = 0;
  // Runs several ';'-separated statements without parameters (migrations).
  virtual Status ExecScript(std::string_view sql) = 0;

  // Transactions. BeginWrite takes the write lock up front (SQLite: BEGIN
  // IMMEDIATE, waiting up to the busy timeout; PostgreSQL: BEGIN and a
  // database-wide advisory lock, waiting up to lock_timeout = 10 s), so
  // writers are serialised and never deadlock on a lock upgrade. BeginRead
  // gives one consistent snapshot (PostgreSQL: REPEATABLE READ, READ ONLY, so
  // writing in it is an error). A transaction cannot be nested.
  virtual Status BeginWrite() = 0;
  virtual Status BeginRead() = 0;
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;

  // True when the connection is usable (for /readyz).
  virtual bool Ping() = 0;
};

// Opens a connection. `url` is "sqlite:PATH" (PATH created if missing, WAL
// journal, synchronous=FULL so a commit is durable when it returns, foreign
// keys on, 10 s busy timeout; "sqlite:PATH?synchronous=normal" trades
// durability of the last commits on power loss for speed, for bulk loads
// and benchmarks) or a libpq connection URI
// "postgresql://user@host:port/db" / "postgres://...".
Result<std::unique_ptr<Database>> OpenDatabase(const std::string& url);

// Rolls back on destruction unless Commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> Write(Database& db);
  static Result<Transaction> Read(Database& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
};

// Hands out connections to one database, opening them on demand and keeping
// idle ones for reuse. Thread-safe. A connection that fails Ping() when
// returned is dropped.
class ConnectionPool {
 public:
  explicit ConnectionPool(std::string url) : url_(std::move(url)) {}
  const std::string& url() const { return url_; }

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Database> db) : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease();
    Database& operator*() const { return *db_; }
    Database* operator->() const { return db_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Database> db_;
  };

  Result<Lease> Acquire();

 private:
  friend class Lease;
  void Release(std::unique_ptr<Database> db);
  std::string url_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Database>> idle_;
};

}  // namespace soma::repo
