// Document-level import: levels, element fields, events, packages, errors.

#include "formats/sbml/sbml_import.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "formats/sbml/sbml_test_util.h"

namespace soma::formats {
namespace {

using expr::Expr;
using expr::Op;
using testing::L3V2;
using testing::Math;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const char* kTimeCsymbol =
    R"(<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol>)";

std::string FullL3V2() {
  return L3V2(std::string(R"(
<listOfCompartments>
  <compartment id="cell" name="Cell" spatialDimensions="3" size="2.5" units="litre" constant="true"/>
  <compartment id="mem" spatialDimensions="2" constant="false"/>
</listOfCompartments>
<listOfSpecies>
  <species id="A" name="Alpha" compartment="cell" initialConcentration="1.5" substanceUnits="mole"
           hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false" conversionFactor="cf"/>
  <species id="B" compartment="cell" initialAmount="4" hasOnlySubstanceUnits="true"
           boundaryCondition="true" constant="false"/>
  <species id="C" compartment="mem" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="true"/>
</listOfSpecies>
<listOfParameters>
  <parameter id="k1" name="rate" value="0.3" units="per_second" constant="true"/>
  <parameter id="cf" value="2" constant="true"/>
  <parameter id="q" constant="false"/>
</listOfParameters>
<listOfInitialAssignments>
  <initialAssignment symbol="q">)") + Math("<apply><times/><ci>k1</ci><cn>2</cn></apply>") + R"(</initialAssignment>
  <initialAssignment symbol="sr">)" + Math("<cn>3</cn>") + R"(</initialAssignment>
</listOfInitialAssignments>
<listOfRules>
  <rateRule variable="mem">)" + Math("<cn>0.1</cn>") + R"(</rateRule>
  <algebraicRule>)" + Math("<apply><minus/><ci>q</ci><ci>k1</ci></apply>") + R"(</algebraicRule>
</listOfRules>
<listOfConstraints>
  <constraint>)" + Math("<apply><gt/><ci>A</ci><cn>0</cn></apply>") + R"(
    <message><p xmlns="http://www.w3.org/1999/xhtml">A must stay
      positive</p></message>
  </constraint>
</listOfConstraints>
<listOfReactions>
  <reaction id="R1" name="conversion" reversible="false" compartment="cell">
    <listOfReactants>
      <speciesReference id="sr" species="A" stoichiometry="2" constant="false"/>
    </listOfReactants>
    <listOfProducts>
      <speciesReference species="B" constant="true"/>
    </listOfProducts>
    <listOfModifiers><modifierSpeciesReference species="C"/></listOfModifiers>
    <kineticLaw>)" + Math("<apply><times/><ci>k1</ci><ci>kl</ci><ci>A</ci></apply>") + R"(
      <listOfLocalParameters>
        <localParameter id="kl" value="7"/>
        <localParameter id="k1" value="9"/>
      </listOfLocalParameters>
    </kineticLaw>
  </reaction>
  <reaction id="R2" reversible="true"/>
</listOfReactions>
<listOfEvents>
  <event id="E1" name="pulse" useValuesFromTriggerTime="false">
    <trigger initialValue="false" persistent="false">)" +
      Math("<apply><geq/>" + std::string(kTimeCsymbol) + "<cn>5</cn></apply>") + R"(</trigger>
    <delay>)" + Math("<cn>1.5</cn>") + R"(</delay>
    <priority>)" + Math("<ci>k1</ci>") + R"(</priority>
    <listOfEventAssignments>
      <eventAssignment variable="B">)" + Math("<cn>0</cn>") + R"(</eventAssignment>
      <eventAssignment variable="q">)" + Math("<apply><plus/><ci>q</ci><cn>1</cn></apply>") + R"(</eventAssignment>
    </listOfEventAssignments>
  </event>
  <event useValuesFromTriggerTime="true">
    <trigger initialValue="true" persistent="true">)" + Math("<apply><lt/><ci>A</ci><cn>1</cn></apply>") + R"(</trigger>
  </event>
</listOfEvents>)");
}

TEST(SbmlImportTest, L3V2ModelFields) {
  std::string xml = FullL3V2();
  // Model-level attributes live on <model>; splice them in.
  xml.replace(xml.find("<model id=\"m\">"), 14,
              R"(<model id="m" name="Full" timeUnits="second" substanceUnits="mole" volumeUnits="litre" extentUnits="mole" conversionFactor="cf">)");
  Result<SbmlImport> r = ParseSbml(xml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const model::Model& m = r->model;
  EXPECT_EQ(m.id, "m");
  EXPECT_EQ(m.name, "Full");
  EXPECT_EQ(m.sbml_level, 3);
  EXPECT_EQ(m.sbml_version, 2);
  EXPECT_EQ(m.conversion_factor, "cf");
  EXPECT_EQ(m.units.time, "second");
  EXPECT_EQ(m.units.substance, "mole");
  EXPECT_EQ(m.units.volume, "litre");
  EXPECT_EQ(m.units.extent, "mole");

  ASSERT_EQ(m.compartments.size(), 2u);
  EXPECT_EQ(m.compartments[0].name, "Cell");
  EXPECT_EQ(m.compartments[0].size, 2.5);
  EXPECT_EQ(m.compartments[0].units, "litre");
  EXPECT_TRUE(m.compartments[0].constant);
  EXPECT_GT(m.compartments[0].where.line, 3);
  EXPECT_EQ(m.compartments[1].spatial_dimensions, 2);
  EXPECT_FALSE(m.compartments[1].size.has_value());
  EXPECT_FALSE(m.compartments[1].constant);

  ASSERT_EQ(m.species.size(), 3u);
  const model::Species& a = m.species[0];
  EXPECT_EQ(a.name, "Alpha");
  EXPECT_EQ(a.compartment, "cell");
  EXPECT_EQ(a.initial_concentration, 1.5);
  EXPECT_FALSE(a.initial_amount.has_value());
  EXPECT_EQ(a.conversion_factor, "cf");
  EXPECT_EQ(a.substance_units, "mole");
  const model::Species& b = m.species[1];
  EXPECT_EQ(b.initial_amount, 4);
  EXPECT_TRUE(b.has_only_substance_units);
  EXPECT_TRUE(b.boundary_condition);
  const model::Species& c = m.species[2];
  EXPECT_TRUE(c.constant);
  EXPECT_FALSE(c.initial_amount.has_value());
  EXPECT_FALSE(c.initial_concentration.has_value());

  ASSERT_EQ(m.parameters.size(), 3u);
  EXPECT_EQ(m.parameters[0].name, "rate");
  EXPECT_EQ(m.parameters[0].value, 0.3);
  EXPECT_EQ(m.parameters[0].units, "per_second");
  EXPECT_FALSE(m.parameters[2].value.has_value());
  EXPECT_FALSE(m.parameters[2].constant);

  ASSERT_EQ(m.initial_assignments.size(), 2u);
  EXPECT_EQ(m.initial_assignments[0].symbol, "q");
  EXPECT_EQ(m.initial_assignments[0].math, Expr::Apply(Op::kTimes, {Expr::Symbol("k1"), Expr::Number(2)}));
  EXPECT_EQ(m.initial_assignments[1].symbol, "sr");

  ASSERT_EQ(m.rules.size(), 2u);
  EXPECT_EQ(m.rules[0].kind, model::RuleKind::kRate);
  EXPECT_EQ(m.rules[0].variable, "mem");
  EXPECT_EQ(m.rules[1].kind, model::RuleKind::kAlgebraic);
  EXPECT_EQ(m.rules[1].variable, "");

  ASSERT_EQ(m.constraints.size(), 1u);
  EXPECT_EQ(m.constraints[0].message, "A must stay positive");

  ASSERT_EQ(m.reactions.size(), 2u);
  const model::Reaction& r1 = m.reactions[0];
  EXPECT_EQ(r1.name, "conversion");
  EXPECT_FALSE(r1.reversible);
  EXPECT_FALSE(r1.fast);
  EXPECT_EQ(r1.compartment, "cell");
  ASSERT_EQ(r1.reactants.size(), 1u);
  EXPECT_EQ(r1.reactants[0].id, "sr");
  EXPECT_EQ(r1.reactants[0].species, "A");
  EXPECT_EQ(r1.reactants[0].stoichiometry, 2);
  EXPECT_FALSE(r1.reactants[0].constant);
  ASSERT_EQ(r1.products.size(), 1u);
  EXPECT_EQ(r1.products[0].stoichiometry, 1.0);  // unset in L3
  ASSERT_EQ(r1.modifiers.size(), 1u);
  EXPECT_EQ(r1.modifiers[0].species, "C");
  ASSERT_TRUE(r1.kinetic_law.has_value());
  // libSBML reads n-ary times as nested binary products.
  EXPECT_EQ(*r1.kinetic_law,
            Expr::Apply(Op::kTimes, {Expr::Apply(Op::kTimes, {Expr::Symbol("k1"), Expr::Symbol("kl")}), Expr::Symbol("A")}));
  ASSERT_EQ(r1.local_parameters.size(), 2u);
  EXPECT_EQ(r1.local_parameters[0].id, "kl");
  EXPECT_EQ(r1.local_parameters[0].value, 7);
  EXPECT_EQ(r1.local_parameters[1].id, "k1");  // shadows the global k1
  EXPECT_EQ(r1.local_parameters[1].value, 9);
  EXPECT_TRUE(m.reactions[1].reversible);
  EXPECT_FALSE(m.reactions[1].kinetic_law.has_value());
  EXPECT_EQ(m.FindSpeciesReference("sr"), &r1.reactants[0]);

  ASSERT_EQ(m.events.size(), 2u);
  const model::Event& e1 = m.events[0];
  EXPECT_EQ(e1.id, "E1");
  EXPECT_EQ(e1.name, "pulse");
  EXPECT_EQ(e1.trigger, Expr::Apply(Op::kGe, {Expr::Leaf(Op::kTime), Expr::Number(5)}));
  EXPECT_FALSE(e1.trigger_initial_value);
  EXPECT_FALSE(e1.persistent);
  EXPECT_FALSE(e1.use_values_from_trigger_time);
  ASSERT_TRUE(e1.delay.has_value());
  EXPECT_EQ(*e1.delay, Expr::Number(1.5));
  ASSERT_TRUE(e1.priority.has_value());
  EXPECT_EQ(*e1.priority, Expr::Symbol("k1"));
  ASSERT_EQ(e1.assignments.size(), 2u);
  EXPECT_EQ(e1.assignments[0].variable, "B");
  EXPECT_EQ(e1.assignments[1].variable, "q");
  const model::Event& e2 = m.events[1];
  EXPECT_EQ(e2.id, "");
  EXPECT_TRUE(e2.trigger_initial_value);
  EXPECT_TRUE(e2.persistent);
  EXPECT_TRUE(e2.use_values_from_trigger_time);
  EXPECT_FALSE(e2.delay.has_value());
  EXPECT_FALSE(e2.priority.has_value());
}

const char* kL2V4 = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level2/version4" level="2" version="4">
  <model id="m2">
    <listOfCompartments><compartment id="c" size="2"/></listOfCompartments>
    <listOfSpecies>
      <species id="A" compartment="c" initialAmount="1"/>
      <species id="B" compartment="c" initialConcentration="0.5" hasOnlySubstanceUnits="true"/>
    </listOfSpecies>
    <listOfParameters><parameter id="k" value="2"/><parameter id="v" value="1" constant="false"/></listOfParameters>
    <listOfReactions>
      <reaction id="R1" fast="true">
        <listOfReactants>
          <speciesReference species="A">
            <stoichiometryMath><math xmlns="http://www.w3.org/1998/Math/MathML">
              <apply><times/><ci>k</ci><cn>2</cn></apply></math></stoichiometryMath>
          </speciesReference>
        </listOfReactants>
        <listOfProducts><speciesReference species="B" stoichiometry="3"/><speciesReference species="A"/></listOfProducts>
        <kineticLaw>
          <math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>kl</ci><ci>A</ci></apply></math>
          <listOfParameters><parameter id="kl" value="0.1"/></listOfParameters>
        </kineticLaw>
      </reaction>
    </listOfReactions>
    <listOfEvents>
      <event>
        <trigger><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><gt/>
          <csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol><cn>1</cn></apply></math></trigger>
        <listOfEventAssignments><eventAssignment variable="v">
          <math xmlns="http://www.w3.org/1998/Math/MathML"><cn>5</cn></math></eventAssignment></listOfEventAssignments>
      </event>
    </listOfEvents>
  </model>
</sbml>
)";

TEST(SbmlImportTest, L2V4DefaultsAndStoichiometryMath) {
  Result<SbmlImport> r = ParseSbml(kL2V4);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const model::Model& m = r->model;
  EXPECT_EQ(m.sbml_level, 2);
  EXPECT_EQ(m.sbml_version, 4);
  EXPECT_EQ(m.compartments[0].spatial_dimensions, 3);
  EXPECT_TRUE(m.compartments[0].constant);
  ASSERT_EQ(m.species.size(), 2u);
  EXPECT_EQ(m.species[0].initial_amount, 1);
  EXPECT_FALSE(m.species[0].has_only_substance_units);
  EXPECT_FALSE(m.species[0].constant);
  EXPECT_EQ(m.species[1].initial_concentration, 0.5);
  EXPECT_TRUE(m.species[1].has_only_substance_units);
  EXPECT_EQ(m.species[1].where.line, 7);  // source lines survive the conversion
  EXPECT_TRUE(m.parameters[0].constant);  // L2 default
  EXPECT_FALSE(m.parameters[1].constant);

  const model::Reaction& r1 = m.reactions[0];
  EXPECT_TRUE(r1.reversible);  // L2 default
  EXPECT_TRUE(r1.fast);        // dropped by the L3V2 converter, carried over
  // stoichiometryMath became an assignment rule on the reference's id.
  ASSERT_EQ(r1.reactants.size(), 1u);
  const model::SpeciesReference& sr = r1.reactants[0];
  ASSERT_FALSE(sr.id.empty());
  EXPECT_FALSE(sr.constant);
  const model::Rule* rule = m.FindRuleFor(sr.id);
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->kind, model::RuleKind::kAssignment);
  EXPECT_EQ(rule->math, Expr::Apply(Op::kTimes, {Expr::Symbol("k"), Expr::Number(2)}));
  EXPECT_EQ(model::KindOf(m, sr.id), model::SymbolKind::kSpeciesReference);
  ASSERT_EQ(r1.products.size(), 2u);
  EXPECT_EQ(r1.products[0].stoichiometry, 3);
  EXPECT_EQ(r1.products[1].stoichiometry, 1);  // L2 default made explicit
  EXPECT_TRUE(r1.products[1].constant);
  ASSERT_EQ(r1.local_parameters.size(), 1u);
  EXPECT_EQ(r1.local_parameters[0].id, "kl");
  EXPECT_EQ(r1.local_parameters[0].value, 0.1);

