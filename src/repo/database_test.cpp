// Conformance of the Database backends: the same behaviour on SQLite and on
// PostgreSQL (the latter when SOMA_TEST_POSTGRES_URL names a server, as
// scripts/test.sh arranges; see repo/test_database.h).

#include "repo/database.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "repo/crypto.h"
#include "repo/test_database.h"

namespace soma::repo {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string TestName(const ::testing::TestParamInfo<Dialect>& info) {
  return std::string(DialectName(info.param));
}

class DatabaseTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    if (!TestBackendAvailable(GetParam())) GTEST_SKIP() << "SOMA_TEST_POSTGRES_URL is not set";
    dir_ = fs::temp_directory_path() / ("soma_database_test_" + RandomHex(6));
    auto test_db = MakeTestDatabase(GetParam(), dir_);
    ASSERT_TRUE(test_db.ok()) << test_db.status().ToString();
    test_db_ = std::move(*test_db);
    db_ = Open();
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(
        db_->Exec("CREATE TABLE t (id BIGINT PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, s TEXT)").ok());
  }
  void TearDown() override {
    db_.reset();
    test_db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Dialect dialect() const { return GetParam(); }
  const std::string& url() const { return test_db_->url(); }

  std::unique_ptr<Database> Open() {
    Result<std::unique_ptr<Database>> db = OpenDatabase(url());
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  std::string Backend() const { return dialect() == Dialect::kSqlite ? "sqlite" : "postgresql"; }

  std::int64_t Count(Database& db) {
    Result<std::vector<SqlRow>> rows = db.Query("SELECT COUNT(*) FROM t");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? (*rows)[0].Int(0) : -1;
  }

  fs::path dir_;
  std::unique_ptr<TestDatabase> test_db_;
  std::unique_ptr<Database> db_;
};

TEST_P(DatabaseTest, ReportsItsDialect) { EXPECT_EQ(db_->dialect(), dialect()); }

TEST_P(DatabaseTest, RoundTripsIntegersExactly) {
  const std::vector<std::int64_t> values = {0,
                                            1,
                                            -1,
                                            2147483648LL,
                                            -2147483649LL,
                                            std::numeric_limits<std::int64_t>::max(),
                                            std::numeric_limits<std::int64_t>::min()};
  for (size_t k = 0; k < values.size(); ++k) {
    ASSERT_TRUE(db_->Exec("INSERT INTO t (id, i) VALUES (?, ?)", {std::int64_t(k), values[k]}).ok());
  }
  auto rows = db_->Query("SELECT i FROM t ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), values.size());
  for (size_t k = 0; k < values.size(); ++k) {
    ASSERT_TRUE(std::holds_alternative<std::int64_t>((*rows)[k].values[0])) << k;
    EXPECT_EQ((*rows)[k].Int(0), values[k]);
  }
  // A parameter compared against a column, and one used as a value.
  auto found = db_->Query("SELECT id FROM t WHERE i = ?", {std::numeric_limits<std::int64_t>::min()});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].Int(0), 6);
  auto echoed = db_->Query("SELECT ?", {std::int64_t{-42}});
  ASSERT_TRUE(echoed.ok()) << echoed.status().ToString();
  EXPECT_EQ(std::get<std::int64_t>((*echoed)[0].values[0]), -42);
}

