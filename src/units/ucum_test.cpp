#include "units/ucum.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

namespace soma::units {
namespace {

constexpr double kGlucoseMolarMass = 180.156;  // g/mol, C6H12O6

// |x - ref| <= abs + rel * |ref|, the tolerance rule of STYLE.md.
void ExpectNear(double x, double ref, double abs_tol = 1e-12, double rel_tol = 1e-12) {
  EXPECT_LE(std::fabs(x - ref), abs_tol + rel_tol * std::fabs(ref)) << "x = " << x << ", ref = " << ref;
}

double ConvertOk(double v, std::string_view from, std::string_view to, const ConversionOptions& o = {}) {
  auto r = Convert(v, from, to, o);
  EXPECT_TRUE(r.ok()) << from << " -> " << to << ": " << r.status().ToString();
  return r.ok() ? *r : NAN;
}

TEST(Ucum, GlucoseMassToAmountNeedsMolarMass) {
  ConversionOptions glucose{.molar_mass_g_per_mol = kGlucoseMolarMass};
  // 100 mg/dL = 1000 mg/L = 1 g/L = 1/180.156 mol/L = 5.5507... mmol/L.
  ExpectNear(ConvertOk(100, "mg/dL", "mmol/L", glucose), 1000.0 / 180.156);
  // 1 mmol/L = 180.156 mg/L = 18.0156 mg/dL.
  ExpectNear(ConvertOk(1, "mmol/L", "mg/dL", glucose), 18.0156);
  ExpectNear(ConvertOk(5.5, "mmol/L", "g/L", glucose), 5.5 * 0.180156);
  // Round trip.
  ExpectNear(ConvertOk(ConvertOk(123.4, "mg/dL", "mmol/L", glucose), "mmol/L", "mg/dL", glucose), 123.4);

  auto no_mass = Convert(100, "mg/dL", "mmol/L");
  ASSERT_FALSE(no_mass.ok());
  EXPECT_EQ(no_mass.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(no_mass.status().message().find("'mg/dL'"), std::string::npos);
  EXPECT_NE(no_mass.status().message().find("'mmol/L'"), std::string::npos);
  EXPECT_NE(no_mass.status().message().find("molar mass"), std::string::npos);
}

TEST(Ucum, CustomaryAndPressure) {
  ExpectNear(ConvertOk(150, "[lb_av]", "kg"), 150 * 0.45359237);
  ExpectNear(ConvertOk(70, "[in_i]", "cm"), 177.8);
  ExpectNear(ConvertOk(1, "[ft_i]", "[in_i]"), 12);
  ExpectNear(ConvertOk(16, "[oz_av]", "[lb_av]"), 1);
  ExpectNear(ConvertOk(120, "mm[Hg]", "kPa"), 120 * 0.133322);
  ExpectNear(ConvertOk(1, "bar", "kPa"), 100);
  ExpectNear(ConvertOk(760, "mm[Hg]", "Pa"), 101324.72);
}

TEST(Ucum, AffineTemperatures) {
  ExpectNear(ConvertOk(98.6, "[degF]", "Cel"), 37.0, 1e-12);
  ExpectNear(ConvertOk(32, "[degF]", "Cel"), 0.0, 1e-12);
  ExpectNear(ConvertOk(-40, "Cel", "[degF]"), -40.0, 1e-12);
  ExpectNear(ConvertOk(37, "Cel", "K"), 310.15);
  ExpectNear(ConvertOk(273.15, "K", "[degF]"), 32.0, 1e-12);
  // Temperature differences in K per hour stay linear.
  ExpectNear(ConvertOk(1, "K/h", "K/min"), 1.0 / 60);
}

TEST(Ucum, RatesTimesAndCounts) {
  ExpectNear(ConvertOk(1.2, "U/h", "U/min"), 0.02);
  ExpectNear(ConvertOk(1, "U", "umol/min"), 1);
  ExpectNear(ConvertOk(100, "pmol/L", "nmol/L"), 0.1);
  ExpectNear(ConvertOk(60, "{beats}/min", "/s"), 1);
  ExpectNear(ConvertOk(60, "/min", "Hz"), 1);
  ExpectNear(ConvertOk(1, "mL/min", "L/h"), 0.06);
  ExpectNear(ConvertOk(1, "10*3/uL", "/L"), 1e9);
  ExpectNear(ConvertOk(1, "10^3/uL", "10*9/L"), 1);
  ExpectNear(ConvertOk(1, "m2", "cm2"), 1e4);
  ExpectNear(ConvertOk(1, "cm3", "mL"), 1);
  ExpectNear(ConvertOk(1, "dL", "L"), 0.1);
  ExpectNear(ConvertOk(1, "daL", "L"), 10);
  ExpectNear(ConvertOk(1, "l", "L"), 1);
  ExpectNear(ConvertOk(50, "%", "1"), 0.5);
  ExpectNear(ConvertOk(1, "/100", "%"), 1);
  ExpectNear(ConvertOk(1, "wk", "d"), 7);
  ExpectNear(ConvertOk(1, "mo", "d"), 30.4375);  // mo is the (Julian) month
  ExpectNear(ConvertOk(1, "a", "d"), 365.25);
  ExpectNear(ConvertOk(2, "h", "min"), 120);
  ExpectNear(ConvertOk(1, "kcal", "kJ"), 4.184);
  ExpectNear(ConvertOk(1, "mg/(kg.min)", "mg/kg/min"), 1);
  ExpectNear(ConvertOk(70, "kg", "g"), 70000);
  ExpectNear(ConvertOk(25, "kg/m2", "g/cm2"), 2.5);
  ExpectNear(ConvertOk(140, "meq/L", "mmol/L"), 140);
}

TEST(Ucum, InsulinUnits) {
  // Strict UCUM: U is the enzyme unit, [iU] an arbitrary unit; they differ.
  auto strict = Convert(1, "U", "[iU]");
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().code(), ErrorCode::kInvalidArgument);
  // Clinical reading for insulin doses: U means [iU].
  ConversionOptions insulin{.parse = {.enzyme_unit = EnzymeUnitPolicy::kInternationalUnit}};
  ExpectNear(ConvertOk(1.5, "U/h", "[iU]/min", insulin), 0.025);
  ExpectNear(ConvertOk(4, "U", "[IU]", insulin), 4);
  ExpectNear(ConvertOk(1, "[iU]", "m[iU]"), 1000);
}

TEST(Ucum, Dimensions) {
  auto u = ParseUnit("mg/dL");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->dimension.ToString(), "L-3.M");
  ExpectNear(u->factor, 1e-3 / 1e-4);
  EXPECT_FALSE(u->affine);
  auto one = ParseUnit("{meal}");
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->dimension.IsDimensionless());
  auto cel = ParseUnit("Cel");
  ASSERT_TRUE(cel.ok());
  EXPECT_TRUE(cel->affine);
  ExpectNear(cel->offset, 273.15);
}