  ASSERT_EQ(m.events.size(), 1u);
  const model::Event& e = m.events[0];
  EXPECT_EQ(e.id, "");
  EXPECT_TRUE(e.trigger_initial_value);  // L2 semantics
  EXPECT_TRUE(e.persistent);
  EXPECT_TRUE(e.use_values_from_trigger_time);
  ASSERT_EQ(e.assignments.size(), 1u);
  EXPECT_EQ(e.assignments[0].variable, "v");
}

const char* kL1V2 = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level1" level="1" version="2">
  <model name="one">
    <listOfCompartments><compartment name="cell" volume="2"/><compartment name="other"/></listOfCompartments>
    <listOfSpecies>
      <species name="S1" compartment="cell" initialAmount="3"/>
      <species name="S2" compartment="cell" initialAmount="0" boundaryCondition="true"/>
    </listOfSpecies>
    <listOfParameters><parameter name="k" value="0.5"/><parameter name="p" value="0"/></listOfParameters>
    <listOfRules><parameterRule name="p" formula="k * 2"/></listOfRules>
    <listOfReactions>
      <reaction name="R" reversible="false">
        <listOfReactants><speciesReference species="S1" stoichiometry="2"/></listOfReactants>
        <listOfProducts><speciesReference species="S2"/></listOfProducts>
        <kineticLaw formula="k * kl * S1"><listOfParameters><parameter name="kl" value="4"/></listOfParameters></kineticLaw>
      </reaction>
    </listOfReactions>
  </model>
</sbml>
)";