TEST_P(DatabaseTest, RoundTripsDoublesBitForBit) {
  const std::vector<double> values = {0.0,           0.1,     1.0 / 3.0, 1e-300, -1e300,
                                      6.02214076e23, DBL_MAX, DBL_MIN,   -2.5,   1e-310 /* subnormal */};
  for (size_t k = 0; k < values.size(); ++k) {
    Status s = db_->Exec("INSERT INTO t (id, r) VALUES (?, ?)", {std::int64_t(k), values[k]});
    ASSERT_TRUE(s.ok()) << values[k] << ": " << s.ToString();
  }
  auto rows = db_->Query("SELECT r FROM t ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), values.size());
  for (size_t k = 0; k < values.size(); ++k) {
    ASSERT_TRUE(std::holds_alternative<double>((*rows)[k].values[0])) << k;
    double back = (*rows)[k].Real(0);
    EXPECT_EQ(std::memcmp(&back, &values[k], sizeof back), 0) << values[k] << " came back as " << back;
  }
  // 0.1 stored is the same double as the literal 0.1 in SQL.
  auto same = db_->Query("SELECT id FROM t WHERE r = 0.1");
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  ASSERT_EQ(same->size(), 1u);
  EXPECT_EQ((*same)[0].Int(0), 1);
}

TEST_P(DatabaseTest, RoundTripsText) {
  std::string control;
  for (int c = 1; c < 32; ++c) control += static_cast<char>(c);
  control += '\x7f';
  const std::vector<std::string> values = {
      "",
      "plain",
      "it's 'quoted' and \"double-quoted\"",
      "a question? and another ?",
      "back\\slash and $1 and %s",
      "unicode: \xc3\xbc \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\xa7\xac",  // ü 中文 🧬
      control,
      std::string(1 << 20, 'x'),
  };
  for (size_t k = 0; k < values.size(); ++k) {
    ASSERT_TRUE(db_->Exec("INSERT INTO t (id, s) VALUES (?, ?)", {std::int64_t(k), values[k]}).ok()) << k;
  }
  auto rows = db_->Query("SELECT s, id FROM t ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), values.size());
  for (size_t k = 0; k < values.size(); ++k) {
    ASSERT_TRUE(std::holds_alternative<std::string>((*rows)[k].values[0])) << k;
    EXPECT_EQ((*rows)[k].Text(0), values[k]) << k;
    EXPECT_FALSE((*rows)[k].IsNull(0)) << "the empty string is not NULL";
  }
  auto found = db_->Query("SELECT id FROM t WHERE s = ?", {values[2]});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].Int(0), 2);
}

TEST_P(DatabaseTest, RoundTripsNull) {
  ASSERT_TRUE(db_->Exec("INSERT INTO t (id, i, r, s) VALUES (?, ?, ?, ?)",
                        {std::int64_t{1}, nullptr, nullptr, nullptr})
                  .ok());
  auto rows = db_->Query("SELECT i, r, s FROM t");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  const SqlRow& row = (*rows)[0];
  for (size_t c = 0; c < 3; ++c) EXPECT_TRUE(row.IsNull(c)) << c;
  EXPECT_EQ(row.Int(0), 0);
  EXPECT_EQ(row.Real(1), 0.0);
  EXPECT_EQ(row.Text(2), "");
  // NULL compares as unknown: no row matches `= NULL`.
  auto none = db_->Query("SELECT id FROM t WHERE s = ?", {nullptr});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  // A typed NULL parameter on its own (the portable way to test for NULL).
  auto is_null = db_->Query("SELECT COUNT(*) FROM t WHERE CAST(? AS TEXT) IS NULL", {nullptr});
  ASSERT_TRUE(is_null.ok()) << is_null.status().ToString();
  EXPECT_EQ((*is_null)[0].Int(0), 1);
}

TEST_P(DatabaseTest, LeavesQuestionMarksInLiteralsAndCommentsAlone) {
  auto rows = db_->Query("SELECT 'why?' AS \"what?\", ? /* not this? */, 'it''s ?' -- nor this?\n , ?",
                         {std::int64_t{7}, std::string("eight")});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Text(0), "why?");
  EXPECT_EQ((*rows)[0].Int(1), 7);
  EXPECT_EQ((*rows)[0].Text(2), "it's ?");
  EXPECT_EQ((*rows)[0].Text(3), "eight");
}

TEST_P(DatabaseTest, RefusesTheWrongNumberOfParameters) {
  Status few = db_->Exec("INSERT INTO t (id, i) VALUES (?, ?)", {std::int64_t{1}});
  EXPECT_EQ(few.code(), ErrorCode::kInternal);
  EXPECT_THAT(few.message(), HasSubstr(Backend() + ":"));
  EXPECT_THAT(few.message(), HasSubstr("takes 2 parameters, got 1"));
  auto many = db_->Query("SELECT ?", {std::int64_t{1}, std::int64_t{2}});
  EXPECT_EQ(many.status().code(), ErrorCode::kInternal);
  EXPECT_EQ(Count(*db_), 0);
}

