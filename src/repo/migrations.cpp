#include "repo/migrations.h"

#include <chrono>
#include <string>
#include <vector>

namespace soma::repo {
namespace {

struct Migration {
  int version;
  const char* description;
  const char* common_sql;    // both dialects
  const char* sqlite_sql;    // then this on SQLite
  const char* postgres_sql;  // or this on PostgreSQL
};

// Tables hold the repository's records; file bytes live in the blob store.
// Metadata and provenance are JSON text; what search filters on is copied
// into columns and resource_facets.
constexpr const char* kCoreTables = R"sql(
CREATE TABLE users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE TABLE user_groups (
  name TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE TABLE memberships (
  group_name TEXT NOT NULL REFERENCES user_groups(name),
  user_name TEXT NOT NULL REFERENCES users(name),
  PRIMARY KEY (group_name, user_name)
);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  user_name TEXT NOT NULL REFERENCES users(name),
  secret_sha256 TEXT NOT NULL,
  label TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE resources (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  owner TEXT NOT NULL,
  visibility TEXT NOT NULL,
  group_name TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  version_count INTEGER NOT NULL DEFAULT 0,
  latest_version TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL,
  metadata TEXT NOT NULL,
  index_text TEXT NOT NULL DEFAULT '',
  facets TEXT NOT NULL DEFAULT '',
  rating DOUBLE PRECISION NOT NULL DEFAULT 0,
  review_count INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX resources_updated ON resources (updated_ms);
CREATE INDEX resources_created ON resources (created_ms);
CREATE INDEX resources_title ON resources (LOWER(title));
CREATE INDEX resources_rating ON resources (rating);
CREATE INDEX resources_owner ON resources (owner);
CREATE TABLE resource_facets (
  resource_id TEXT NOT NULL REFERENCES resources(id),
  facet TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (resource_id, facet, value)
);
CREATE INDEX resource_facets_value ON resource_facets (facet, value, resource_id);
CREATE TABLE versions (
  resource_id TEXT NOT NULL REFERENCES resources(id),
  hash TEXT NOT NULL,
  number INTEGER NOT NULL,
  parent TEXT NOT NULL,
  message TEXT NOT NULL,
  author TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  metadata TEXT NOT NULL,
  provenance TEXT NOT NULL,
  PRIMARY KEY (resource_id, hash),
  UNIQUE (resource_id, number)
);
CREATE TABLE version_files (
  resource_id TEXT NOT NULL,
  version_hash TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  media_type TEXT NOT NULL,
  PRIMARY KEY (resource_id, version_hash, path),
  FOREIGN KEY (resource_id, version_hash) REFERENCES versions (resource_id, hash)
);
CREATE INDEX version_files_blob ON version_files (sha256);
CREATE TABLE feedback (
  id TEXT PRIMARY KEY,
  resource_id TEXT NOT NULL REFERENCES resources(id),
  kind TEXT NOT NULL,
  author TEXT NOT NULL,
  text TEXT NOT NULL,
  rating INTEGER NOT NULL,
  hidden INTEGER NOT NULL DEFAULT 0,
  moderation_note TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL
);
CREATE INDEX feedback_resource ON feedback (resource_id);
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  time_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY,
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql";

// Full text: an FTS5 table on SQLite, a tsvector with a GIN index on
// PostgreSQL. The audit log refuses UPDATE and DELETE on both.
constexpr const char* kSqliteV1 = R"sql(
CREATE VIRTUAL TABLE resources_fts USING fts5 (
  id UNINDEXED, title, body, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
)sql";

constexpr const char* kPostgresV1 = R"sql(
CREATE TABLE resources_fts (
  id TEXT PRIMARY KEY REFERENCES resources(id),
  document tsvector NOT NULL
);
CREATE INDEX resources_fts_document ON resources_fts USING GIN (document);
CREATE FUNCTION soma_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION soma_audit_append_only();
)sql";

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kAll = {
      {1, "resources, versions, governance, feedback, audit, search", kCoreTables, kSqliteV1,
       kPostgresV1},
  };
  return kAll;
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int LatestSchemaVersion() { return Migrations().back().version; }

Result<int> ApplyMigrations(Database& db) {
  SOMA_RETURN_IF_ERROR(db.ExecScript(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "description TEXT NOT NULL, applied_ms BIGINT NOT NULL)"));
  for (const Migration& m : Migrations()) {
    SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(db));
    SOMA_ASSIGN_OR_RETURN(auto rows,
                          db.Query("SELECT version FROM schema_migrations WHERE version = ?",
                                   {std::int64_t{m.version}}));
    if (!rows.empty()) continue;  // applied; the transaction rolls back (no changes)
    SOMA_RETURN_IF_ERROR(db.ExecScript(m.common_sql));
    SOMA_RETURN_IF_ERROR(
        db.ExecScript(db.dialect() == Dialect::kSqlite ? m.sqlite_sql : m.postgres_sql));
    SOMA_RETURN_IF_ERROR(
        db.Exec("INSERT INTO schema_migrations (version, description, applied_ms) VALUES (?, ?, ?)",
                {std::int64_t{m.version}, std::string(m.description), NowMs()}));
    SOMA_RETURN_IF_ERROR(tx.Commit().WithContext("schema migration " + std::to_string(m.version)));
  }
  SOMA_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT MAX(version) FROM schema_migrations", {}));
  int version = rows.empty() ? 0 : static_cast<int>(rows[0].Int(0));
  if (version > LatestSchemaVersion()) {
    return FailedPrecondition("the database has schema version " + std::to_string(version) +
                              ", newer than this build of Soma understands (" +
                              std::to_string(LatestSchemaVersion()) + "); upgrade Soma");
  }
  return version;
}

}  // namespace soma::repo
