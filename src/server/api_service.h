#pragma once
// The operations of Soma's HTTP API as plain function calls, shared by the
// server's handlers and by the CLI's local mode (`soma repo ... --data DIR`).
// Each takes the Principal it acts for and returns the JSON document the API
// responds with (see docs/api.md for shapes), so a command prints the same
// thing whether it ran against a server or a data folder.
//
// Authorisation is the repository's (every call passes the principal down);
// this layer adds request parsing, the SBML/OMEX glue (content indexing,
// archive export and import) and pagination fields.
//
// Errors: the repository's codes pass through unchanged; malformed request
// fields are kInvalidArgument naming the field.
//
// Thread safety: as thread-safe as the Repository (fully); no mutable state.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "repo/repository.h"
#include "server/json_codec.h"
#include "server/query_params.h"

namespace soma::server {

class JobManager;  // server/jobs.h

// Bytes with a media type: a stored file or an exported archive.
struct Blob {
  std::string bytes;
  std::string media_type;
  std::string sha256;    // hex digest of `bytes`
  std::string filename;  // suggested download name
};

// A version to push: files with their bytes plus the optional JSON fields
// of POST /v1/resources/{id}/versions.
struct PushRequest {
  std::vector<repo::NewFile> files;
  std::string message;
  std::optional<repo::Metadata> metadata;
  repo::Provenance provenance;
};

// Parses the JSON body of a push: {"message", "metadata"?, "provenance"?,
// "files": [{"path", "content_base64", "media_type"?}]}.
Result<PushRequest> ParsePushJson(const Json& body);
// Builds the JSON body of a push (the inverse; used by the HTTP client).
Json PushToJson(const PushRequest& request);

// Paging fields of a list response: {"total", "limit", "offset",
// "next_offset" (null on the last page)} merged into `page`.
void AddPaging(Json& page, int total, int limit, int offset);

class TwinService;  // twin_service.h

class ApiService {
 public:
  explicit ApiService(repo::Repository& repo);
  ~ApiService();
  repo::Repository& repository() { return repo_; }
  // The twin operations (/v1/twins); their node secret comes from
  // LoadOrCreateNodeSecret(data_dir). kIoError etc. when that failed.
  Result<TwinService*> twins();

  bool Ready() { return repo_.Ready(); }
  // The job runner behind /v1/jobs (soma serve sets one); null: the job
  // routes answer 503. Not owned.
  void set_jobs(JobManager* jobs) { jobs_ = jobs; }
  JobManager* jobs() const { return jobs_; }
  Json Me(const repo::Principal& p) const { return ToJson(p); }

  // ---- resources ----
  // Query: kind, owner, limit (1-100, default 20), offset (>= 0).
  Result<Json> ListResources(const repo::Principal& p, const Params& query);
  // Body: {"id"?, "kind", "visibility"?, "group"?, "metadata"}.
  Result<Json> CreateResource(const repo::Principal& p, const Json& body);
  Result<Json> GetResource(const repo::Principal& p, const std::string& id);
  // Body: {"visibility", "group"?}.
  Result<Json> UpdateResource(const repo::Principal& p, const std::string& id, const Json& body);
  Status DeleteResource(const repo::Principal& p, const std::string& id);

  // ---- versions ----
  Result<Json> ListVersions(const repo::Principal& p, const std::string& id);
  Result<Json> GetVersion(const repo::Principal& p, const std::string& id, const std::string& version);
  // SBML files among the pushed ones are indexed for search (species,
  // parameter ... names) and their identifiers.org annotations recorded.
  Result<Json> PushVersion(const repo::Principal& p, const std::string& id, PushRequest request);
  Result<Blob> ReadFile(const repo::Principal& p, const std::string& id, const std::string& version,
                        const std::string& path);

  // ---- exchange (COMBINE/OMEX) ----
  // The version as an OMEX archive: its files, a manifest, archive metadata
  // and "soma.json" (the full Soma metadata and provenance, for round trips).
  Result<Blob> ExportOmex(const repo::Principal& p, const std::string& id, const std::string& version);
  // Creates a resource and its first version from an archive. Query: id,
  // kind, visibility (default private), group. Returns {"resource", "version"}.
  Result<Json> ImportOmex(const repo::Principal& p, std::string_view archive, const Params& query);

  // ---- search ----
  // Query: q, sort (relevance|updated|title|created|rating), limit, offset,
  // and any facet name of repo::kFacetNames (repeatable or comma-separated).
  Result<Json> Search(const repo::Principal& p, const Params& query);

  // ---- feedback ----
  Result<Json> ListFeedback(const repo::Principal& p, const std::string& id);
  // Body: {"kind": "comment"|"review", "text", "rating"? (1-5, reviews)}.
  Result<Json> AddFeedback(const repo::Principal& p, const std::string& id, const Json& body);
  // Body: {"hidden": bool, "note"?}.
  Result<Json> Moderate(const repo::Principal& p, const std::string& feedback_id, const Json& body);

  // ---- governance ----
  Result<Json> ListUsers(const repo::Principal& p);
  Result<Json> CreateUser(const repo::Principal& p, const Json& body);  // {"name", "role"?}
  Result<Json> GetUser(const repo::Principal& p, const std::string& name);
  Result<Json> UpdateUser(const repo::Principal& p, const std::string& name, const Json& body);  // {"role"}
  Result<Json> ListGroups(const repo::Principal& p);
  Result<Json> CreateGroup(const repo::Principal& p, const Json& body);  // {"name", "title"?}
  Status AddMember(const repo::Principal& p, const std::string& group, const Json& body);  // {"user"}
  Status RemoveMember(const repo::Principal& p, const std::string& group, const std::string& user);
  // Query: user (default the caller).
  Result<Json> ListTokens(const repo::Principal& p, const Params& query);
  // Body: {"user"? (default the caller), "label"?}. The response carries the
  // secret token once: {"token", "info"}.
  Result<Json> CreateToken(const repo::Principal& p, const Json& body);
  Status RevokeToken(const repo::Principal& p, const std::string& token_id);

  // ---- audit (admin) ----
  Result<Json> ListAudit(const repo::Principal& p, const Params& query);  // limit, offset
  // kPermissionDenied unless admin (kUnauthenticated for anonymous).
  Result<Json> VerifyAudit(const repo::Principal& p);

 private:
  repo::Repository& repo_;
  std::unique_ptr<TwinService> twins_;
  Status twins_status_;
  JobManager* jobs_ = nullptr;
};

}  // namespace soma::server
