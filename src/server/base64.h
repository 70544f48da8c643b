#pragma once
// Standard base64 (RFC 4648, with '=' padding) for file contents carried in
// JSON request bodies.

#include <string>
#include <string_view>

#include "core/status.h"

namespace soma::server {

std::string Base64Encode(std::string_view bytes);
// Accepts padded or unpadded input; ASCII whitespace is ignored.
// kInvalidArgument on any other character or a truncated final group.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace soma::server
