#pragma once
// The SBML model shared by the PEtab tests and the PEtab fuzz target.

namespace soma::formats::petab::testing {

// x' = a - k x: reactions R (x ->, rate k x) and P (-> x, rate a); x(0) = 5
// (amount in a unit compartment), k = 1 and a = 0 as declared, so that
// x = 5 exp(-k t) unless a condition sets a.
inline constexpr const char* kProductionDecaySbml = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="decay">
    <listOfCompartments><compartment id="V" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="x" compartment="V" initialAmount="5" hasOnlySubstanceUnits="true"
               boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfParameters><parameter id="k" value="1" constant="true"/>
      <parameter id="a" value="0" constant="true"/></listOfParameters>
    <listOfReactions>
      <reaction id="R" reversible="false">
        <listOfReactants><speciesReference species="x" stoichiometry="1" constant="true"/></listOfReactants>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
          <apply><times/><ci>k</ci><ci>x</ci></apply></math></kineticLaw>
      </reaction>
      <reaction id="P" reversible="false">
        <listOfProducts><speciesReference species="x" stoichiometry="1" constant="true"/></listOfProducts>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><ci>a</ci></math></kineticLaw>
      </reaction>
    </listOfReactions>
  </model>
</sbml>)";

}  // namespace soma::formats::petab::testing
