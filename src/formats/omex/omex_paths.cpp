#include "formats/omex/omex_paths.h"

#include <cctype>

namespace soma::formats::internal {

bool IsExternalLocation(std::string_view location) {
  size_t colon = location.find(':');
  if (colon == std::string_view::npos || colon < 2) return false;
  if (!std::isalpha(static_cast<unsigned char>(location[0]))) return false;
  for (size_t i = 1; i < colon; ++i) {
    char c = location[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

Result<std::string> ZipNameForLocation(std::string_view location) {
  if (location.empty()) return InvalidArgument("empty location");
  if (location.find('\0') != std::string_view::npos)
    return InvalidArgument("location contains a NUL character");
  if (location == "." || location == "./") return std::string();
  std::string_view rest = location;
  if (rest.substr(0, 2) == "./") rest.remove_prefix(2);
  bool drive = rest.size() >= 2 && std::isalpha(static_cast<unsigned char>(rest[0])) && rest[1] == ':';
  if (rest.empty() || rest.front() == '/' || rest.front() == '\\' || drive) {
    return InvalidArgument("absolute path (locations must be relative to the archive root)");
  }
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view segment = rest.substr(start, end - start);
    if (segment == "..") return InvalidArgument("'..' segment (path traversal out of the archive)");
    if (segment.empty() || segment == ".") return InvalidArgument("empty or '.' path segment");
    start = end + 1;
  }
  return std::string(rest);
}

}  // namespace soma::formats::internal
