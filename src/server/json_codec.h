#pragma once
// JSON forms of the repository's values: what the HTTP API sends and the CLI
// prints (the same functions serve both, so a command's --json output is the
// same against a server and against a local data folder). Most forward to
// repo/json.h, the one place the field names are defined; audit entries are
// shown with their detail parsed, and request parsing is lenient about
// unknown fields.
//
// Parsing functions never throw: a wrong type or a missing required field is
// kInvalidArgument naming the field ("metadata.creators[0].name: expected a
// string"). Unknown fields are ignored.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "repo/repository.h"
#include "repo/types.h"

namespace soma::server {

using Json = nlohmann::json;

// Parses a request body; kInvalidArgument (naming `what`) unless it is a JSON
// object.
Result<Json> ParseJsonObject(std::string_view text, std::string_view what = "request body");

Json ToJson(const repo::Metadata& m);
Json ToJson(const repo::Provenance& p);
Json ToJson(const repo::FileEntry& f);
Json ToJson(const repo::Resource& r);
Json ToJson(const repo::Version& v);
Json ToJson(const repo::User& u);
Json ToJson(const repo::Group& g);
Json ToJson(const repo::TokenInfo& t);
Json ToJson(const repo::Feedback& f);
Json ToJson(const repo::AuditEntry& e);
Json ToJson(const repo::AuditReport& r);
Json ToJson(const repo::SearchResult& r);
Json ToJson(const repo::Principal& p);

// `field` prefixes error messages ("metadata").
Result<repo::Metadata> MetadataFromJson(const Json& j, std::string_view field = "metadata");
Result<repo::Provenance> ProvenanceFromJson(const Json& j, std::string_view field = "provenance");

// Typed field access for request bodies. Missing optional fields leave `out`
// unchanged; present fields of the wrong type are kInvalidArgument.
Status ReadString(const Json& obj, std::string_view key, std::string* out, bool required = false);
Status ReadInt(const Json& obj, std::string_view key, int* out, bool required = false);
Status ReadBool(const Json& obj, std::string_view key, bool* out, bool required = false);

}  // namespace soma::server
