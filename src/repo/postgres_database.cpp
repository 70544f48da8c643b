// The PostgreSQL backend of Database: one libpq connection.
//
// Behaviour chosen to match the SQLite backend, so the repository's code and
// tests run unchanged on both:
//  * Writers are serialised. BeginWrite opens a READ COMMITTED transaction and
//    takes a transaction-scoped advisory lock (kWriteLockKey), the equivalent
//    of SQLite's BEGIN IMMEDIATE: code that reads, checks, then writes (the
//    audit log's hash chain, "next version number") stays correct. READ
//    COMMITTED matters: each statement after the lock sees every write that
//    committed while this one waited; a REPEATABLE READ snapshot would have
//    been taken before the lock was granted.
//  * Readers get one consistent snapshot: BeginRead is REPEATABLE READ, READ
//    ONLY, like a WAL read transaction (and writing in it is an error, rather
//    than the lock upgrade SQLite would attempt).
//  * Session defaults, sent at connect in the startup packet's `options`, so
//    a URL that sets `options=` itself replaces all of them:
//      client_min_messages=warning   no NOTICEs on stderr ("already exists, skipping")
//      statement_timeout=60s         a runaway statement fails with kUnavailable
//      lock_timeout=10s              like SQLite's 10 s busy timeout
//      extra_float_digits=3          doubles come back with every bit
//    and connect_timeout=10 and application_name=soma unless the URL says otherwise.
//  * Parameters go as text: int64 typed int8, double typed float8 (%.17g, so
//    the server reads the same bits), text and NULL untyped (the server infers
//    the type from the context, as it does for a quoted literal). Text cannot
//    hold NUL bytes in PostgreSQL; such a parameter is refused.
//  * Result columns convert by type: int2/int4/int8/oid -> int64,
//    float4/float8/numeric -> double, bool -> int64 0/1, all else text.
//  * Errors map by SQLSTATE: 23505 unique violation -> kAlreadyExists;
//    40001/40P01 serialization failure/deadlock, 55P03 lock timeout, 57014
//    statement timeout, 08xxx connection, 53xxx insufficient resources and
//    57P0x shutdown -> kUnavailable; everything else kInternal.
//  * A connection lost outside a transaction is re-established before the
//    next statement (after a server restart, pooled connections recover).
//    Lost inside a transaction, every statement fails until Rollback(), so
//    later statements never run outside the transaction they belong to.

#include <libpq-fe.h>

#include <charconv>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "repo/database.h"
#include "repo/postgres_sql.h"

namespace soma::repo {
namespace {

using postgres::FormatDouble;
using postgres::RedactUrl;
using postgres::RewritePlaceholders;

// Type OIDs from PostgreSQL's catalog/pg_type.h (stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// The advisory lock every BeginWrite takes ("SomaWRT" in ASCII). Advisory
// locks are per database, so databases on one server do not contend.
constexpr std::int64_t kWriteLockKey = 0x536f6d61575254;

constexpr const char* kSessionOptions =
    "-c client_min_messages=warning -c statement_timeout=60s -c lock_timeout=10s "
    "-c extra_float_digits=3";

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;

struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultCloser>;

std::string Quote(std::string_view sql) {
  std::string s(sql.substr(0, 80));
  if (sql.size() > 80) s += "...";
  return "'" + s + "'";
}

// libpq messages end in a newline and may have several lines.
std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

bool IsUnavailableState(std::string_view state) {
  return state == "40001" || state == "40P01" || state == "55P03" || state == "57014" ||
         state.substr(0, 2) == "08" || state.substr(0, 2) == "53" || state.substr(0, 3) == "57P";
}

// Converts one non-NULL column value of type `type`.
SqlValue ConvertValue(Oid type, const char* text, int length) {
  const char* end = text + length;
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: {
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(text, end, v);
      if (ec == std::errc() && ptr == end) return v;
      break;
    }
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid: {
      double v = 0;
      auto [ptr, ec] = std::from_chars(text, end, v);
      if (ec == std::errc() && ptr == end) return v;
      break;
    }
    case kBoolOid:
      return static_cast<std::int64_t>(length > 0 && text[0] == 't' ? 1 : 0);
    default:
      break;
  }
  // Text, and the (unexpected) case of a number that did not parse.
  return std::string(text, static_cast<size_t>(length));
}

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(Conn conn, std::string redacted_url)
      : conn_(std::move(conn)), url_(std::move(redacted_url)) {}

  Dialect dialect() const override { return Dialect::kPostgres; }