TEST(SbmlImportTest, L1Model) {
  Result<SbmlImport> r = ParseSbml(kL1V2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const model::Model& m = r->model;
  EXPECT_EQ(m.sbml_level, 1);
  EXPECT_EQ(m.id, "one");
  ASSERT_EQ(m.compartments.size(), 2u);
  EXPECT_EQ(m.compartments[0].id, "cell");
  EXPECT_EQ(m.compartments[0].size, 2);
  EXPECT_EQ(m.compartments[1].size, 1);  // L1 default volume
  ASSERT_EQ(m.species.size(), 2u);
  EXPECT_EQ(m.species[0].initial_amount, 3);
  EXPECT_FALSE(m.species[0].has_only_substance_units);
  EXPECT_TRUE(m.species[1].boundary_condition);
  const model::Rule* rule = m.FindRuleFor("p");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->kind, model::RuleKind::kAssignment);
  EXPECT_EQ(rule->math, Expr::Apply(Op::kTimes, {Expr::Symbol("k"), Expr::Number(2)}));
  EXPECT_FALSE(m.FindParameter("p")->constant);
  ASSERT_EQ(m.reactions.size(), 1u);
  EXPECT_FALSE(m.reactions[0].reversible);
  EXPECT_EQ(m.reactions[0].reactants[0].stoichiometry, 2);
  ASSERT_EQ(m.reactions[0].local_parameters.size(), 1u);
  EXPECT_EQ(m.reactions[0].local_parameters[0].id, "kl");
  ASSERT_TRUE(m.reactions[0].kinetic_law.has_value());
  EXPECT_EQ(*m.reactions[0].kinetic_law,
            Expr::Apply(Op::kTimes, {Expr::Apply(Op::kTimes, {Expr::Symbol("k"), Expr::Symbol("kl")}), Expr::Symbol("S1")}));
  EXPECT_EQ(m.reactions[0].products[0].stoichiometry, 1);
}

