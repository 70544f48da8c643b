#pragma once
// The UCUM atoms and prefixes Soma knows (internal to soma::units).

#include <optional>
#include <string_view>

#include "units/ucum.h"

namespace soma::units::internal {

struct Atom {
  std::string_view code;
  double factor;       // in base units m, g, s, mol, K, [iU]
  std::array<int, kNumBaseDimensions> dims;
  bool metric;         // may take a prefix
  double offset = 0;   // affine units only
  bool affine = false;
};

// The atom spelled exactly `code`, or nullptr.
const Atom* FindAtom(std::string_view code);

// The factor of the prefix spelled exactly `code` ("da", "k", "u", ...).
std::optional<double> FindPrefix(std::string_view code);

}  // namespace soma::units::internal
