#pragma once
// The repository: versioned resources (models, datasets, twins, scenarios,
// trials, evidence, documents) with metadata, full-text search with facets,
// governance (users, groups, roles, tokens, visibility, licences), an
// append-only hash-chained audit log and community feedback.
//
// Storage: a database (SQLite by default, PostgreSQL by URL) for records and
// a content-addressed blob folder for file bytes (see BlobStore). A push
// writes every blob first (temp file, fsync, rename) and then inserts the
// version row, its files and the audit entry in one transaction, so a
// process killed at any point leaves either the whole version or none of it
// listed; unreferenced blobs are harmless and removed by CollectGarbage().
//
// Authorisation happens here, not in callers: every call takes the Principal
// it acts for. Resources the caller may not read are reported as kNotFound
// (their existence is not revealed), never counted in totals or facets.
// Reads of non-public resources and all writes are audited.
//
// Thread safety: all methods are thread-safe (each call takes its own
// connection from a pool).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "repo/blob_store.h"
#include "repo/database.h"
#include "repo/types.h"

namespace soma::repo {

struct RepositoryOptions {
  // Database URL: "sqlite:PATH" or "postgresql://...". Empty: sqlite at
  // data_dir/soma.db.
  std::string database_url;
  // Folder for blobs (data_dir/blobs) and the SQLite file. Created if missing.
  std::filesystem::path data_dir = "soma-data";
  // Largest single file accepted by PushVersion, bytes.
  std::int64_t max_file_bytes = 64ll << 20;
  // The software version recorded in provenance when none is given.
  std::string software_version = "soma";
};

struct NewResource {
  std::string id;  // empty: derived from the title (slug) and made unique
  ResourceKind kind = ResourceKind::kModel;
  Metadata metadata;
  Visibility visibility = Visibility::kPrivate;
  std::string group;  // required for kGroup; the creator must be a member (or admin)
};

struct NewFile {
  std::string path;
  std::string bytes;
  std::string media_type;  // empty: guessed from the extension
};

struct NewVersion {
  std::vector<NewFile> files;      // at least one
  std::string message;             // required, non-empty
  std::optional<Metadata> metadata;  // empty: keep the resource's current metadata
  Provenance provenance;
  // Extra text indexed for full-text search, e.g. the names and ids of an
  // SBML model's species and parameters (callers extract it; the repository
  // does not parse model files).
  std::string index_text;
  // Annotations (identifiers.org URIs) found in the content; merged into the
  // metadata's annotations.
  std::vector<std::string> annotations;
};

struct ListQuery {
  std::optional<ResourceKind> kind;
  std::string owner;  // "" any
  int limit = 20;     // 1-100
  int offset = 0;
};

template <typename T>
struct Page {
  int total = 0;
  std::vector<T> items;
};

class Repository {
 public:
  // Opens (creating if needed) the repository and applies pending schema
  // migrations. Errors: kUnavailable (database), kIoError (data folder).
  static Result<std::unique_ptr<Repository>> Open(const RepositoryOptions& options);
  ~Repository();

  const RepositoryOptions& options() const;
  int schema_version() const;
  bool Ready();  // database reachable and blob folder writable

  // ---- resources ----
  // Requires contributor. kAlreadyExists for a taken id; kFailedPrecondition
  // for public without a licence.
  Result<Resource> CreateResource(const Principal& p, const NewResource& r);
  Result<Resource> GetResource(const Principal& p, const std::string& id);
  Result<Page<Resource>> ListResources(const Principal& p, const ListQuery& q);
  // Owner, curator or admin. Public needs a licence in the current metadata.
  Result<Resource> SetVisibility(const Principal& p, const std::string& id, Visibility v,
                                 const std::string& group);
  // Owner or admin. Removes the resource record and its versions from
  // listings; blobs are collected later. Audited.
  Status DeleteResource(const Principal& p, const std::string& id);