// Level 1 has no `constant` attribute, so an algebraic rule may determine a
// parameter or a compartment; those it names become variable (the compiler
// picks which one each rule determines), the others stay constant.
TEST(SbmlImportTest, L1AlgebraicRulesMayDetermineParametersAndCompartments) {
  const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level1" level="1" version="2">
  <model name="alg">
    <listOfCompartments><compartment name="C" volume="1"/><compartment name="D"/></listOfCompartments>
    <listOfSpecies><species name="X" compartment="C" initialAmount="1"/></listOfSpecies>
    <listOfParameters><parameter name="k1" value="0.1"/><parameter name="k2"/></listOfParameters>
    <listOfRules><algebraicRule formula="k2 - 0.2"/><algebraicRule formula="D - 0.75"/></listOfRules>
    <listOfReactions>
      <reaction name="R" reversible="false">
        <listOfReactants><speciesReference species="X"/></listOfReactants>
        <kineticLaw formula="k1 * k2 * X"/>
      </reaction>
    </listOfReactions>
  </model>
</sbml>
)";
  Result<SbmlImport> r = ParseSbml(xml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const model::Model& m = r->model;
  EXPECT_FALSE(m.FindParameter("k2")->constant);
  EXPECT_FALSE(m.FindCompartment("D")->constant);
  EXPECT_TRUE(m.FindParameter("k1")->constant);
  EXPECT_TRUE(m.FindCompartment("C")->constant);
}

