#pragma once
// Internal: manifest.xml, the archive's table of contents.

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace soma::formats::internal {

inline constexpr std::string_view kManifestNamespace =
    "http://identifiers.org/combine.specifications/omex-manifest";

struct ManifestItem {
  std::string location;  // as written
  std::string format;
  bool master = false;
  int line = 0;  // in manifest.xml, for messages; 0 when written by us
};

// kParseError for XML that is not well formed (with line), a root other than
// <omexManifest> in kManifestNamespace, a <content> without location or
// format, or a master attribute other than true/false/1/0. Other elements are
// ignored.
Result<std::vector<ManifestItem>> ParseManifest(std::string_view bytes);

// The manifest listing `items` in order. Text must be XML-safe.
std::string WriteManifest(const std::vector<ManifestItem>& items);

}  // namespace soma::formats::internal
