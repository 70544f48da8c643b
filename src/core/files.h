#pragma once
// Reading a whole input file (a model, a scenario, a trial, a table) with
// the checks every command needs.

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/status.h"

namespace soma {

// Larger input files are refused (kResourceExhausted) rather than read: the
// largest SBML models in BioModels are tens of MB.
inline constexpr std::uintmax_t kMaxInputFileBytes = std::uintmax_t{1} << 30;  // 1 GiB

// The whole content of a regular file. Errors name the path: kNotFound when
// nothing is there; kIoError when it is not a regular file (a folder reads
// as nothing; a device such as /dev/zero, or a FIFO, may never end) or
// cannot be read; kResourceExhausted when it has more than max_bytes.
Result<std::string> ReadWholeFile(const std::filesystem::path& path, std::uintmax_t max_bytes = kMaxInputFileBytes);

}  // namespace soma