TEST(SbmlImportTest, MathErrorsNameTheElement) {
  Result<SbmlImport> r = ParseSbml(L3V2(R"(<listOfReactions><reaction id="R1" reversible="false"><kineticLaw>)" +
                                        Math("<apply><ci>undefined_fn</ci><cn>1</cn></apply>") +
                                        "</kineticLaw></reaction></listOfReactions>"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidModel) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "reaction 'R1': kinetic law: call to undefined function 'undefined_fn'"))
      << r.status().ToString();
}

TEST(SbmlImportTest, FastReactionFromL3V1IsKept) {
  const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1">
  <model id="m">
    <listOfReactions>
      <reaction id="slow" reversible="false" fast="false"/>
      <reaction id="quick" reversible="true" fast="true"/>
    </listOfReactions>
  </model>
</sbml>)";
  Result<SbmlImport> r = ParseSbml(xml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model.sbml_version, 1);
  EXPECT_FALSE(r->model.FindReaction("slow")->fast);
  EXPECT_TRUE(r->model.FindReaction("quick")->fast);
}

TEST(SbmlImportTest, MalformedXmlIsParseErrorWithLine) {
  std::string xml = L3V2("<listOfParameters>\n<parameter id=\"k\" value=\"1\" constant=\"true\">\n</listOfParameters>");
  Result<SbmlImport> r = ParseSbml(xml);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kParseError) << r.status().ToString();
  // The unclosed <parameter> on line 5 is detected at the end tag on line 6.
  EXPECT_TRUE(Contains(r.status().message(), "line 6:")) << r.status().ToString();

  // Text that is not XML at all says so and shows how it begins.
  Result<SbmlImport> garbage = ParseSbml("this is not xml");
  EXPECT_EQ(garbage.status().code(), ErrorCode::kParseError) << garbage.status().ToString();
  EXPECT_TRUE(Contains(garbage.status().message(), "not an XML document: it begins with \"this is not xml\""))
      << garbage.status().ToString();
  Result<SbmlImport> csv = ParseSbml("\xEF\xBB\xBF\n  time,A\n0,1\n");
  EXPECT_TRUE(Contains(csv.status().message(), "begins with \"time,A\"")) << csv.status().ToString();
  for (const char* blank : {"", " \n\t\r\n"}) {
    Result<SbmlImport> empty = ParseSbml(blank);
    EXPECT_EQ(empty.status().code(), ErrorCode::kParseError) << empty.status().ToString();
    EXPECT_TRUE(Contains(empty.status().message(), "the file is empty")) << empty.status().ToString();
  }
  // A UTF-8 byte order mark before the XML declaration is fine; whitespace
  // before it is XML's own error, reported by libSBML with its line.
  Result<SbmlImport> bom = ParseSbml("\xEF\xBB\xBF" + L3V2(""));
  EXPECT_TRUE(bom.ok()) << bom.status().ToString();
  Result<SbmlImport> spaced = ParseSbml("\n " + L3V2(""));
  ASSERT_FALSE(spaced.ok());
  EXPECT_FALSE(Contains(spaced.status().message(), "not an XML document")) << spaced.status().ToString();
  EXPECT_TRUE(Contains(spaced.status().message(), "line ")) << spaced.status().ToString();
}

TEST(SbmlImportTest, NamespaceMismatchIsParseError) {
  // Found by fuzzing: libSBML throws from its reader for this document.
  const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="2" version="4"><model id="m">
<listOfSpecies><species id="A" compartment="c" initialAmount="1"/></listOfSpecies>
<listOfReactions><reaction id="R1"><listOfReactants><speciesReference species="A">
<stoichiometryMath><math xmlns="http://www.w3.org/1998/Math/MathML"><cn>2</cn></math></stoichiometryMath>
</speciesReference></listOfReactants></reaction></listOfReactions>
</model></sbml>)";
  Result<SbmlImport> r = ParseSbml(xml);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kParseError) << r.status().ToString();
}