TEST_P(DatabaseTest, UniqueViolationIsAlreadyExists) {
  ASSERT_TRUE(db_->Exec("INSERT INTO t (id) VALUES (?)", {std::int64_t{1}}).ok());
  Status s = db_->Exec("INSERT INTO t (id) VALUES (?)", {std::int64_t{1}});
  EXPECT_EQ(s.code(), ErrorCode::kAlreadyExists) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(Backend() + ":"));
  EXPECT_THAT(s.message(), HasSubstr("INSERT INTO t (id)"));
  EXPECT_EQ(Count(*db_), 1);
}

TEST_P(DatabaseTest, BadSqlNamesTheBackendAndTheStatement) {
  Status s = db_->Exec("SELEKT nothing FROM t");
  EXPECT_EQ(s.code(), ErrorCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr(Backend() + ":"));
  EXPECT_THAT(s.message(), HasSubstr("'SELEKT nothing FROM t'"));
  auto missing = db_->Query("SELECT * FROM no_such_table");
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("no_such_table"));
}

TEST_P(DatabaseTest, ExecScriptRunsSeveralStatements) {
  ASSERT_TRUE(db_->ExecScript("CREATE TABLE a (x BIGINT); CREATE TABLE b (y TEXT);\n"
                              "INSERT INTO a VALUES (1); INSERT INTO b VALUES ('semi;colon');")
                  .ok());
  auto rows = db_->Query("SELECT x, y FROM a, b");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Int(0), 1);
  EXPECT_EQ((*rows)[0].Text(1), "semi;colon");
  Status bad = db_->ExecScript("INSERT INTO a VALUES (2); NOT SQL;");
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(bad.message(), HasSubstr(Backend() + ":"));
  EXPECT_THAT(bad.message(), HasSubstr("INSERT INTO a VALUES (2)"));
}

TEST_P(DatabaseTest, TransactionRollsBackWhenDestroyed) {
  {
    auto tx = Transaction::Write(*db_);
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    ASSERT_TRUE(db_->Exec("INSERT INTO t (id) VALUES (1)").ok());
    EXPECT_EQ(Count(*db_), 1);  // visible inside the transaction
  }
  EXPECT_EQ(Count(*db_), 0);
  // The connection is usable again, for a new transaction.
  auto tx = Transaction::Write(*db_);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
}

