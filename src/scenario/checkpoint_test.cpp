#include "scenario/checkpoint.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

namespace soma::scenario {
namespace {

namespace fs = std::filesystem;

// The header: magic, byte order, a reserved word and the fingerprint.
constexpr size_t kHeader = 24;

MemberResult Member(int index) {
  MemberResult r;
  r.member = index;
  r.ok = index % 3 != 2;
  if (!r.ok) r.error = "scenario b: CVODES failed at t = " + std::to_string(index);
  r.outcomes = {{0.5 * index, std::nan(""), -std::numeric_limits<double>::infinity()}, {-0.0}};
  r.series = {{{1.0, 2.0 + index, 4.9e-324}, {}}, {{1e308}}};
  r.columns = {{"BG", "I"}, {"BG"}};
  return r;
}

// Equal bytes: every double bit for bit, NaN included.
std::string Bytes(const MemberResult& r) {
  std::string b;
  EncodeMemberResult(r, &b);
  return b;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("soma_checkpoint_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "checkpoint.bin";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A checkpoint of members 0..n-1, appended in two writes.
  void Write(int n, uint64_t fingerprint = 42) {
    auto c = TrialCheckpoint::Create(path_, fingerprint);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    std::string records;
    for (int i = 0; i < n; ++i) {
      AppendCheckpointRecord(Member(i), &records);
      if (i == n / 2) {
        ASSERT_TRUE(c->Append(records).ok());
        records.clear();
      }
    }
    ASSERT_TRUE(c->Append(records).ok());
  }

  fs::path dir_, path_;
};

TEST_F(CheckpointTest, ResumeReadsEveryMemberBitForBit) {
  Write(5);
  EXPECT_EQ(fs::file_size(path_), kHeader + [] {
    std::string all;
    for (int i = 0; i < 5; ++i) AppendCheckpointRecord(Member(i), &all);
    return all.size();
  }());
  TrialCheckpoint::Resumed resumed;
  auto c = TrialCheckpoint::Resume(path_, 42, &resumed);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(resumed.dropped.empty()) << resumed.dropped;
  ASSERT_EQ(resumed.members.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Bytes(resumed.members[static_cast<size_t>(i)]), Bytes(Member(i))) << i;
}

// A kill can cut the last record anywhere: every cut keeps the whole
// records before it, the file is cut back to them, and what is appended
// next reads back after them.
TEST_F(CheckpointTest, ARecordCutShortIsDroppedAndTheRunContinuesAfterTheLastWholeOne) {
  Write(3);
  const std::string full = ReadAll(path_);
  std::string two;
  for (int i = 0; i < 2; ++i) AppendCheckpointRecord(Member(i), &two);
  const size_t third = kHeader + two.size();
  for (size_t cut = third + 1; cut < full.size(); cut += 7) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << full.substr(0, cut);
    TrialCheckpoint::Resumed resumed;
    auto c = TrialCheckpoint::Resume(path_, 42, &resumed);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_EQ(resumed.members.size(), 2u) << "cut at " << cut;
    EXPECT_NE(resumed.dropped.find("record 3 (at byte " + std::to_string(third) + ") is cut short"),
              std::string::npos)
        << resumed.dropped;
    EXPECT_EQ(fs::file_size(path_), third);
    std::string next;
    AppendCheckpointRecord(Member(9), &next);
    ASSERT_TRUE(c->Append(next).ok());
    auto again = TrialCheckpoint::Resume(path_, 42, &resumed);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(resumed.dropped.empty()) << resumed.dropped;
    ASSERT_EQ(resumed.members.size(), 3u);
    EXPECT_EQ(Bytes(resumed.members[2]), Bytes(Member(9)));
  }
}

// A changed byte fails the record's CRC: it and everything after it are
// dropped (those members run again), not read as wrong numbers.
TEST_F(CheckpointTest, ADamagedRecordIsDroppedWithEverythingAfterIt) {
  Write(4);
  std::string bytes = ReadAll(path_);
  std::string one;
  AppendCheckpointRecord(Member(0), &one);
  const size_t second = kHeader + one.size();
  bytes[second + 40] ^= 0x10;  // inside member 1's numbers
  std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  TrialCheckpoint::Resumed resumed;
  auto c = TrialCheckpoint::Resume(path_, 42, &resumed);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(resumed.members.size(), 1u);
  EXPECT_NE(resumed.dropped.find("record 2 (at byte " + std::to_string(second) + ") is damaged: its CRC-32"),
            std::string::npos)
      << resumed.dropped;
  EXPECT_EQ(fs::file_size(path_), second);
}

TEST_F(CheckpointTest, AnotherTrialsOrAnotherFormatsFileIsRefusedAndKept) {
  Write(2, CheckpointFingerprint("trial", "model"));
  const std::string before = ReadAll(path_);
  TrialCheckpoint::Resumed resumed;
  auto other = TrialCheckpoint::Resume(path_, CheckpointFingerprint("trial, edited", "model"), &resumed);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("was written for other inputs"), std::string::npos);
  EXPECT_FALSE(TrialCheckpoint::Resume(path_, CheckpointFingerprint("trial", "model, edited"), &resumed).ok());
  EXPECT_EQ(ReadAll(path_), before);  // nothing cut off
  EXPECT_TRUE(TrialCheckpoint::Resume(path_, CheckpointFingerprint("trial", "model"), &resumed).ok());
  // The files the trial names count too: an edited scenario or table file,
  // or text moved from one file to the next, is another fingerprint.
  const uint64_t named = CheckpointFingerprint("trial", "model", {"scenario", "table"});
  EXPECT_NE(named, CheckpointFingerprint("trial", "model"));
  EXPECT_NE(named, CheckpointFingerprint("trial", "model", {"scenario, edited", "table"}));
  EXPECT_NE(named, CheckpointFingerprint("trial", "model", {"scenariot", "able"}));
  EXPECT_EQ(named, CheckpointFingerprint("trial", "model", {"scenario", "table"}));

