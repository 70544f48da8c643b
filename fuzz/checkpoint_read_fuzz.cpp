// libFuzzer entry point for trial checkpoint records
// (scenario::ReadCheckpointRecords, which `soma trial run --resume` uses on
// checkpoint.bin and rank 0 on what the other MPI ranks send): any bytes
// give members or kDataLoss, never a crash, a hang, a read past the end or
// an allocation the bytes cannot back. What is read re-encodes to exactly
// the bytes it came from. The bytes are also decoded as one record's
// member bytes (scenario::DecodeMemberResult), which a fuzzer rarely
// reaches through a record's CRC-32.
//
//   build-fuzz/bin/checkpoint_read_fuzz /tmp/corpus-checkpoint -max_total_time=300

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "scenario/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::vector<soma::scenario::MemberResult> members;
  const soma::Status s = soma::scenario::ReadCheckpointRecords(bytes, &members);
  std::string again;
  for (const auto& m : members) soma::scenario::AppendCheckpointRecord(m, &again);
  if (s.ok() && again != bytes) std::abort();
  if (!s.ok() && (s.code() != soma::ErrorCode::kDataLoss || std::string_view(bytes).substr(0, again.size()) != again)) {
    std::abort();
  }
  std::string_view rest = bytes;
  auto member = soma::scenario::DecodeMemberResult(&rest);
  if (member.ok()) {
    std::string encoded;
    soma::scenario::EncodeMemberResult(*member, &encoded);
    if (encoded != std::string_view(bytes).substr(0, bytes.size() - rest.size())) std::abort();
  } else if (member.status().code() != soma::ErrorCode::kDataLoss) {
    std::abort();
  }
  return 0;
}
