#pragma once
// UCUM (Unified Code for Units of Measure, https://ucum.org/ucum) units for
// clinical data: a parser for the case-sensitive syntax and a converter.
//
// Supported: the operators '.', '/', a leading '/', parentheses, integer
// exponents ("m2", "s-1", "10*3"), integer factors ("/100"), annotations
// ("{beats}/min", "{meal}" alone means 1), the metric prefixes Y Z E P T G M k
// h da d c m u n p f a z y on metric atoms, and the atoms listed in
// ucum_atoms.cpp: m g s mol K L l min h d wk mo mo_j a a_j Hz Cel [degF] Pa
// bar m[Hg] m[H2O] [in_i] [ft_i] [lb_av] [oz_av] % [ppm] 10* 10^ eq U kat [iU]
// [IU] J cal W. Other UCUM atoms are reported as unknown.
//
// Deviations from UCUM, chosen for clinical use and stated here on purpose:
//  * mol is a base dimension (amount of substance), not the dimensionless
//    count 6.0221367e23. So "mol" never converts to "1"; mass <-> amount
//    conversion needs a molar mass (ConversionOptions::molar_mass_g_per_mol).
//  * [iU] (international unit, an arbitrary unit in UCUM) is a base dimension
//    of its own; it converts only to prefixed forms of itself (m[iU], [iU]/h).
//  * "U" is UCUM's enzyme unit (umol/min). Clinical feeds, though, write "U"
//    for insulin doses, which are international units; with
//    EnzymeUnitPolicy::kInternationalUnit "U" is read as [iU]. The default is
//    strict UCUM. soma::formats uses kInternationalUnit for medication doses
//    only (see docs/clinical-data.md).
//  * Cel and [degF] are affine ("special" in UCUM): they may appear only
//    alone, without prefix, exponent or other factors; "Cel/h" is rejected.
//
// Thread safety: all functions are pure and may be called concurrently.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace soma::units {

// The base dimensions, in the order of Dimension::exponents.
enum class BaseDimension {
  kLength = 0,           // m
  kMass,                 // g
  kTime,                 // s
  kAmount,               // mol
  kTemperature,          // K
  kInternationalUnit,    // [iU]
};
inline constexpr std::size_t kNumBaseDimensions = 6;

// Integer exponents of the base dimensions; all zero means dimensionless.
struct Dimension {
  std::array<int, kNumBaseDimensions> exponents{};

  int operator[](BaseDimension d) const { return exponents[static_cast<std::size_t>(d)]; }
  bool operator==(const Dimension&) const = default;
  bool IsDimensionless() const { return *this == Dimension{}; }
  // e.g. "L-3.M" for mg/dL, "1" when dimensionless. Symbols: L M T N Theta IU.
  std::string ToString() const;
};

// A parsed unit: value_in_base = value * factor + offset, where the base units
// are m, g, s, mol, K and [iU]. offset is non-zero only for affine units.
struct Unit {
  std::string code;       // the text parsed, unchanged
  double factor = 1.0;    // > 0 and finite
  double offset = 0.0;    // K at zero of the unit (Cel: 273.15), else 0
  Dimension dimension;
  bool affine = false;    // Cel or [degF]

  // True when both units measure the same kind of quantity.
  bool IsCommensurableWith(const Unit& other) const { return dimension == other.dimension; }
};

// How the bare atom "U" is read (see the header comment).
enum class EnzymeUnitPolicy {
  kUcum,               // U = umol/min (enzyme unit)
  kInternationalUnit,  // U = [iU], the reading of clinical insulin doses
};

struct ParseOptions {
  EnzymeUnitPolicy enzyme_unit = EnzymeUnitPolicy::kUcum;
  // Longer codes are rejected (kInvalidArgument); must be > 0.
  std::size_t max_length = 256;
};

// Parses a UCUM code. Errors: kParseError for malformed codes and for atoms
// outside the supported subset ("unknown unit atom 'x'"), with the code and
// the byte offset of the problem in the message; kInvalidArgument when the
// code is longer than options.max_length. The empty string is an error; write
// "1" for dimensionless.
Result<Unit> ParseUnit(std::string_view code, const ParseOptions& options = {});

struct ConversionOptions {
  // Molar mass in g/mol of the substance measured (glucose: 180.156), used to
  // convert between mass and amount (mg/dL <-> mmol/L). 0 means none given;
  // otherwise must be finite and > 0.
  double molar_mass_g_per_mol = 0.0;
  ParseOptions parse;
};

// to_value = from_value * scale + offset.
struct Conversion {
  double scale = 1.0;
  double offset = 0.0;
  double Apply(double value) const { return value * scale + offset; }
};

// The conversion between two parsed units. kInvalidArgument when the
// dimensions differ (the message names both codes and dimensions, and says
// when a molar mass would make them convertible) or an affine unit meets a
// non-temperature unit.
Result<Conversion> MakeConversion(const Unit& from, const Unit& to,
                                  const ConversionOptions& options = {});

// Parses both codes and converts `value`. Errors as ParseUnit and MakeConversion.
Result<double> Convert(double value, std::string_view from, std::string_view to,
                       const ConversionOptions& options = {});

}  // namespace soma::units
