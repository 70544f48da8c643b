// Factors are those of the UCUM specification (ucum-essence.xml), expressed in
// Soma's base units (m, g, s, mol, K, [iU]); see ucum.h for the deviations.

#include "units/ucum_atoms.h"

#include <array>

namespace soma::units::internal {
namespace {

//                              L  M  T  N  Th IU
constexpr std::array<int, 6> kOne{0, 0, 0, 0, 0, 0};
constexpr std::array<int, 6> kLen{1, 0, 0, 0, 0, 0};
constexpr std::array<int, 6> kVol{3, 0, 0, 0, 0, 0};
constexpr std::array<int, 6> kMass{0, 1, 0, 0, 0, 0};
constexpr std::array<int, 6> kTime{0, 0, 1, 0, 0, 0};
constexpr std::array<int, 6> kFreq{0, 0, -1, 0, 0, 0};
constexpr std::array<int, 6> kAmount{0, 0, 0, 1, 0, 0};
constexpr std::array<int, 6> kCatalytic{0, 0, -1, 1, 0, 0};
constexpr std::array<int, 6> kTemp{0, 0, 0, 0, 1, 0};
constexpr std::array<int, 6> kIu{0, 0, 0, 0, 0, 1};
constexpr std::array<int, 6> kPressure{-1, 1, -2, 0, 0, 0};  // g/(m.s2)
constexpr std::array<int, 6> kEnergy{2, 1, -2, 0, 0, 0};     // g.m2/s2
constexpr std::array<int, 6> kPower{2, 1, -3, 0, 0, 0};

constexpr double kDay = 86400.0;
constexpr double kJulianYear = 365.25 * kDay;

constexpr Atom kAtoms[] = {
    // Base units.
    {"m", 1.0, kLen, true},
    {"g", 1.0, kMass, true},
    {"s", 1.0, kTime, true},
    {"mol", 1.0, kAmount, true},
    {"K", 1.0, kTemp, true},
    // Volume: UCUM has both "L" and "l" for the litre.
    {"L", 1e-3, kVol, true},
    {"l", 1e-3, kVol, true},
    // Time (not metric in UCUM: no prefixes). "mo" and "a" are the Julian
    // month and year (mo_j = a_j / 12, a_j = 365.25 d), as UCUM defines them.
    {"min", 60.0, kTime, false},
    {"h", 3600.0, kTime, false},
    {"d", kDay, kTime, false},
    {"wk", 7 * kDay, kTime, false},
    {"mo", kJulianYear / 12, kTime, false},
    {"mo_j", kJulianYear / 12, kTime, false},
    {"a", kJulianYear, kTime, false},
    {"a_j", kJulianYear, kTime, false},
    {"Hz", 1.0, kFreq, true},
    // Temperature: affine; K = Cel + 273.15, K = ([degF] + 459.67) * 5/9.
    {"Cel", 1.0, kTemp, true, 273.15, true},
    {"[degF]", 5.0 / 9.0, kTemp, false, 459.67 * 5.0 / 9.0, true},
    // Pressure. Pa = N/m2 = 1000 g/(m.s2); m[Hg] = 133.322 kPa (UCUM).
    {"Pa", 1e3, kPressure, true},
    {"bar", 1e8, kPressure, true},
    {"m[Hg]", 133.322e6, kPressure, true},
    {"m[H2O]", 9.80665e6, kPressure, true},
    // Customary (international) length and avoirdupois mass.
    {"[in_i]", 0.0254, kLen, false},
    {"[ft_i]", 0.3048, kLen, false},
    {"[lb_av]", 453.59237, kMass, false},
    {"[oz_av]", 28.349523125, kMass, false},
    // Dimensionless.
    {"%", 1e-2, kOne, false},
    {"[ppm]", 1e-6, kOne, false},
    {"10*", 10.0, kOne, false},
    {"10^", 10.0, kOne, false},
    // Amounts and activities.
    {"eq", 1.0, kAmount, true},
    {"U", 1e-6 / 60.0, kCatalytic, true},  // enzyme unit: umol/min
    {"kat", 1.0, kCatalytic, true},        // mol/s
    {"[iU]", 1.0, kIu, true},
    {"[IU]", 1.0, kIu, true},
    // Energy and power. J = kg.m2/s2 = 1000 g.m2/s2; cal = cal_th = 4.184 J.
    {"J", 1e3, kEnergy, true},
    {"cal", 4.184e3, kEnergy, true},
    {"W", 1e3, kPower, true},
};

struct Prefix {
  std::string_view code;
  double factor;
};

constexpr Prefix kPrefixes[] = {
    {"Y", 1e24}, {"Z", 1e21}, {"E", 1e18},  {"P", 1e15},  {"T", 1e12},
    {"G", 1e9},  {"M", 1e6},  {"k", 1e3},   {"h", 1e2},   {"da", 1e1},
    {"d", 1e-1}, {"c", 1e-2}, {"m", 1e-3},  {"u", 1e-6},  {"n", 1e-9},
    {"p", 1e-12}, {"f", 1e-15}, {"a", 1e-18}, {"z", 1e-21}, {"y", 1e-24},
};

}  // namespace

const Atom* FindAtom(std::string_view code) {
  for (const Atom& atom : kAtoms) {
    if (atom.code == code) return &atom;
  }
  return nullptr;
}

std::optional<double> FindPrefix(std::string_view code) {
  for (const Prefix& prefix : kPrefixes) {
    if (prefix.code == code) return prefix.factor;
  }
  return std::nullopt;
}

}  // namespace soma::units::internal
