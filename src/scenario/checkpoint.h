#pragma once
// The checkpoint of a trial run. `soma trial run` appends every finished
// member to checkpoint.bin in its --out folder while it runs, and
// `--resume` continues a killed run from it without redoing those members.
//
// Binary rather than text because a member is mostly its output series
// (867 numbers on the T1D day): written as JSON lines (members.jsonl,
// until 2026-12-07), formatting the numbers took the worker threads about a tenth
// of a member's time and the file was 2.4 times as large (bench/PROFILE.md).
//
// Layout, little-endian:
//   header  8 bytes "SOMATRC1", u32 0x01020304 (the byte order), u32 0,
//           u64 fingerprint (CheckpointFingerprint)
//   record  u64 n, n bytes of EncodeMemberResult, u32 CRC-32 of those bytes
// A killed run leaves at most its last record cut short. Resume drops such a
// record (that member runs again) and cuts the file after the last good one.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "scenario/trial.h"

namespace soma::scenario {

// What the members were computed from: the bytes of the trial file, of the
// model file and of the files the trial names (Trial::named_files: its
// scenario files and population table).
uint64_t CheckpointFingerprint(std::string_view trial_text, std::string_view model_text,
                               const std::vector<std::string>& named_files = {});

// Appends one member's checkpoint record to `out`.
void AppendCheckpointRecord(const MemberResult& r, std::string* out);

// Reads records that must all be whole and intact (the records one MPI rank
// sends another) and appends their members to `results`. kDataLoss names
// the first record that is cut short, fails its CRC or does not decode.
Status ReadCheckpointRecords(std::string_view bytes, std::vector<MemberResult>* results);

// An open checkpoint file, appended to as members finish.
class TrialCheckpoint {
 public:
  // Starts `path` afresh: an existing file is replaced. kIoError when it
  // cannot be written.
  static Result<TrialCheckpoint> Create(const std::filesystem::path& path, uint64_t fingerprint);

  struct Resumed {
    std::vector<MemberResult> members;  // in the order they were written
    std::string dropped;                // why the file's tail was dropped; empty when nothing was
  };
  // Continues `path`: reads its members into `resumed` and appends after
  // the last whole, intact record (a record cut short by a kill, or
  // damaged, is cut off with all after it; `resumed->dropped` says so). A
  // file shorter than the header holds no member and is started afresh.
  // Errors: kInvalidArgument when it is not a trial checkpoint (another
  // magic or byte-order mark); kFailedPrecondition when its
  // fingerprint differs (the trial, model, scenario or table files changed);
  // kIoError.
  static Result<TrialCheckpoint> Resume(const std::filesystem::path& path, uint64_t fingerprint, Resumed* resumed);

  TrialCheckpoint(TrialCheckpoint&& other) noexcept;
  TrialCheckpoint& operator=(TrialCheckpoint&& other) noexcept;
  TrialCheckpoint(const TrialCheckpoint&) = delete;
  TrialCheckpoint& operator=(const TrialCheckpoint&) = delete;
  ~TrialCheckpoint();

  // Writes records (AppendCheckpointRecord's bytes) at the end of the file.
  // kIoError (with the system's reason, e.g. no space left) when not all of
  // them could be written.
  Status Append(std::string_view records);

 private:
  TrialCheckpoint(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace soma::scenario
