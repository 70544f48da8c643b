#pragma once
// PostgreSQL's side of full-text search (see search.cpp). Internal to
// soma::repo.

#include <string>
#include <string_view>

namespace soma::repo {

// The text that PostgreSQL's to_tsvector('simple', ...) is given to index:
// `text` split into the words search queries are split into (runs of ASCII
// letters and digits, bytes >= 0x80 kept so UTF-8 words survive),
// lower-cased and joined by single spaces. PostgreSQL's own parser keeps
// URLs, e-mail addresses and paths whole ("identifiers.org/chebi:17234"), so
// the query "CHEBI:17234", split into chebi & 17234, would not find them;
// SQLite's FTS5 tokenizer splits them as the query does. Thread-safe.
std::string PostgresSearchText(std::string_view text);

}  // namespace soma::repo
