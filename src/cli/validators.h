#pragma once
// Checks of numeric options with messages a person can read: CLI11's
// PositiveNumber and NonNegativeNumber report "Value 0 not in range
// 0.000000 to 179769313486231570814527423731704356798070567525844996...".

#include <CLI/CLI.hpp>

#include <string>

namespace soma::cli {

namespace internal {
// A number > 0 (strict) or >= 0, with the rule in the message.
inline CLI::Validator NumberFrom0(bool strict) {
  const std::string rule = strict ? "> 0" : ">= 0";
  return CLI::Validator(
      [strict, rule](std::string& s) -> std::string {
        double v = 0.0;
        if (!CLI::detail::lexical_cast(s, v)) return "'" + s + "' is not a number";
        return (strict ? v > 0 : v >= 0) ? std::string() : "must be " + rule + ", got " + s;
      },
      rule, strict ? "POSITIVE" : "NON-NEGATIVE");
}
}  // namespace internal

// A number > 0 ("must be > 0, got 0").
inline CLI::Validator Positive() { return internal::NumberFrom0(true); }

// A number >= 0 ("must be >= 0, got -1").
inline CLI::Validator NonNegative() { return internal::NumberFrom0(false); }

}  // namespace soma::cli
