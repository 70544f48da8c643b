#pragma once
// Text helpers of the PostgreSQL backend (repo/postgres_database.cpp), kept
// apart so they are unit-tested without a server. Internal to soma::repo.
//
// Thread safety: pure functions.

#include <string>
#include <string_view>

namespace soma::repo::postgres {

struct RewrittenSql {
  std::string sql;          // with `$1, $2, ...` in place of the `?` placeholders
  int parameter_count = 0;  // how many placeholders were replaced
};

// Replaces each `?` placeholder by `$n` (n counting from 1, left to right).
// A `?` inside a string literal ('...', with '' as an escaped quote, and
// E'...' with backslash escapes), a quoted identifier ("...") or a comment
// (-- to end of line, /* ... */ nested) is left alone. Dollar-quoted strings
// are not recognised (the repository does not write them). Never fails:
// unterminated quotes or comments simply run to the end of the text, and the
// server reports the syntax error.
RewrittenSql RewritePlaceholders(std::string_view sql);

// A double as text that PostgreSQL's float8 input reads back to the same
// bits: "%.17g", with NaN and the infinities spelled the way PostgreSQL
// writes them ("NaN", "Infinity", "-Infinity").
std::string FormatDouble(double value);

// `url` with any password replaced by "***" (in the user-info of a URI and
// in a `password=` parameter), for error messages and logs.
std::string RedactUrl(std::string_view url);

}  // namespace soma::repo::postgres
