#pragma once
// The repository's vocabulary: resources, their metadata and immutable
// versions, the people who own and read them, and what search returns.
// Plain values with no behaviour beyond conversion to and from their stable
// wire names (used in the database, the HTTP API and the CLI alike).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace soma::repo {

// What a resource is. Wire names: "model", "dataset", "twin", "scenario",
// "trial", "evidence" (a credibility dossier), "document", "result" (the
// stored output of a job: a scenario comparison or a trial run).
enum class ResourceKind { kModel, kDataset, kTwin, kScenario, kTrial, kEvidence, kDocument, kResult };

// Who may read a resource. kPublic: everyone, signed in or not. kGroup: the
// members of the resource's group (a consortium) plus owner, curators and
// admins. kPrivate: the owner and admins only. Wire names "public", "group",
// "private".
enum class Visibility { kPublic, kGroup, kPrivate };

// A user's role, ordered by power: each role can do what the ones before it
// can. reader: read what is visible to them, comment and review.
// contributor: also create resources and push versions of their own.
// curator: also moderate feedback and push versions of any resource they can
// read. admin: also manage users, groups and tokens and read everything.
enum class Role { kReader = 0, kContributor = 1, kCurator = 2, kAdmin = 3 };

std::string_view ToString(ResourceKind kind);
std::string_view ToString(Visibility visibility);
std::string_view ToString(Role role);
Result<ResourceKind> ParseResourceKind(std::string_view name);
Result<Visibility> ParseVisibility(std::string_view name);
Result<Role> ParseRole(std::string_view name);

// The scales a model may describe (wire names as written).
inline constexpr std::string_view kScales[] = {"cell", "tissue", "organ", "body", "population"};

struct Creator {
  std::string name;
  std::string orcid;  // "0000-0002-1825-0097" form, optional
};

// Descriptive metadata, versioned with the content. Lists keep their order.
struct Metadata {
  std::string title;                        // required, non-empty
  std::string description;
  std::vector<Creator> creators;
  std::string license;                      // SPDX id ("CC-BY-4.0"); required to publish publicly
  std::vector<std::string> keywords;
  std::vector<std::string> organ_systems;   // e.g. "endocrine", "cardiovascular"
  std::vector<std::string> diseases;        // e.g. "type 1 diabetes"
  std::vector<std::string> scales;          // each one of kScales
  std::string context_of_use;
  std::vector<std::string> references;      // "doi:10.1000/x" or "pubmed:123456"
  std::vector<std::string> annotations;     // identifiers.org URIs (from SBML or given)
  std::string credibility_level;            // "", or one of "low", "medium", "high"
};

// Checks the fields' rules (title present, known scales, ORCID and
// reference syntax, SPDX-like licence, credibility level). The message
// names the field, e.g. "metadata.scales[1] = 'galaxy': must be one of ...".
Status ValidateMetadata(const Metadata& metadata);

// One file of a version. `sha256` is the lowercase hex digest of its bytes.
struct FileEntry {
  std::string path;        // relative, '/'-separated, no "..", unique in the version
  std::string sha256;
  std::int64_t size = 0;   // bytes
  std::string media_type;  // e.g. "application/sbml+xml"
};

// W3C PROV-style links of a version. References to other versions are
// "RESOURCE_ID@VERSION_HASH" or "RESOURCE_ID" (then the latest version).
struct Provenance {
  std::vector<std::string> derived_from;
  std::vector<std::string> validated_by;
  std::string generated_by;      // the run that produced it (free text id), optional
  std::string software_version;  // e.g. "soma 0.1.0"
  std::vector<std::string> inputs;
};

// An immutable version. `hash` is the SHA-256 (hex) of the canonical JSON of
// its metadata, provenance and file list (see VersionContentJson), so equal
// content has an equal address and any change of content changes the address.
struct Version {
  std::string resource_id;
  std::string hash;
  int number = 0;              // 1, 2, ... within the resource
  std::string message;
  std::string author;          // user name
  std::int64_t created_ms = 0; // Unix time, milliseconds
  Metadata metadata;
  Provenance provenance;
  std::vector<FileEntry> files;
};