  Status Exec(std::string_view sql, const std::vector<SqlValue>& params) override {
    SOMA_ASSIGN_OR_RETURN(PgResult res, Run(sql, params));
    return Status::Ok();
  }

  Result<std::vector<SqlRow>> Query(std::string_view sql, const std::vector<SqlValue>& params) override {
    SOMA_ASSIGN_OR_RETURN(PgResult res, Run(sql, params));
    const PGresult* r = res.get();
    int rows = PQntuples(r);
    int cols = PQnfields(r);
    std::vector<Oid> types(cols);
    for (int c = 0; c < cols; ++c) types[c] = PQftype(r, c);
    std::vector<SqlRow> out(rows);
    for (int i = 0; i < rows; ++i) {
      out[i].values.reserve(cols);
      for (int c = 0; c < cols; ++c) {
        if (PQgetisnull(r, i, c)) {
          out[i].values.emplace_back(nullptr);
        } else {
          out[i].values.push_back(ConvertValue(types[c], PQgetvalue(r, i, c), PQgetlength(r, i, c)));
        }
      }
    }
    return out;
  }

  Status ExecScript(std::string_view sql) override {
    SOMA_RETURN_IF_ERROR(Usable());
    std::string text(sql);
    PgResult res(PQexec(conn_.get(), text.c_str()));
    return Check(res, sql, "script ");
  }

  Status BeginWrite() override {
    SOMA_RETURN_IF_ERROR(ExpectNoTransaction("BeginWrite"));
    SOMA_RETURN_IF_ERROR(Usable());
    std::string sql = "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(" +
                      std::to_string(kWriteLockKey) + ")";
    PgResult res(PQexec(conn_.get(), sql.c_str()));
    Status s = Check(res, sql, "");
    if (!s.ok()) {
      // The lock may have timed out inside the opened transaction.
      (void)RollbackAfterFailure();
      return s;
    }
    in_transaction_ = true;
    return Status::Ok();
  }

  Status BeginRead() override {
    SOMA_RETURN_IF_ERROR(ExpectNoTransaction("BeginRead"));
    SOMA_RETURN_IF_ERROR(Usable());
    static constexpr std::string_view kSql = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    PgResult res(PQexec(conn_.get(), kSql.data()));
    SOMA_RETURN_IF_ERROR(Check(res, kSql, ""));
    in_transaction_ = true;
    return Status::Ok();
  }

  Status Commit() override {
    if (!in_transaction_) return Internal("postgresql: COMMIT without an open transaction");
    if (lost_in_transaction_) {
      return Unavailable("postgresql: the connection to " + url_ +
                         " was lost during the transaction; it was rolled back");
    }
    PgResult res(PQexec(conn_.get(), "COMMIT"));
    Status s = Check(res, "COMMIT", "");
    // A failed COMMIT (say, a serialization failure) has ended the
    // transaction too, unless the connection went with it.
    if (PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) in_transaction_ = false;
    SOMA_RETURN_IF_ERROR(s);
    // COMMIT of a transaction that an earlier error aborted succeeds with the
    // tag ROLLBACK: nothing was written, and the caller must hear so.
    if (std::string_view(PQcmdStatus(res.get())) != "COMMIT") {
      return Internal("postgresql: COMMIT rolled back the transaction because a statement in it had failed");
    }
    return Status::Ok();
  }

  Status Rollback() override {
    if (!in_transaction_) return Status::Ok();
    in_transaction_ = false;
    if (lost_in_transaction_) {
      // The server rolled back when the connection dropped.
      lost_in_transaction_ = false;
      return Status::Ok();
    }
    return RollbackAfterFailure();
  }

  bool Ping() override { return Query("SELECT 1", {}).ok(); }

 private:
  Status ExpectNoTransaction(std::string_view what) {
    if (in_transaction_) {
      return Internal("postgresql: " + std::string(what) + " inside an open transaction");
    }
    return Status::Ok();
  }

  Status RollbackAfterFailure() {
    if (PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) return Status::Ok();
    PgResult res(PQexec(conn_.get(), "ROLLBACK"));
    return Check(res, "ROLLBACK", "");
  }

