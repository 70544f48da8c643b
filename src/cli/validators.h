#pragma once
// Checks of numeric options with messages a person can read: CLI11's
// PositiveNumber and NonNegativeNumber report "Value 0 not in range
// 0.000000 to 179769313486231570814527423731704356798070567525844996...".

#include <CLI/CLI.hpp>

#include <string>

namespace soma::cli {

// A number > 0 ("must be > 0, got 0").
inline CLI::Validator Positive() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        double v = 0.0;
        if (!CLI::detail::lexical_cast(s, v)) return "'" + s + "' is not a number";
        return v > 0 ? std::string() : "must be > 0, got " + s;
      },
      "> 0", "POSITIVE");
}

// A number >= 0 ("must be >= 0, got -1").
inline CLI::Validator NonNegative() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        double v = 0.0;
        if (!CLI::detail::lexical_cast(s, v)) return "'" + s + "' is not a number";
        return v >= 0 ? std::string() : "must be >= 0, got " + s;
      },
      ">= 0", "NON-NEGATIVE");
}

}  // namespace soma::cli