TEST_P(DatabaseTest, TransactionCommits) {
  auto other = Open();
  {
    auto tx = Transaction::Write(*db_);
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    ASSERT_TRUE(db_->Exec("INSERT INTO t (id) VALUES (1)").ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO t (id) VALUES (2)").ok());
    EXPECT_EQ(Count(*other), 0) << "uncommitted rows are invisible to other connections";
    ASSERT_TRUE(tx->Commit().ok());
    EXPECT_EQ(tx->Commit().code(), ErrorCode::kInternal) << "a second commit is a bug";
  }
  EXPECT_EQ(Count(*db_), 2);
  EXPECT_EQ(Count(*other), 2);
}

TEST_P(DatabaseTest, NestedTransactionIsRefused) {
  ASSERT_TRUE(db_->BeginWrite().ok());
  EXPECT_FALSE(db_->BeginWrite().ok());
  EXPECT_FALSE(db_->BeginRead().ok());
  EXPECT_TRUE(db_->Rollback().ok());
  EXPECT_TRUE(db_->Rollback().ok()) << "rolling back with no transaction is a no-op";
}

TEST_P(DatabaseTest, ReadTransactionSeesOneSnapshot) {
  auto writer = Open();
  ASSERT_TRUE(db_->BeginRead().ok());
  EXPECT_EQ(Count(*db_), 0);
  ASSERT_TRUE(writer->Exec("INSERT INTO t (id) VALUES (1)").ok());
  EXPECT_EQ(Count(*db_), 0) << "a read transaction keeps its snapshot";
  ASSERT_TRUE(db_->Commit().ok());
  EXPECT_EQ(Count(*db_), 1);
}

// Every writer reads the counter and writes it back plus one; writers that
// were not serialised would lose increments (or deadlock upgrading locks).
TEST_P(DatabaseTest, ConcurrentWritersAreSerialised) {
  ASSERT_TRUE(db_->Exec("INSERT INTO t (id, i) VALUES (0, 0)").ok());
  constexpr int kThreads = 4;
  constexpr int kIncrements = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&] {
      Result<std::unique_ptr<Database>> conn = OpenDatabase(url());
      if (!conn.ok()) {
        ++failures;
        return;
      }
      Database& db = **conn;
      for (int k = 0; k < kIncrements; ++k) {
        auto tx = Transaction::Write(db);
        if (!tx.ok()) {
          ADD_FAILURE() << tx.status().ToString();
          ++failures;
          continue;
        }
        auto rows = db.Query("SELECT i FROM t WHERE id = 0");
        if (!rows.ok() || rows->size() != 1) {
          ++failures;
          continue;
        }
        std::int64_t value = (*rows)[0].Int(0);
        std::this_thread::yield();
        Status s = db.Exec("UPDATE t SET i = ? WHERE id = 0", {value + 1});
        if (s.ok()) s = tx->Commit();
        if (!s.ok()) {
          ADD_FAILURE() << s.ToString();
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto rows = db_->Query("SELECT i FROM t WHERE id = 0");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[0].Int(0), kThreads * kIncrements);
}

TEST_P(DatabaseTest, PoolReusesConnectionsAcrossThreads) {
  ConnectionPool pool(url());
  Database* first = nullptr;
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    first = &**lease;
  }
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    EXPECT_EQ(&**lease, first) << "an idle connection is handed out again";
  }
  constexpr int kThreads = 4;
  constexpr int kInserts = 20;
  std::atomic<int> failures{0};
  std::mutex mu;
  std::set<Database*> seen;
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int k = 0; k < kInserts; ++k) {
        auto lease = pool.Acquire();
        if (!lease.ok()) {
          ++failures;
          continue;
        }
        {
          std::lock_guard<std::mutex> lock(mu);
          seen.insert(&**lease);
        }
        Status s = (*lease)->Exec("INSERT INTO t (id, i) VALUES (?, ?)",
                                  {std::int64_t{w * 1000 + k}, std::int64_t{w}});
        if (!s.ok()) {
          ADD_FAILURE() << s.ToString();
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(*db_), kThreads * kInserts);
  EXPECT_LE(seen.size(), static_cast<size_t>(kThreads)) << "at most one connection per thread";
}

TEST_P(DatabaseTest, Pings) {
  EXPECT_TRUE(db_->Ping());
  auto again = Open();
  EXPECT_TRUE(again->Ping());
}

// PostgreSQL-only behaviour: what SQLite cannot do or does differently.
class PostgresDatabaseTest : public DatabaseTest {
 protected:
  // Ends `victim`'s server session from another connection.
  void Terminate(Database& victim) {
    auto pid = victim.Query("SELECT pg_backend_pid()");
    ASSERT_TRUE(pid.ok()) << pid.status().ToString();
    auto killer = Open();
    auto done = killer->Query("SELECT pg_terminate_backend(CAST(? AS INTEGER))", {(*pid)[0].Int(0)});
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    ASSERT_EQ((*done)[0].Int(0), 1);
  }
};

