#pragma once
// JSON forms of the repository's values, shared by the database (metadata and
// provenance columns), the HTTP API and the CLI so that all three speak the
// same field names. Reading validates types and names the offending field.

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "repo/types.h"

namespace soma::repo {

nlohmann::json ToJson(const Metadata& m);
nlohmann::json ToJson(const Provenance& p);
nlohmann::json ToJson(const FileEntry& f);
nlohmann::json ToJson(const Version& v);
nlohmann::json ToJson(const Resource& r);
nlohmann::json ToJson(const User& u);
nlohmann::json ToJson(const Group& g);
nlohmann::json ToJson(const TokenInfo& t);
nlohmann::json ToJson(const Feedback& f);
nlohmann::json ToJson(const AuditEntry& e);
nlohmann::json ToJson(const AuditReport& r);
nlohmann::json ToJson(const SearchResult& r);

// Unknown fields are rejected (a typo should not be silently ignored);
// `where` prefixes error messages, e.g. "metadata".
Result<Metadata> MetadataFromJson(const nlohmann::json& j, const std::string& where = "metadata");
Result<Provenance> ProvenanceFromJson(const nlohmann::json& j,
                                      const std::string& where = "provenance");

}  // namespace soma::repo
