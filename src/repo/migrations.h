#pragma once
// Versioned schema migrations. Each migration has a number and SQL for each
// dialect; ApplyMigrations runs the pending ones in order, each in its own
// transaction together with its row in schema_migrations, so a crash leaves
// the schema at a whole migration. A database newer than this build (a
// migration number we do not know) is refused rather than used.

#include "core/status.h"
#include "repo/database.h"

namespace soma::repo {

// The schema version this build writes.
int LatestSchemaVersion();

// Applies pending migrations; returns the schema version afterwards.
Result<int> ApplyMigrations(Database& db);

}  // namespace soma::repo