TEST_P(PostgresDatabaseTest, ConvertsColumnsByType) {
  auto rows = db_->Query(
      "SELECT CAST(1 AS SMALLINT), 2, CAST(3 AS BIGINT), TRUE, FALSE, CAST(1.5 AS REAL), "
      "CAST(2.25 AS NUMERIC), CAST('x' AS VARCHAR), CAST('2024-01-02' AS DATE), SUM(i) FROM t");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  const SqlRow& row = (*rows)[0];
  EXPECT_EQ(std::get<std::int64_t>(row.values[0]), 1);
  EXPECT_EQ(std::get<std::int64_t>(row.values[1]), 2);
  EXPECT_EQ(std::get<std::int64_t>(row.values[2]), 3);
  EXPECT_EQ(std::get<std::int64_t>(row.values[3]), 1);
  EXPECT_EQ(std::get<std::int64_t>(row.values[4]), 0);
  EXPECT_EQ(std::get<double>(row.values[5]), 1.5);
  EXPECT_EQ(std::get<double>(row.values[6]), 2.25);
  EXPECT_EQ(std::get<std::string>(row.values[7]), "x");
  EXPECT_EQ(std::get<std::string>(row.values[8]), "2024-01-02");
  EXPECT_TRUE(row.IsNull(9));
}

TEST_P(PostgresDatabaseTest, RoundTripsNonFiniteDoubles) {
  const double values[] = {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN()};
  for (int k = 0; k < 3; ++k) {
    ASSERT_TRUE(db_->Exec("INSERT INTO t (id, r) VALUES (?, ?)", {std::int64_t{k}, values[k]}).ok());
  }
  auto rows = db_->Query("SELECT r FROM t ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[0].Real(0), values[0]);
  EXPECT_EQ((*rows)[1].Real(0), values[1]);
  EXPECT_TRUE(std::isnan((*rows)[2].Real(0)));
}

TEST_P(PostgresDatabaseTest, RefusesTextWithNulBytes) {
  Status s = db_->Exec("INSERT INTO t (id, s) VALUES (1, ?)", {std::string("a\0b", 3)});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("NUL"));
}

TEST_P(PostgresDatabaseTest, CommitAfterAFailedStatementReportsTheRollback) {
  ASSERT_TRUE(db_->BeginWrite().ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO t (id) VALUES (1)").ok());
  EXPECT_FALSE(db_->Exec("INSERT INTO t (id) VALUES (1)").ok());
  Status s = db_->Commit();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("rolled back"));
  EXPECT_EQ(Count(*db_), 0);
  EXPECT_TRUE(db_->BeginWrite().ok()) << "the connection is out of the transaction";
  EXPECT_TRUE(db_->Rollback().ok());
}

TEST_P(PostgresDatabaseTest, StatementTimeoutIsUnavailable) {
  ASSERT_TRUE(db_->Exec("SET statement_timeout = 50").ok());
  Status s = db_->Exec("SELECT pg_sleep(5)");
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("57014"));
}

TEST_P(PostgresDatabaseTest, SessionDefaultsAreSet) {
  auto rows = db_->Query(
      "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
      "current_setting('client_min_messages'), current_setting('application_name')");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[0].Text(0), "1min");
  EXPECT_EQ((*rows)[0].Text(1), "10s");
  EXPECT_EQ((*rows)[0].Text(2), "warning");
  EXPECT_EQ((*rows)[0].Text(3), "soma");
}

