#pragma once
// The SBML test model shared by the scenario, trial and job tests:
// dX/dt = -k X in compartment c (size 1), X(0) = 0, k = 0.5; a unit bolus
// into X at t = 0 makes X = exp(-k t).

#include <string>

namespace soma::scenario::testing {

enum class RateParameter { kConstant, kChangeable };

// `rate`: whether k is declared constant (kChangeable lets events set it).
inline std::string DecaySbml(RateParameter rate = RateParameter::kConstant) {
  const std::string constant = rate == RateParameter::kConstant ? "true" : "false";
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="decay">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies><species id="X" compartment="c" initialConcentration="0" hasOnlySubstanceUnits="false"
      boundaryCondition="false" constant="false"/></listOfSpecies>
    <listOfParameters><parameter id="k" value="0.5" constant=")" +
         constant + R"("/></listOfParameters>
    <listOfReactions><reaction id="out" reversible="false">
      <listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>
      <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>c</ci><ci>k</ci><ci>X</ci></apply></math></kineticLaw>
    </reaction></listOfReactions>
  </model>
</sbml>)";
}

}  // namespace soma::scenario::testing