  // The JSON lines of an earlier Soma, or anything else, are not a checkpoint.
  std::ofstream(path_, std::ios::trunc) << R"({"columns":[["BG"]],"error":"","member":0,"ok":true})" << "\n";
  auto json = TrialCheckpoint::Resume(path_, 42, &resumed);
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(json.status().message().find("is not a Soma trial checkpoint"), std::string::npos);
  // A file cut inside its header (killed at once) holds no member: started afresh.
  std::ofstream(path_, std::ios::trunc) << "SOMAT";
  auto fresh = TrialCheckpoint::Resume(path_, 42, &resumed);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_TRUE(resumed.members.empty());
  EXPECT_EQ(fs::file_size(path_), kHeader);
}

// Records between MPI ranks must arrive whole: any cut or changed byte is
// kDataLoss, never a member with wrong numbers.
TEST(CheckpointRecordsTest, RanksRecordsReadBackExactlyAndAnyDamageIsAnError) {
  std::string records;
  for (int i = 0; i < 3; ++i) AppendCheckpointRecord(Member(i), &records);
  std::vector<MemberResult> got;
  ASSERT_TRUE(ReadCheckpointRecords(records, &got).ok());
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Bytes(got[static_cast<size_t>(i)]), Bytes(Member(i)));
  std::vector<size_t> ends;  // where each record ends
  for (int i = 0, end = 0; i < 3; ++i) {
    std::string one;
    AppendCheckpointRecord(Member(i), &one);
    ends.push_back(static_cast<size_t>(end += static_cast<int>(one.size())));
  }
  for (size_t cut = 1; cut < records.size(); cut += 5) {
    got.clear();
    const std::string part = records.substr(0, cut);  // its own allocation, for ASan
    const Status s = ReadCheckpointRecords(part, &got);
    const size_t whole = static_cast<size_t>(std::upper_bound(ends.begin(), ends.end(), cut) - ends.begin());
    EXPECT_EQ(got.size(), whole) << cut;
    if (std::find(ends.begin(), ends.end(), cut) != ends.end()) {
      EXPECT_TRUE(s.ok()) << cut;
    } else {
      EXPECT_EQ(s.code(), ErrorCode::kDataLoss) << "a cut at " << cut << " was accepted";
    }
  }
  for (size_t at = 0; at < records.size(); at += 11) {
    std::string bad = records;
    bad[at] ^= 0x01;
    got.clear();
    EXPECT_FALSE(ReadCheckpointRecords(bad, &got).ok()) << "a changed byte at " << at << " was accepted";
  }
}

TEST(CheckpointFileTest, AFileThatCannotBeWrittenIsAnIoErrorNamingIt) {
  // /dev/full takes no bytes: every write fails with ENOSPC.
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto c = TrialCheckpoint::Create("/dev/full", 1);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kIoError);
  EXPECT_NE(c.status().message().find("/dev/full"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("No space left"), std::string::npos) << c.status().message();
  auto nowhere = TrialCheckpoint::Create("/nonexistent-dir/checkpoint.bin", 1);
  ASSERT_FALSE(nowhere.ok());
  EXPECT_EQ(nowhere.status().code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace soma::scenario