TEST_P(PostgresDatabaseTest, DeadlockIsUnavailableWithARetryHint) {
  ASSERT_TRUE(db_->Exec("INSERT INTO t (id, i) VALUES (1, 0), (2, 0)").ok());
  auto other = Open();
  // Plain BEGIN (not BeginWrite, whose lock would prevent the deadlock).
  ASSERT_TRUE(db_->Exec("BEGIN").ok());
  ASSERT_TRUE(other->Exec("BEGIN").ok());
  ASSERT_TRUE(db_->Exec("UPDATE t SET i = 1 WHERE id = 1").ok());
  ASSERT_TRUE(other->Exec("UPDATE t SET i = 2 WHERE id = 2").ok());
  Status from_thread;
  std::thread t([&] { from_thread = other->Exec("UPDATE t SET i = 2 WHERE id = 1"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Status here = db_->Exec("UPDATE t SET i = 1 WHERE id = 2");
  t.join();
  // The server aborts one of the two (after deadlock_timeout, 1 s).
  const Status& victim = here.ok() ? from_thread : here;
  EXPECT_NE(here.ok(), from_thread.ok());
  EXPECT_EQ(victim.code(), ErrorCode::kUnavailable) << victim.ToString();
  EXPECT_THAT(victim.message(), HasSubstr("retry"));
  EXPECT_TRUE(db_->Exec("ROLLBACK").ok());
  EXPECT_TRUE(other->Exec("ROLLBACK").ok());
}

TEST_P(PostgresDatabaseTest, ReconnectsAfterLosingTheConnectionOutsideATransaction) {
  Terminate(*db_);
  Status lost = db_->Exec("INSERT INTO t (id) VALUES (1)");
  EXPECT_EQ(lost.code(), ErrorCode::kUnavailable) << lost.ToString();
  EXPECT_TRUE(db_->Exec("INSERT INTO t (id) VALUES (2)").ok()) << "reconnected";
  EXPECT_TRUE(db_->Ping());
}

TEST_P(PostgresDatabaseTest, ALostTransactionFailsUntilRolledBack) {
  ASSERT_TRUE(db_->BeginWrite().ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO t (id) VALUES (1)").ok());
  Terminate(*db_);
  EXPECT_EQ(db_->Exec("INSERT INTO t (id) VALUES (2)").code(), ErrorCode::kUnavailable);
  // Not run outside the transaction it belonged to:
  EXPECT_EQ(db_->Exec("INSERT INTO t (id) VALUES (3)").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(db_->Commit().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(db_->Rollback().ok());
  EXPECT_EQ(Count(*db_), 0);
}

TEST_P(PostgresDatabaseTest, ReadTransactionIsReadOnly) {
  ASSERT_TRUE(db_->BeginRead().ok());
  EXPECT_FALSE(db_->Exec("INSERT INTO t (id) VALUES (1)").ok());
  EXPECT_TRUE(db_->Rollback().ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest, ::testing::ValuesIn(TestDialects()), TestName);
INSTANTIATE_TEST_SUITE_P(Backends, PostgresDatabaseTest, ::testing::Values(Dialect::kPostgres), TestName);

// Opening: not parametrised, no server needed.

TEST(OpenDatabaseTest, RefusesAnUnknownScheme) {
  auto db = OpenDatabase("mysql://localhost/soma");
  EXPECT_EQ(db.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(db.status().message(), HasSubstr("sqlite:PATH or postgresql://"));
}

TEST(OpenDatabaseTest, RefusesAMalformedPostgresUrl) {
  auto db = OpenDatabase("postgresql://alice:secret@localhost/soma?no_such_option=1");
  EXPECT_EQ(db.status().code(), ErrorCode::kInvalidArgument) << db.status().ToString();
  EXPECT_THAT(db.status().message(), HasSubstr("postgresql:"));
  EXPECT_THAT(db.status().message(), HasSubstr("no_such_option"));
  EXPECT_THAT(db.status().message(), ::testing::Not(HasSubstr("secret")));
}

TEST(OpenDatabaseTest, UnreachablePostgresIsUnavailable) {
  // Port 1 on the loopback: nothing listens, the connection is refused at once.
  auto db = OpenDatabase("postgresql://nobody:secret@127.0.0.1:1/soma");
  EXPECT_EQ(db.status().code(), ErrorCode::kUnavailable) << db.status().ToString();
  EXPECT_THAT(db.status().message(), HasSubstr("postgresql: cannot connect to"));
  EXPECT_THAT(db.status().message(), HasSubstr("127.0.0.1"));
  EXPECT_THAT(db.status().message(), ::testing::Not(HasSubstr("secret")));
}

TEST(OpenDatabaseTest, UnopenableSqliteFileIsUnavailable) {
  auto db = OpenDatabase("sqlite:/no/such/folder/soma.db");
  EXPECT_EQ(db.status().code(), ErrorCode::kUnavailable) << db.status().ToString();
  EXPECT_THAT(db.status().message(), HasSubstr("/no/such/folder/soma.db"));
}

}  // namespace
}  // namespace soma::repo
