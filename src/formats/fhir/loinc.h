#pragma once
// The LOINC codes Soma knows by name: display text, a unit that shows which
// kind of quantity the code takes (to reject e.g. a heart rate in kg), and
// the molar mass where converting between mass and amount needs one.
//
// Verification of the codes (done while writing this table):
//  * Checked against HL7 FHIR publications: 15074-8 (FHIR R4 example
//    observation-example-f001-glucose), 2345-7 and 14749-6 (LIVD IG value
//    set), 99504-3 (HL7 CGM IG, CGM sensor reading example), 85354-9, 8480-6
//    and 8462-4 (FHIR R4 value set observation-vitalsignresult), 8867-4
//    (FHIR heart rate profile).
//  * Corroborated only by independent open-source FHIR code and examples, not
//    by a LOINC or HL7 page: 2339-0 (Glucose [Mass/volume] in Blood), 29463-7
//    (Body weight), 9059-7 (Carbohydrate intake Estimated; the Finnish Kanta
//    PHR nutrition profile uses it for meal carbohydrates in grams).
// Anyone extending the table should check new codes at https://loinc.org.

#include <optional>
#include <span>
#include <string_view>

namespace soma::formats {

struct LoincInfo {
  std::string_view code;
  std::string_view display;
  std::string_view example_unit;       // a UCUM unit of the right dimension
  double molar_mass_g_per_mol = 0;     // 0: no mass <-> amount conversion
};

// Molar mass of D-glucose, C6H12O6, in g/mol (IUPAC standard atomic weights).
inline constexpr double kGlucoseMolarMass = 180.156;

// The entry for `code`, or nullptr for a code not in the table (such codes
// are still accepted; only their unit's dimension cannot be checked).
const LoincInfo* FindLoinc(std::string_view code);

// The whole table, for documentation and tests.
std::span<const LoincInfo> KnownLoincCodes();

}  // namespace soma::formats