TEST(SbmlImportTest, MissingRequiredAttributeIsParseError) {
  Result<SbmlImport> r = ParseSbml(L3V2(R"(<listOfParameters><parameter id="k" value="1"/></listOfParameters>)"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kParseError) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "line ")) << r.status().ToString();
}

// fbc Version 2 in an L3V1 document: the bounds and objectives survive the
// conversion to L3V2 (they are read before it).
TEST(SbmlImportTest, FbcV2BoundsAndObjectivesAreRead) {
  const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" xmlns:fbc="http://www.sbml.org/sbml/level3/version1/fbc/version2"
      level="3" version="1" fbc:required="false">
  <model id="m" fbc:strict="true">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies><species id="A" compartment="c" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
    <listOfParameters><parameter id="lb" value="0" constant="true"/><parameter id="ub" value="10" constant="true"/></listOfParameters>
    <listOfReactions>
      <reaction id="R1" reversible="false" fast="false" fbc:lowerFluxBound="lb" fbc:upperFluxBound="ub">
        <listOfProducts><speciesReference species="A" stoichiometry="1" constant="true"/></listOfProducts>
      </reaction>
      <reaction id="R2" reversible="true" fast="false" fbc:upperFluxBound="ub">
        <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
      </reaction>
    </listOfReactions>
    <fbc:listOfObjectives fbc:activeObjective="obj">
      <fbc:objective fbc:id="other" fbc:type="minimize">
        <fbc:listOfFluxObjectives><fbc:fluxObjective fbc:reaction="R1" fbc:coefficient="1"/></fbc:listOfFluxObjectives>
      </fbc:objective>
      <fbc:objective fbc:id="obj" fbc:type="maximize">
        <fbc:listOfFluxObjectives>
          <fbc:fluxObjective fbc:reaction="R1" fbc:coefficient="1"/>
          <fbc:fluxObjective fbc:reaction="R2" fbc:coefficient="-2.5"/>
        </fbc:listOfFluxObjectives>
      </fbc:objective>
    </fbc:listOfObjectives>
  </model>
</sbml>)";
  Result<SbmlImport> r = ParseSbml(xml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->model.flux_balance.has_value());
  const model::FluxBalance& fb = *r->model.flux_balance;
  EXPECT_EQ(fb.fbc_version, 2);
  EXPECT_TRUE(fb.strict);
  ASSERT_EQ(fb.bounds.size(), 2u);
  const model::FluxBounds* b1 = fb.FindBounds("R1");
  ASSERT_NE(b1, nullptr);
  EXPECT_EQ(b1->lower.parameter, "lb");
  EXPECT_EQ(b1->upper.parameter, "ub");
  const model::FluxBounds* b2 = fb.FindBounds("R2");
  ASSERT_NE(b2, nullptr);
  EXPECT_FALSE(b2->lower.IsSet());
  EXPECT_EQ(b2->upper.parameter, "ub");
  EXPECT_EQ(fb.active_objective, "obj");
  ASSERT_EQ(fb.objectives.size(), 2u);
  EXPECT_EQ(fb.objectives[0].sense, model::ObjectiveSense::kMinimize);
  const model::Objective* obj = fb.FindObjective("obj");
  ASSERT_NE(obj, nullptr);
  EXPECT_EQ(obj->sense, model::ObjectiveSense::kMaximize);
  ASSERT_EQ(obj->terms.size(), 2u);
  EXPECT_EQ(obj->terms[1].reaction, "R2");
  EXPECT_EQ(obj->terms[1].coefficient, -2.5);
  // The core model is imported as usual.
  EXPECT_EQ(r->model.reactions.size(), 2u);
}

