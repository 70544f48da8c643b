// Placeholder until the libpq backend lands: PostgreSQL URLs are refused
// with a clear message instead of being handled wrongly.

#include <memory>
#include <string>

#include "repo/database.h"

namespace soma::repo {

Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& conninfo) {
  return Unsupported("database '" + conninfo + "': this build has no PostgreSQL backend yet");
}

}  // namespace soma::repo
