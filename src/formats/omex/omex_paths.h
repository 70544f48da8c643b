#pragma once
// Internal: manifest locations <-> zip entry names, and the path-traversal
// rules both directions enforce.

#include <string>
#include <string_view>

#include "core/status.h"

namespace soma::formats::internal {

// True if `location` starts with a URI scheme ("http:", "https:", "ftp:",
// ...; at least two letters, so "C:" is a drive, not a scheme).
bool IsExternalLocation(std::string_view location);

// The zip entry name for a manifest location: "./a/b.csv" and "a/b.csv" give
// "a/b.csv"; "." and "./" (the archive itself) give "". kInvalidArgument,
// explaining the problem, for an empty location, an absolute one ("/x",
// "\x", "C:/x"), one with a ".." segment (path traversal; '\' counts as a
// separator), an empty or "." segment ("a//b", "a/./b"), or a NUL character.
Result<std::string> ZipNameForLocation(std::string_view location);

}  // namespace soma::formats::internal