struct Resource {
  std::string id;              // stable: lowercase letters, digits, '-', '_', '.'; 1-100 chars
  ResourceKind kind = ResourceKind::kModel;
  std::string owner;           // user name
  Visibility visibility = Visibility::kPrivate;
  std::string group;           // the group that kGroup visibility refers to ("" if none)
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  int version_count = 0;
  std::string latest_version;  // hash, "" before the first push
  Metadata metadata;           // of the latest version (or as created)
  double rating = 0;           // mean of visible reviews, 0 if none
  int review_count = 0;
};

// The identity a request acts as. Anonymous principals have an empty name
// and see only public resources.
struct Principal {
  std::string user;
  Role role = Role::kReader;
  std::vector<std::string> groups;
  bool anonymous() const { return user.empty(); }
  static Principal Anonymous() { return {}; }
};

struct User {
  std::string name;  // 1-64 chars of [a-z0-9._-]
  Role role = Role::kReader;
  std::vector<std::string> groups;
  std::int64_t created_ms = 0;
};

struct Group {
  std::string name;
  std::string title;
  std::vector<std::string> members;
};

// An API token's public record; the secret itself is never stored.
struct TokenInfo {
  std::string id;          // short public id (prefix of the token)
  std::string user;
  std::string label;
  std::int64_t created_ms = 0;
  bool revoked = false;
};

// Community feedback on a resource: a comment, or a review with a rating.
enum class FeedbackKind { kComment, kReview };
struct Feedback {
  std::string id;
  std::string resource_id;
  FeedbackKind kind = FeedbackKind::kComment;
  std::string author;
  std::string text;
  int rating = 0;          // 1-5 for reviews, 0 for comments
  bool hidden = false;     // set by a curator's moderation
  std::string moderation_note;
  std::int64_t created_ms = 0;
};

// The facets search counts over. Wire names: "kind", "organ", "disease",
// "license", "scale", "credibility", "visibility".
inline constexpr std::string_view kFacetNames[] = {"kind",  "organ",       "disease",   "license",
                                                   "scale", "credibility", "visibility"};

enum class SortOrder { kRelevance, kUpdated, kTitle, kCreated, kRating };
Result<SortOrder> ParseSortOrder(std::string_view name);  // "relevance", "updated", ...

struct SearchQuery {
  std::string text;  // free text, "" lists everything visible
  // facet name -> accepted values (OR within a facet, AND across facets)
  std::map<std::string, std::vector<std::string>> filters;
  SortOrder sort = SortOrder::kRelevance;
  int limit = 20;    // 1-100
  int offset = 0;    // >= 0
};

struct FacetCount {
  std::string value;
  int count = 0;
};

struct SearchResult {
  int total = 0;  // matches visible to the caller (all pages)
  std::vector<Resource> items;
  std::map<std::string, std::vector<FacetCount>> facets;  // by facet name, counts descending
};

// One audited event.
struct AuditEntry {
  std::int64_t seq = 0;        // 1, 2, ... without gaps
  std::int64_t time_ms = 0;
  std::string actor;           // user name, "" for anonymous
  std::string action;          // e.g. "resource.create", "version.push", "resource.read"
  std::string target;          // e.g. resource id, "user:alice"
  std::string detail;          // JSON text
  std::string prev_hash;       // hash of entry seq-1 ("" x 64 zeros for the first)
  std::string hash;            // SHA-256 over prev_hash and this entry's fields
};

struct AuditReport {
  bool ok = true;
  std::int64_t entries = 0;
  std::int64_t first_bad_seq = 0;  // 0 when ok
  std::string problem;             // what failed at first_bad_seq
};

}  // namespace soma::repo
