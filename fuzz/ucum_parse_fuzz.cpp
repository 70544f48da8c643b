// libFuzzer target for the UCUM parser and converter: units::ParseUnit on
// arbitrary bytes under both EnzymeUnitPolicy values, and, when two codes
// parse, MakeConversion between them and back. Checks invariants; aborts on
// any violation:
//   * a parsed unit has a finite factor > 0, and offset != 0 only if affine;
//   * a conversion and its reverse compose to the identity (rel. 1e-9) for
//     values of moderate size.
//
// Input: the bytes up to the first '\n' are one code, the rest another.
//
//   build-fuzz/bin/ucum_parse_fuzz -max_total_time=300 -max_len=128

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "units/ucum.h"

namespace {

using soma::units::ConversionOptions;
using soma::units::EnzymeUnitPolicy;
using soma::units::ParseOptions;
using soma::units::Unit;

[[noreturn]] void Fail(const char* what, std::string_view a, std::string_view b) {
  std::fprintf(stderr, "ucum_parse_fuzz: %s ('%.*s' -> '%.*s')\n", what, static_cast<int>(a.size()), a.data(),
               static_cast<int>(b.size()), b.data());
  std::abort();
}

void CheckUnit(const Unit& u) {
  if (!std::isfinite(u.factor) || u.factor <= 0) Fail("factor not finite and > 0", u.code, "");
  if (!u.affine && u.offset != 0) Fail("offset on a linear unit", u.code, "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = input.find('\n');
  std::string_view a = input.substr(0, nl);
  std::string_view b = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);

  for (EnzymeUnitPolicy policy : {EnzymeUnitPolicy::kUcum, EnzymeUnitPolicy::kInternationalUnit}) {
    ParseOptions po{.enzyme_unit = policy};
    auto ua = soma::units::ParseUnit(a, po);
    if (ua.ok()) CheckUnit(*ua);
    if (b.empty()) continue;
    auto ub = soma::units::ParseUnit(b, po);
    if (ub.ok()) CheckUnit(*ub);
    if (!ua.ok() || !ub.ok()) continue;
    ConversionOptions co{.molar_mass_g_per_mol = 180.156, .parse = po};
    auto ab = soma::units::MakeConversion(*ua, *ub, co);
    auto ba = soma::units::MakeConversion(*ub, *ua, co);
    if (ab.ok() != ba.ok()) Fail("conversion possible in one direction only", a, b);
    if (!ab.ok()) continue;
    // Only check the round trip where the scales are moderate: with 1e300
    // factors the round trip legitimately loses everything to rounding.
    if (std::fabs(std::log10(ab->scale)) > 100 || std::fabs(ab->offset) > 1e100) continue;
    for (double v : {0.0, 1.0, -37.5, 1234.5}) {
      const double back = ba->Apply(ab->Apply(v));
      const double tol = 1e-9 * (1 + std::fabs(v) + std::fabs(ab->offset * ba->scale));
      if (!(std::fabs(back - v) <= tol)) Fail("round trip is not the identity", a, b);
    }
  }
  return 0;
}
