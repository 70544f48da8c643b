#pragma once
// Private to the repository's .cpp files: the state behind Repository and
// helpers they share (visibility rules, row decoding, the audit append).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "repo/blob_store.h"
#include "repo/database.h"
#include "repo/repository.h"

namespace soma::repo {

inline std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The columns every resource query selects, in the order DecodeResource reads.
inline constexpr const char* kResourceColumns =
    "r.id, r.kind, r.owner, r.visibility, r.group_name, r.created_ms, r.updated_ms, "
    "r.version_count, r.latest_version, r.metadata, r.rating, r.review_count";

Result<Resource> DecodeResource(const SqlRow& row);

// A SQL condition (on alias r) true for the resources `p` may read, with its
// parameters appended to `params`.
std::string VisibleCondition(const Principal& p, std::vector<SqlValue>& params);
bool CanRead(const Principal& p, const Resource& r);
bool CanWrite(const Principal& p, const Resource& r);

// Appends an audit entry inside the caller's write transaction.
Status AppendAudit(Database& db, const std::string& actor, const std::string& action,
                   const std::string& target, const std::string& detail);

// Replaces the search index rows (FTS, facet rows and the resource's
// `facets` column) of one resource, inside the caller's write transaction.
Status IndexResource(Database& db, const Resource& r, const std::string& index_text);

// Recomputes a resource's rating and review count from visible reviews.
Status UpdateRating(Database& db, const std::string& resource_id);

class Repository::Impl {
 public:
  Impl(RepositoryOptions options, BlobStore blobs, int schema_version)
      : options(std::move(options)), pool(this->options.database_url), blobs(std::move(blobs)),
        schema_version(schema_version) {}

  RepositoryOptions options;
  ConnectionPool pool;
  BlobStore blobs;
  int schema_version;

  // Reads a resource the principal may see (kNotFound otherwise), without
  // auditing. Deleted resources are not found.
  Result<Resource> LoadVisible(Database& db, const Principal& p, const std::string& id);
};

}  // namespace soma::repo
