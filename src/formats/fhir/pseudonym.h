#pragma once
// Keyed pseudonyms for patients: "psn-" + the first 32 hex digits (128 bits)
// of HMAC-SHA256(node_secret, key). The key is "system|value" of the
// patient's first identifier with a value, or the Patient resource id when it
// has none (see docs/clinical-data.md). The same secret and key always give
// the same pseudonym; without the secret a pseudonym cannot be recomputed
// from a guessed identifier. The node secret must stay on its node.

#include <string>
#include <string_view>

namespace soma::formats {

// node_secret must not be empty (callers validate their options first).
std::string Pseudonymise(std::string_view node_secret, std::string_view key);

}  // namespace soma::formats