// fbc Version 1: several fluxBounds per reaction merge into the tightest
// range; `equal` fixes both sides.
TEST(SbmlImportTest, FbcV1FluxBoundsAreMerged) {
  const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" xmlns:fbc="http://www.sbml.org/sbml/level3/version1/fbc/version1"
      level="3" version="1" fbc:required="false">
  <model id="m">
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies><species id="A" compartment="c" initialAmount="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
    <listOfReactions>
      <reaction id="R1" reversible="false" fast="false">
        <listOfProducts><speciesReference species="A" stoichiometry="1" constant="true"/></listOfProducts>
      </reaction>
      <reaction id="R2" reversible="true" fast="false">
        <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
      </reaction>
    </listOfReactions>
    <fbc:listOfFluxBounds>
      <fbc:fluxBound fbc:id="b1" fbc:reaction="R1" fbc:operation="greaterEqual" fbc:value="0"/>
      <fbc:fluxBound fbc:id="b2" fbc:reaction="R1" fbc:operation="lessEqual" fbc:value="10"/>
      <fbc:fluxBound fbc:id="b3" fbc:reaction="R1" fbc:operation="lessEqual" fbc:value="4"/>
      <fbc:fluxBound fbc:id="b4" fbc:reaction="R2" fbc:operation="equal" fbc:value="3"/>
      <fbc:fluxBound fbc:id="b5" fbc:reaction="R2" fbc:operation="lessEqual" fbc:value="INF"/>
    </fbc:listOfFluxBounds>
    <fbc:listOfObjectives fbc:activeObjective="obj">
      <fbc:objective fbc:id="obj" fbc:type="minimize">
        <fbc:listOfFluxObjectives><fbc:fluxObjective fbc:reaction="R1" fbc:coefficient="1"/></fbc:listOfFluxObjectives>
      </fbc:objective>
    </fbc:listOfObjectives>
  </model>
</sbml>)";
  Result<SbmlImport> r = ParseSbml(xml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->model.flux_balance.has_value());
  const model::FluxBalance& fb = *r->model.flux_balance;
  EXPECT_EQ(fb.fbc_version, 1);
  const model::FluxBounds* b1 = fb.FindBounds("R1");
  ASSERT_NE(b1, nullptr);
  EXPECT_EQ(b1->lower.value, std::optional<double>(0));
  EXPECT_EQ(b1->upper.value, std::optional<double>(4));
  const model::FluxBounds* b2 = fb.FindBounds("R2");
  ASSERT_NE(b2, nullptr);
  EXPECT_EQ(b2->lower.value, std::optional<double>(3));
  EXPECT_EQ(b2->upper.value, std::optional<double>(3));
  EXPECT_EQ(fb.active_objective, "obj");
  EXPECT_EQ(fb.objectives[0].sense, model::ObjectiveSense::kMinimize);
}

TEST(SbmlImportTest, FbcBoundOnUnknownParameterIsInvalidModel) {
  const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" xmlns:fbc="http://www.sbml.org/sbml/level3/version1/fbc/version2"
      level="3" version="2" fbc:required="false">
  <model id="m" fbc:strict="false">
    <listOfReactions><reaction id="R1" reversible="false" fbc:upperFluxBound="nope"/></listOfReactions>
  </model>
</sbml>)";
  Result<SbmlImport> r = ParseSbml(xml);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidModel) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "'nope'")) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "'R1'")) << r.status().ToString();
}

TEST(SbmlImportTest, ModelWithoutFbcHasNoFluxBalance) {
  Result<SbmlImport> r = ParseSbml(L3V2(R"(<listOfParameters><parameter id="k" value="1" constant="true"/></listOfParameters>)"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->model.flux_balance.has_value());
}

TEST(SbmlImportTest, QualIsUnsupported) {
  std::string xml = L3V2(R"(<listOfParameters><parameter id="k" value="1" constant="true"/></listOfParameters>)",
                         R"( xmlns:qual="http://www.sbml.org/sbml/level3/version1/qual/version1" qual:required="true")");
  Result<SbmlImport> r = ParseSbml(xml);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "'qual'")) << r.status().ToString();
}

TEST(SbmlImportTest, UnknownRequiredPackageIsUnsupported) {
  std::string xml = L3V2(R"(<listOfParameters><parameter id="k" value="1" constant="true"/></listOfParameters>)",
                         R"( xmlns:distrib="http://www.sbml.org/sbml/level3/version1/distrib/version1" distrib:required="true")");
  Result<SbmlImport> r = ParseSbml(xml);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "'distrib'")) << r.status().ToString();
}

TEST(SbmlImportTest, LayoutIsIgnoredWithInfo) {
  std::string xml = L3V2(R"(<listOfParameters><parameter id="k" value="1" constant="true"/></listOfParameters>)",
                         R"( xmlns:layout="http://www.sbml.org/sbml/level3/version1/layout/version1" layout:required="false")");
  Result<SbmlImport> r = ParseSbml(xml);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  bool found = false;
  for (const Diagnostic& d : r->diagnostics) {
    if (d.severity == Severity::kInfo && Contains(d.message, "'layout'")) found = true;
  }
  EXPECT_TRUE(found);
}

TEST(SbmlImportTest, MissingMathIgnoredInL3V2ButInvalidBefore) {
  const std::string body = R"(<listOfParameters><parameter id="p" value="3" constant="false"/></listOfParameters>
<listOfRules><assignmentRule variable="p"/></listOfRules>)";
  Result<SbmlImport> l3v2 = ParseSbml(L3V2(body));
  ASSERT_TRUE(l3v2.ok()) << l3v2.status().ToString();
  EXPECT_TRUE(l3v2->model.rules.empty());
  ASSERT_FALSE(l3v2->diagnostics.empty());
  EXPECT_EQ(l3v2->diagnostics.back().severity, Severity::kWarning);
  EXPECT_TRUE(Contains(l3v2->diagnostics.back().message, "assignment rule for 'p'"));

  std::string l3v1 = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1"><model id="m">)" + body +
                     "</model></sbml>";
  Result<SbmlImport> r = ParseSbml(l3v1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidModel) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "assignment rule for 'p'")) << r.status().ToString();
}