  // Fails while a transaction's connection is lost; reconnects a connection
  // lost outside any transaction.
  Status Usable() {
    if (lost_in_transaction_) {
      return Unavailable("postgresql: the connection to " + url_ +
                         " was lost during the transaction; roll it back");
    }
    if (PQstatus(conn_.get()) == CONNECTION_OK) return Status::Ok();
    PQreset(conn_.get());
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      return Unavailable("postgresql: cannot reconnect to " + url_ + ": " +
                         Trim(PQerrorMessage(conn_.get())));
    }
    return Status::Ok();
  }

  Result<PgResult> Run(std::string_view sql, const std::vector<SqlValue>& params) {
    SOMA_RETURN_IF_ERROR(Usable());
    postgres::RewrittenSql rewritten = RewritePlaceholders(sql);
    if (static_cast<size_t>(rewritten.parameter_count) != params.size()) {
      return Internal("postgresql: statement " + Quote(sql) + " takes " +
                      std::to_string(rewritten.parameter_count) + " parameters, got " +
                      std::to_string(params.size()));
    }
    std::vector<std::string> formatted(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<Oid> types(params.size(), 0);
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlValue& v = params[i];
      if (auto* x = std::get_if<std::int64_t>(&v)) {
        formatted[i] = std::to_string(*x);
        types[i] = kInt8Oid;
      } else if (auto* x = std::get_if<double>(&v)) {
        formatted[i] = FormatDouble(*x);
        types[i] = kFloat8Oid;
      } else if (auto* x = std::get_if<std::string>(&v)) {
        if (x->find('\0') != std::string::npos) {
          return InvalidArgument("postgresql: parameter " + std::to_string(i + 1) + " of " + Quote(sql) +
                                 " contains a NUL byte, which text cannot hold");
        }
        formatted[i] = *x;
      } else {
        continue;  // NULL: a null pointer, untyped
      }
      values[i] = formatted[i].c_str();
    }
    PgResult res(PQexecParams(conn_.get(), rewritten.sql.c_str(), static_cast<int>(params.size()),
                              types.data(), values.data(), /*paramLengths=*/nullptr,
                              /*paramFormats=*/nullptr, /*resultFormat=*/0));
    SOMA_RETURN_IF_ERROR(Check(res, sql, ""));
    return res;
  }

  // OK for a successful result; otherwise the error it carries, mapped by
  // SQLSTATE. `kind` prefixes the quoted statement ("script ").
  Status Check(const PgResult& res, std::string_view sql, std::string_view kind) {
    ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
      return Status::Ok();
    }
    const char* state = res ? PQresultErrorField(res.get(), PG_DIAG_SQLSTATE) : nullptr;
    const char* primary = res ? PQresultErrorField(res.get(), PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    const char* detail = res ? PQresultErrorField(res.get(), PG_DIAG_MESSAGE_DETAIL) : nullptr;
    std::string m = "postgresql: ";
    m += primary != nullptr ? std::string(primary) : Trim(PQerrorMessage(conn_.get()));
    if (detail != nullptr) m += " (" + std::string(detail) + ")";
    if (state != nullptr) m += " [SQLSTATE " + std::string(state) + "]";
    m += " in " + std::string(kind) + Quote(sql);

    bool lost = PQstatus(conn_.get()) != CONNECTION_OK;
    if (lost && in_transaction_) lost_in_transaction_ = true;
    std::string_view code = state != nullptr ? std::string_view(state) : std::string_view();
    if (code == "23505") return AlreadyExists(m);
    if (code == "40001" || code == "40P01") {
      return Unavailable(m + "; the transaction was rolled back, retry it");
    }
    if (lost || IsUnavailableState(code)) return Unavailable(m);
    return Internal(m);
  }

  Conn conn_;
  std::string url_;  // password redacted, for messages
  bool in_transaction_ = false;
  bool lost_in_transaction_ = false;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& conninfo) {
  std::string redacted = RedactUrl(conninfo);
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string why = parse_error != nullptr ? Trim(parse_error) : "out of memory";
    PQfreemem(parse_error);
    return InvalidArgument("postgresql: bad connection URL '" + redacted + "': " + why);
  }
  PQconninfoFree(parsed);

  // The URL comes last so that anything it sets overrides these defaults.
  const char* keywords[] = {"connect_timeout", "application_name", "options", "dbname", nullptr};
  const char* values[] = {"10", "soma", kSessionOptions, conninfo.c_str(), nullptr};
  Conn conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (conn == nullptr) return Internal("postgresql: out of memory opening " + redacted);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    std::string m = "postgresql: cannot connect to '" + redacted + "': " + Trim(PQerrorMessage(conn.get()));
    if (PQconnectionNeedsPassword(conn.get())) return Unauthenticated(m);
    return Unavailable(m);
  }
  return std::unique_ptr<Database>(std::make_unique<PostgresDatabase>(std::move(conn), redacted));
}

}  // namespace soma::repo
