#pragma once
// Content-addressed file storage: each blob lives at DIR/ab/cdef... where
// "abcdef..." is the lowercase hex SHA-256 of its bytes. Writes are atomic:
// the bytes go to a temp file in DIR/tmp, are fsync'd, renamed into place and
// the directory is fsync'd, so a reader never sees a partial blob and a crash
// leaves at most a stray temp file. Writing an existing blob is a no-op.
//
// Thread-safe (distinct temp names; rename is atomic).

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace soma::repo {

class BlobStore {
 public:
  // Creates DIR and DIR/tmp if missing. kIoError if it cannot.
  static Result<BlobStore> Open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }

  // Stores `bytes` and returns their hash.
  Result<std::string> Put(std::string_view bytes) const;
  // Reads a blob and verifies its hash: kNotFound if absent, kDataLoss if the
  // bytes do not hash to `sha256`.
  Result<std::string> Get(const std::string& sha256) const;
  bool Contains(const std::string& sha256) const;
  // All stored hashes (for garbage collection and integrity checks).
  Result<std::vector<std::string>> List() const;
  Status Remove(const std::string& sha256) const;
  // Removes leftover temp files; returns how many.
  Result<int> CleanTemp() const;
  // True if DIR/tmp accepts a new file.
  bool Writable() const;

 private:
  explicit BlobStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path PathOf(const std::string& sha256) const;
  std::filesystem::path dir_;
};

// True for 64 lowercase hex characters.
bool IsSha256Hex(std::string_view s);

}  // namespace soma::repo