TEST(SbmlImportTest, EventWithoutTriggerMathInL2IsInvalid) {
  const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level2/version4" level="2" version="4"><model id="m">
  <listOfParameters><parameter id="p" value="3" constant="false"/></listOfParameters>
  <listOfEvents><event id="E9"><trigger/><listOfEventAssignments><eventAssignment variable="p">
    <math xmlns="http://www.w3.org/1998/Math/MathML"><cn>1</cn></math></eventAssignment></listOfEventAssignments></event></listOfEvents>
</model></sbml>)";
  Result<SbmlImport> r = ParseSbml(xml);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().code(), ErrorCode::kOk);
  EXPECT_TRUE(Contains(r.status().message(), "E9") || Contains(r.status().message(), "line"))
      << r.status().ToString();
}

TEST(SbmlImportTest, CheckUnitsReportsWarnings) {
  std::string xml = L3V2(std::string(R"(
<listOfUnitDefinitions><unitDefinition id="per_second"><listOfUnits>
  <unit kind="second" exponent="-1" scale="0" multiplier="1"/></listOfUnits></unitDefinition></listOfUnitDefinitions>
<listOfParameters>
  <parameter id="a" value="1" units="second" constant="true"/>
  <parameter id="b" value="1" units="per_second" constant="false"/>
</listOfParameters>
<listOfRules><assignmentRule variable="b">)") + Math("<ci>a</ci>") + "</assignmentRule></listOfRules>");
  Result<SbmlImport> plain = ParseSbml(xml);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_TRUE(plain->diagnostics.empty());
  SbmlImportOptions options;
  options.check_units = true;
  Result<SbmlImport> checked = ParseSbml(xml, options);
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  ASSERT_FALSE(checked->diagnostics.empty());
  EXPECT_EQ(checked->diagnostics[0].severity, Severity::kWarning);
  EXPECT_GT(checked->diagnostics[0].line, 0);
}

TEST(SbmlImportTest, LoadSbmlFileMissingNamesPath) {
  Result<SbmlImport> r = LoadSbmlFile("/nonexistent/dir/model.xml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(Contains(r.status().message(), "/nonexistent/dir/model.xml"));
}

std::filesystem::path WriteTemp(const std::string& name, const std::string& text) {
  std::filesystem::path p = std::filesystem::temp_directory_path() / name;
  std::ofstream(p) << text;
  return p;
}

TEST(SbmlImportTest, LoadSbmlFileErrorsNameFile) {
  std::filesystem::path p = WriteTemp("soma_sbml_bad.xml", "<sbml><model");
  Result<SbmlImport> r = LoadSbmlFile(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kParseError);
  EXPECT_TRUE(Contains(r.status().message(), p.string()));
  std::filesystem::remove(p);
}

TEST(SbmlImportTest, CheckSbmlFile) {
  SbmlCheckReport missing = CheckSbmlFile("/nonexistent/model.xml");
  EXPECT_EQ(missing.errors, 1);
  ASSERT_EQ(missing.diagnostics.size(), 1u);

  // A reaction naming a species that does not exist: readable, invalid.
  std::filesystem::path p = WriteTemp("soma_sbml_invalid.xml", L3V2(R"(
<listOfReactions><reaction id="R" reversible="false">
  <listOfReactants><speciesReference species="Nope" stoichiometry="1" constant="true"/></listOfReactants>
</reaction></listOfReactions>)"));
  SbmlCheckReport report = CheckSbmlFile(p);
  EXPECT_GE(report.errors, 1);
  bool names_species = false;
  for (const Diagnostic& d : report.diagnostics) {
    if (d.severity == Severity::kError && Contains(d.message, "Nope")) names_species = true;
  }
  EXPECT_TRUE(names_species);
  std::filesystem::remove(p);

  std::filesystem::path ok = WriteTemp("soma_sbml_ok.xml", kL2V4);
  SbmlCheckReport fine = CheckSbmlFile(ok);
  EXPECT_EQ(fine.errors, 0);
  std::filesystem::remove(ok);
}

TEST(SbmlImportTest, DiagnosticToString) {
  Diagnostic d{Severity::kWarning, 12, 5, "units", "mismatch"};
  EXPECT_EQ(d.ToString(), "line 12:5: warning: [units] mismatch");
  Diagnostic plain{Severity::kInfo, 0, 0, "", "note"};
  EXPECT_EQ(plain.ToString(), "info: note");
}

}  // namespace
}  // namespace soma::formats
