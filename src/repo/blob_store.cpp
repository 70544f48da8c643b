#include "repo/blob_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/files.h"
#include "repo/crypto.h"

namespace soma::repo {
namespace fs = std::filesystem;
namespace {

Status Errno(const std::string& what, const fs::path& path) {
  return IoError(what + " '" + path.string() + "': " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view bytes, const fs::path& path) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status FsyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Errno("cannot open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("cannot fsync directory", dir);
  return Status::Ok();
}

}  // namespace

bool IsSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<BlobStore> BlobStore::Open(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir / "tmp", ec);
  if (ec) return IoError("cannot create blob folder '" + dir.string() + "': " + ec.message());
  return BlobStore(dir);
}

fs::path BlobStore::PathOf(const std::string& sha256) const {
  return dir_ / sha256.substr(0, 2) / sha256.substr(2);
}

Result<std::string> BlobStore::Put(std::string_view bytes) const {
  std::string hash = Sha256Hex(bytes);
  fs::path final_path = PathOf(hash);
  std::error_code ec;
  if (fs::exists(final_path, ec)) return hash;
  fs::create_directories(final_path.parent_path(), ec);
  if (ec) return IoError("cannot create '" + final_path.parent_path().string() + "': " + ec.message());
  fs::path tmp = dir_ / "tmp" / (hash.substr(0, 16) + "." + RandomHex(8) + ".part");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  Status s = WriteAll(fd, bytes, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = Errno("cannot fsync", tmp);
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), final_path.c_str()) != 0) s = Errno("cannot rename", tmp);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  SOMA_RETURN_IF_ERROR(FsyncDir(final_path.parent_path()));
  return hash;
}

Result<std::string> BlobStore::Get(const std::string& sha256) const {
  if (!IsSha256Hex(sha256)) return InvalidArgument("'" + sha256 + "' is not a SHA-256 hex digest");
  fs::path path = PathOf(sha256);
  auto read = ReadWholeFile(path);
  if (!read.ok() && read.status().code() == ErrorCode::kNotFound) {
    return NotFound("blob " + sha256 + " is missing from " + dir_.string());
  }
  if (!read.ok()) return read.status().WithContext("blob " + sha256);
  std::string bytes = std::move(*read);
  if (Sha256Hex(bytes) != sha256) {
    return DataLoss("blob " + sha256 + " does not match its hash (file '" + path.string() + "')");
  }
  return bytes;
}

bool BlobStore::Contains(const std::string& sha256) const {
  std::error_code ec;
  return IsSha256Hex(sha256) && fs::exists(PathOf(sha256), ec);
}

Result<std::vector<std::string>> BlobStore::List() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& sub : fs::directory_iterator(dir_, ec)) {
    std::string prefix = sub.path().filename().string();
    if (!sub.is_directory() || prefix.size() != 2 || prefix == "tm") continue;
    for (const auto& f : fs::directory_iterator(sub.path(), ec)) {
      std::string h = prefix + f.path().filename().string();
      if (IsSha256Hex(h)) out.push_back(h);
    }
  }
  if (ec) return IoError("cannot list blob folder '" + dir_.string() + "': " + ec.message());
  return out;
}

Status BlobStore::Remove(const std::string& sha256) const {
  std::error_code ec;
  fs::remove(PathOf(sha256), ec);
  if (ec) return IoError("cannot remove blob " + sha256 + ": " + ec.message());
  return Status::Ok();
}

Result<int> BlobStore::CleanTemp() const {
  int n = 0;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir_ / "tmp", ec)) {
    if (fs::remove(f.path(), ec)) ++n;
  }
  if (ec) return IoError("cannot clean '" + (dir_ / "tmp").string() + "': " + ec.message());
  return n;
}

bool BlobStore::Writable() const { return ::access((dir_ / "tmp").c_str(), W_OK) == 0; }

}  // namespace soma::repo
