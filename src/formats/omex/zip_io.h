#pragma once
// Internal: libzip behind RAII owners. Archives live in memory only.

#include <zip.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace soma::formats::internal {

struct ZipDiscard {
  void operator()(zip_t* zip) const { zip_discard(zip); }
};

// A read-only view of a zip archive held in memory. The bytes passed to
// Open must outlive the reader.
class ZipReader {
 public:
  // kParseError when `bytes` is not a zip archive or its directory is
  // inconsistent; kResourceExhausted when it has more than `max_entries`
  // entries.
  static Result<ZipReader> Open(std::string_view bytes, std::uint64_t max_entries);

  // Number of entries (files and folders) in the central directory.
  std::uint64_t NumEntries() const { return num_entries_; }

  // Index of the file named `name` (zip spelling, no "./"), if present.
  std::optional<std::uint64_t> Find(std::string_view name) const;

  // Uncompressed size the zip declares for entry `index`.
  std::uint64_t DeclaredSize(std::uint64_t index) const;

  // Inflates entry `index` (called `name` in messages), reading at most
  // `max_bytes`: kResourceExhausted beyond that, kParseError for corrupt data
  // (CRC, inflate errors), kUnsupported for encryption or an unknown
  // compression method.
  Result<std::string> Read(std::uint64_t index, std::string_view name, std::uint64_t max_bytes) const;

 private:
  std::unique_ptr<zip_t, ZipDiscard> zip_;
  std::uint64_t num_entries_ = 0;
  std::map<std::string, std::uint64_t, std::less<>> files_;
};

// One file to store: name inside the zip ('/' separators) and content, which
// must stay alive until WriteZip returns.
struct ZipFile {
  std::string name;
  std::string_view bytes;
};

// A zip archive of `files` in order, deflated, each with the fixed DOS time
// stamp 1980-01-01 00:00 and Unix mode 0644, so equal input gives equal
// bytes. kInternal if libzip fails.
Result<std::string> WriteZip(const std::vector<ZipFile>& files);

}  // namespace soma::formats::internal
