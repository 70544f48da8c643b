#include "scenario/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "core/files.h"

namespace soma::scenario {
namespace {

namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little,
              "the trial checkpoint and the member bytes are written in the host's byte order");

constexpr char kMagic[8] = {'S', 'O', 'M', 'A', 'T', 'R', 'C', '1'};
constexpr uint32_t kByteOrder = 0x01020304;
constexpr size_t kHeaderBytes = sizeof kMagic + 2 * sizeof(uint32_t) + sizeof(uint64_t);
// A longer record is damage, not a member (a T1D member is about 7 KB).
constexpr uint64_t kMaxRecordBytes = uint64_t{1} << 32;

// The CRC-32 of `bytes`, or of what `crc` was the CRC of followed by them.
uint32_t Crc32(std::string_view bytes, uLong crc = crc32(0L, Z_NULL, 0)) {
  // zlib takes at most a uInt at a time.
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), std::numeric_limits<uInt>::max());
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

template <class T>
void Put(T v, std::string* out) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <class T>
T Get(std::string_view bytes, size_t at) {
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof v);
  return v;
}

std::string Header(uint64_t fingerprint) {
  std::string h(kMagic, sizeof kMagic);
  Put(kByteOrder, &h);
  Put(uint32_t{0}, &h);
  Put(fingerprint, &h);
  return h;
}

// Reads whole, intact records from the front of `bytes` into `results`.
// Returns the bytes they take; `problem` says why reading stopped before
// the end (empty when it reached it), with offsets counted from `base`.
size_t ReadRecords(std::string_view bytes, size_t base, std::vector<MemberResult>* results, std::string* problem) {
  size_t at = 0;
  for (int record = 1; at < bytes.size(); ++record) {
    const std::string_view rest = bytes.substr(at);
    const std::string which = "record " + std::to_string(record) + " (at byte " + std::to_string(base + at) + ")";
    if (rest.size() < sizeof(uint64_t)) {
      *problem = which + " is cut short";
      return at;
    }
    const uint64_t n = Get<uint64_t>(rest, 0);
    if (n > kMaxRecordBytes) {
      *problem = which + " is damaged: it claims " + std::to_string(n) + " bytes";
      return at;
    }
    if (rest.size() - sizeof(uint64_t) < n + sizeof(uint32_t)) {
      *problem = which + " is cut short";
      return at;
    }
    std::string_view payload = rest.substr(sizeof(uint64_t), n);
    if (Crc32(payload) != Get<uint32_t>(rest, sizeof(uint64_t) + n)) {
      *problem = which + " is damaged: its CRC-32 does not match";
      return at;
    }
    auto member = DecodeMemberResult(&payload);
    if (!member.ok() || !payload.empty()) {
      *problem = which + " does not decode as a member" + (member.ok() ? "" : ": " + member.status().message());
      return at;
    }
    results->push_back(std::move(*member));
    at += sizeof(uint64_t) + n + sizeof(uint32_t);
  }
  problem->clear();
  return at;
}

Status WriteAll(int fd, std::string_view bytes, const fs::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write the checkpoint '" + path.string() + "': " + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

uint64_t CheckpointFingerprint(std::string_view trial_text, std::string_view model_text,
                               const std::vector<std::string>& named_files) {
  // The model's CRC-32 continued over each named file's length and bytes.
  uint32_t crc = Crc32(model_text);
  for (const std::string& text : named_files) {
    const uint64_t n = text.size();
    crc = Crc32(text, Crc32(std::string_view(reinterpret_cast<const char*>(&n), sizeof n), crc));
  }
  return uint64_t{Crc32(trial_text)} << 32 | crc;
}

void AppendCheckpointRecord(const MemberResult& r, std::string* out) {
  const size_t start = out->size();
  Put(uint64_t{0}, out);  // the length, once known
  EncodeMemberResult(r, out);
  const uint64_t n = out->size() - start - sizeof(uint64_t);
  std::memcpy(out->data() + start, &n, sizeof n);
  Put(Crc32(std::string_view(*out).substr(start + sizeof(uint64_t))), out);
}

Status ReadCheckpointRecords(std::string_view bytes, std::vector<MemberResult>* results) {
  std::string problem;
  ReadRecords(bytes, 0, results, &problem);
  if (!problem.empty()) return DataLoss(problem);
  return Status::Ok();
}

Result<TrialCheckpoint> TrialCheckpoint::Create(const fs::path& path, uint64_t fingerprint) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create the checkpoint '" + path.string() + "': " + std::strerror(errno));
  TrialCheckpoint c(path, fd);
  SOMA_RETURN_IF_ERROR(c.Append(Header(fingerprint)));
  return c;
}

Result<TrialCheckpoint> TrialCheckpoint::Resume(const fs::path& path, uint64_t fingerprint, Resumed* resumed) {
  SOMA_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path, std::numeric_limits<std::uintmax_t>::max()));
  resumed->members.clear();
  resumed->dropped.clear();
  if (bytes.size() < kHeaderBytes) {
    const size_t n = std::min(bytes.size(), sizeof kMagic);
    if (std::memcmp(bytes.data(), kMagic, n) != 0) {
      return InvalidArgument("'" + path.string() + "' is not a Soma trial checkpoint");
    }
    return Create(path, fingerprint);  // cut short before its first member
  }
  // Only little-endian builds exist (static_assert above), so another byte
  // order mark, like another magic, means a file that is not ours.
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0 || Get<uint32_t>(bytes, sizeof kMagic) != kByteOrder) {
    return InvalidArgument("'" + path.string() + "' is not a Soma trial checkpoint");
  }
  if (Get<uint64_t>(bytes, sizeof kMagic + 2 * sizeof(uint32_t)) != fingerprint) {
    return FailedPrecondition("the checkpoint '" + path.string() +
                              "' was written for other inputs (the trial, model, scenario or table files "
                              "changed since that run began); run without --resume to start again, or give "
                              "another --out");
  }
  const std::string_view records = std::string_view(bytes).substr(kHeaderBytes);
  const size_t good = kHeaderBytes + ReadRecords(records, kHeaderBytes, &resumed->members, &resumed->dropped);
  if (good < bytes.size()) {
    std::error_code ec;
    fs::resize_file(path, good, ec);
    if (ec) return IoError("cannot cut the checkpoint '" + path.string() + "' short: " + ec.message());
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open the checkpoint '" + path.string() + "': " + std::strerror(errno));
  return TrialCheckpoint(path, fd);
}

TrialCheckpoint::TrialCheckpoint(TrialCheckpoint&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

TrialCheckpoint& TrialCheckpoint::operator=(TrialCheckpoint&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

TrialCheckpoint::~TrialCheckpoint() {
  if (fd_ >= 0) ::close(fd_);
}

Status TrialCheckpoint::Append(std::string_view records) { return WriteAll(fd_, records, path_); }

}  // namespace soma::scenario