TEST(Ucum, IncompatibleDimensionsNameBothUnits) {
  auto r = Convert(1, "kg", "mmol/L", {.molar_mass_g_per_mol = kGlucoseMolarMass});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'kg' (M)"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("'mmol/L' (L-3.N)"), std::string::npos) << r.status().message();
  EXPECT_FALSE(Convert(1, "Cel", "kg").ok());
  EXPECT_FALSE(Convert(1, "/min", "min").ok());
  EXPECT_FALSE(Convert(1, "mol", "1").ok());  // mol is a base dimension here
  auto bad_mass = Convert(1, "mg", "mmol", {.molar_mass_g_per_mol = -1});
  ASSERT_FALSE(bad_mass.ok());
  EXPECT_NE(bad_mass.status().message().find("molar_mass_g_per_mol"), std::string::npos);
}

TEST(Ucum, MalformedCodesAreParseErrors) {
  for (const char* code : {"", "mg//dL", "(mg", "mg)", "{x", "mg{", "x}", "mg dL", "m[Hg", "[lb_av", "lb_av]", "xyz",
                           "kmin", "m999", "0/L", "/", ".", "mg.", "mg/", "\xc2\xb5g", "mcg", "10*999", "2m", "m-",
                           "Cel/h", "mCel", "Cel2", "/Cel", "[degF].s", "kh", "{a{b}}", "mg\t", "()", "beats/min",
                           "10*3.10*99.10*99.10*99.10*99"}) {
    auto r = ParseUnit(code);
    EXPECT_FALSE(r.ok()) << "'" << code << "' parsed";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kParseError) << code << ": " << r.status().ToString();
    }
  }
  auto r = ParseUnit("mg/dX");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown unit atom 'dX'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("offset 3"), std::string::npos) << r.status().message();

  auto too_long = ParseUnit(std::string(300, 'g'));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().code(), ErrorCode::kInvalidArgument);
}

TEST(Ucum, WholeAtomsBeforePrefixes) {
  // "mo" is the month, "min" the minute, "mol" the mole: never milli-something.
  ExpectNear(ConvertOk(1, "min", "s"), 60);
  ExpectNear(ConvertOk(1, "mol", "mmol"), 1000);
  ExpectNear(ConvertOk(1, "mm", "m"), 1e-3);
  ExpectNear(ConvertOk(1, "dm", "cm"), 10);
}

}  // namespace
}  // namespace soma::units
