#include "formats/fhir/loinc.h"

namespace soma::formats {
namespace {

constexpr LoincInfo kTable[] = {
    {"2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", kGlucoseMolarMass},
    {"15074-8", "Glucose [Moles/volume] in Blood", "mmol/L", kGlucoseMolarMass},
    {"2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", kGlucoseMolarMass},
    {"14749-6", "Glucose [Moles/volume] in Serum or Plasma", "mmol/L", kGlucoseMolarMass},
    {"99504-3", "Glucose [Mass/volume] in Interstitial fluid", "mg/dL", kGlucoseMolarMass},
    {"8867-4", "Heart rate", "/min", 0},
    {"85354-9", "Blood pressure panel with all children optional", "mm[Hg]", 0},
    {"8480-6", "Systolic blood pressure", "mm[Hg]", 0},
    {"8462-4", "Diastolic blood pressure", "mm[Hg]", 0},
    {"29463-7", "Body weight", "kg", 0},
    {"9059-7", "Carbohydrate intake Estimated", "g", 0},
};

}  // namespace

const LoincInfo* FindLoinc(std::string_view code) {
  for (const LoincInfo& info : kTable) {
    if (info.code == code) return &info;
  }
  return nullptr;
}

std::span<const LoincInfo> KnownLoincCodes() { return kTable; }

}  // namespace soma::formats