  // ---- versions ----
  // Owner (contributor+), curator with read access, or admin. If the content
  // hash equals the latest version's, returns that version unchanged.
  Result<Version> PushVersion(const Principal& p, const std::string& id, const NewVersion& v);
  Result<std::vector<Version>> ListVersions(const Principal& p, const std::string& id);
  // `version`: a full hash, a unique hash prefix (>= 7 hex), a number ("3"),
  // or "latest".
  Result<Version> GetVersion(const Principal& p, const std::string& id,
                             const std::string& version);
  // The bytes of one file; verifies its hash (kDataLoss on mismatch).
  Result<std::string> ReadFile(const Principal& p, const std::string& id,
                               const std::string& version, const std::string& path);

  // ---- search ----
  Result<SearchResult> Search(const Principal& p, const SearchQuery& q);

  // ---- governance ----
  // Admin only, except Authenticate. The first user may be created with
  // CreateInitialAdmin (no principal) when no user exists yet.
  Result<User> CreateInitialAdmin(const std::string& name);
  bool HasUsers();
  Result<User> CreateUser(const Principal& p, const std::string& name, Role role);
  Result<User> GetUser(const Principal& p, const std::string& name);  // self or admin
  Result<std::vector<User>> ListUsers(const Principal& p);
  Result<User> SetRole(const Principal& p, const std::string& name, Role role);
  Result<Group> CreateGroup(const Principal& p, const std::string& name, const std::string& title);
  Result<std::vector<Group>> ListGroups(const Principal& p);
  Status AddMember(const Principal& p, const std::string& group, const std::string& user);
  Status RemoveMember(const Principal& p, const std::string& group, const std::string& user);
  // Issues a token for `user` (self, or admin for anyone). The secret is
  // returned once, as "soma_<id>_<secret>"; only its SHA-256 is stored. An
  // anonymous principal may obtain only the first token of the initial admin
  // (bootstrap on first start), while no token exists yet.
  struct IssuedToken {
    TokenInfo info;
    std::string token;
  };
  Result<IssuedToken> CreateToken(const Principal& p, const std::string& user,
                                  const std::string& label);
  Result<std::vector<TokenInfo>> ListTokens(const Principal& p, const std::string& user);
  Status RevokeToken(const Principal& p, const std::string& token_id);
  // kUnauthenticated for an unknown, malformed or revoked token.
  Result<Principal> Authenticate(const std::string& token);
  // The principal of a named user, for trusted local use (the CLI acting on
  // its own data folder). kNotFound for an unknown user.
  Result<Principal> PrincipalForUser(const std::string& name);

  // ---- feedback ----
  // Any signed-in user who can read the resource. rating 1-5 for reviews.
  Result<Feedback> AddComment(const Principal& p, const std::string& id, const std::string& text);
  Result<Feedback> AddReview(const Principal& p, const std::string& id, int rating,
                             const std::string& text);
  // Hidden items are listed only to curators and admins.
  Result<std::vector<Feedback>> ListFeedback(const Principal& p, const std::string& id);
  // Curator or admin.
  Result<Feedback> Moderate(const Principal& p, const std::string& feedback_id, bool hidden,
                            const std::string& note);

  // ---- audit ----
  // Admin only.
  Result<Page<AuditEntry>> ListAudit(const Principal& p, int limit, int offset);
  // Recomputes the chain; any edited, removed or reordered entry breaks it.
  Result<AuditReport> VerifyAudit();

  // ---- maintenance ----
  // Checks every listed version's files exist and match their hashes.
  struct IntegrityReport {
    int versions = 0;
    int files = 0;
    std::vector<std::string> problems;  // "model-x@ab12...: file a.xml: hash mismatch"
  };
  Result<IntegrityReport> CheckIntegrity();
  // Removes blobs no version references and leftover temp files. Returns
  // the number of files removed.
  Result<int> CollectGarbage();

  // Opaque state (repository_impl.h); public only so that the
  // implementation's helper functions can name it.
  class Impl;

 private:
  explicit Repository(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace soma::repo
