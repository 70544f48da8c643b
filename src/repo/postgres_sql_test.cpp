#include "repo/postgres_sql.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "repo/search_postgres.h"

namespace soma::repo::postgres {
namespace {

TEST(RewritePlaceholdersTest, NumbersPlaceholdersLeftToRight) {
  RewrittenSql r = RewritePlaceholders("INSERT INTO t (a, b, c) VALUES (?, ?,?)");
  EXPECT_EQ(r.sql, "INSERT INTO t (a, b, c) VALUES ($1, $2,$3)");
  EXPECT_EQ(r.parameter_count, 3);
}

TEST(RewritePlaceholdersTest, NoPlaceholders) {
  RewrittenSql r = RewritePlaceholders("SELECT 1");
  EXPECT_EQ(r.sql, "SELECT 1");
  EXPECT_EQ(r.parameter_count, 0);
}

TEST(RewritePlaceholdersTest, LeavesStringLiteralsAlone) {
  EXPECT_EQ(RewritePlaceholders("SELECT 'what?', ?").sql, "SELECT 'what?', $1");
  // '' is an escaped quote, not the end of the literal.
  EXPECT_EQ(RewritePlaceholders("SELECT 'it''s ?', ? WHERE x = '?'''").sql,
            "SELECT 'it''s ?', $1 WHERE x = '?'''");
  EXPECT_EQ(RewritePlaceholders("SELECT '', ?").sql, "SELECT '', $1");
}

TEST(RewritePlaceholdersTest, LeavesQuotedIdentifiersAlone) {
  EXPECT_EQ(RewritePlaceholders("SELECT \"odd?name\", \"a\"\"?\" FROM t WHERE x = ?").sql,
            "SELECT \"odd?name\", \"a\"\"?\" FROM t WHERE x = $1");
}

TEST(RewritePlaceholdersTest, HonoursBackslashesInEscapeStrings) {
  EXPECT_EQ(RewritePlaceholders("SELECT E'it\\'s ?', ?").sql, "SELECT E'it\\'s ?', $1");
  EXPECT_EQ(RewritePlaceholders("SELECT e'\\\\', ?").sql, "SELECT e'\\\\', $1");
  // In a standard string a backslash is an ordinary character.
  EXPECT_EQ(RewritePlaceholders("SELECT '\\', ?").sql, "SELECT '\\', $1");
  // An identifier ending in E before a quote is not an E-string prefix.
  EXPECT_EQ(RewritePlaceholders("SELECT typE'a\\', ?").sql, "SELECT typE'a\\', $1");
}

TEST(RewritePlaceholdersTest, LeavesCommentsAlone) {
  EXPECT_EQ(RewritePlaceholders("SELECT ? -- why?\n, ?").sql, "SELECT $1 -- why?\n, $2");
  EXPECT_EQ(RewritePlaceholders("SELECT /* a? /* nested? */ still? */ ?").sql,
            "SELECT /* a? /* nested? */ still? */ $1");
  EXPECT_EQ(RewritePlaceholders("SELECT 4 - ?").sql, "SELECT 4 - $1");
  EXPECT_EQ(RewritePlaceholders("SELECT 4 / ?").sql, "SELECT 4 / $1");
}

TEST(RewritePlaceholdersTest, UnterminatedQuotesRunToTheEnd) {
  RewrittenSql r = RewritePlaceholders("SELECT 'oops ?");
  EXPECT_EQ(r.sql, "SELECT 'oops ?");
  EXPECT_EQ(r.parameter_count, 0);
  EXPECT_EQ(RewritePlaceholders("SELECT ? /* ?").parameter_count, 1);
}

TEST(RewritePlaceholdersTest, CountsBeyondNine) {
  RewrittenSql r = RewritePlaceholders("VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  EXPECT_EQ(r.parameter_count, 11);
  EXPECT_EQ(r.sql, "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)");
}

TEST(FormatDoubleTest, RoundTripsEveryBit) {
  for (double x : {0.1, 1.0 / 3.0, 1e-300, -1e300, 4.9e-324, DBL_MAX, DBL_MIN, -0.0, 123456789.125}) {
    std::string text = FormatDouble(x);
    double back = std::strtod(text.c_str(), nullptr);
    EXPECT_EQ(std::signbit(back), std::signbit(x)) << text;
    EXPECT_EQ(back, x) << text;
  }
  EXPECT_EQ(FormatDouble(0.1), "0.10000000000000001");
  EXPECT_EQ(FormatDouble(2.0), "2");
}

TEST(FormatDoubleTest, SpellsSpecialValuesLikePostgres) {
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(FormatDouble(-std::numeric_limits<double>::infinity()), "-Infinity");
}

TEST(RedactUrlTest, HidesPasswords) {
  EXPECT_EQ(RedactUrl("postgresql://alice:s3cret@db.example:5432/soma"),
            "postgresql://alice:***@db.example:5432/soma");
  EXPECT_EQ(RedactUrl("postgresql://alice@db/soma?password=s3cret&sslmode=require"),
            "postgresql://alice@db/soma?password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("host=db password=s3cret dbname=soma"), "host=db password=*** dbname=soma");
}

TEST(RedactUrlTest, LeavesUrlsWithoutPasswordsAlone) {
  EXPECT_EQ(RedactUrl("postgresql://alice@127.0.0.1:5432/postgres"),
            "postgresql://alice@127.0.0.1:5432/postgres");
  EXPECT_EQ(RedactUrl("postgresql://db.example:5432/soma"), "postgresql://db.example:5432/soma");
  EXPECT_EQ(RedactUrl("postgresql:///soma?host=/tmp"), "postgresql:///soma?host=/tmp");
}

TEST(PostgresSearchTextTest, SplitsWordsLikeTheQueryTokenizer) {
  EXPECT_EQ(PostgresSearchText("https://identifiers.org/CHEBI:17234"), "https identifiers org chebi 17234");
  EXPECT_EQ(PostgresSearchText("  plasma_glucose, Remote-Insulin! "), "plasma glucose remote insulin");
  EXPECT_EQ(PostgresSearchText("Gl\xc3\xbc" "COSE"), "gl\xc3\xbc" "cose");  // UTF-8 kept, ASCII lower-cased
  EXPECT_EQ(PostgresSearchText(""), "");
  EXPECT_EQ(PostgresSearchText("'&|!:*()"), "");
}

}  // namespace
}  // namespace soma::repo::postgres
