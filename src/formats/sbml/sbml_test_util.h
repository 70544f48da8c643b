#pragma once
// Test support: small SBML documents written inline.

#include <string>
#include <ostream>
#include <string_view>

#include "expr/expr.h"

namespace soma::formats::testing {

inline constexpr std::string_view kMathNs = "http://www.w3.org/1998/Math/MathML";

// An SBML L3V2 document whose <model id="m"> contains `body`.
inline std::string L3V2(std::string_view body, std::string_view extra_ns = "") {
  return std::string(R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2")") +
         std::string(extra_ns) + ">\n<model id=\"m\">\n" + std::string(body) + "\n</model>\n</sbml>\n";
}

// <math> wrapper with the MathML and SBML namespaces declared.
inline std::string Math(std::string_view content) {
  return R"(<math xmlns="http://www.w3.org/1998/Math/MathML" xmlns:sbml="http://www.sbml.org/sbml/level3/version2/core">)" +
         std::string(content) + "</math>";
}

// A model with parameters p (non-constant, the rule target), x, y, k and an
// assignment rule p = <content>; for testing math conversion.
inline std::string RuleDoc(std::string_view content, std::string_view functions = "") {
  return L3V2(std::string(functions) + R"(
<listOfParameters>
  <parameter id="p" constant="false"/>
  <parameter id="x" value="1" constant="true"/>
  <parameter id="y" value="2" constant="true"/>
  <parameter id="k" value="3" constant="true"/>
</listOfParameters>
<listOfRules><assignmentRule variable="p">)" + Math(content) + "</assignmentRule></listOfRules>");
}

}  // namespace soma::formats::testing

namespace soma::expr {
// Readable gtest failure messages for expression trees.
inline void PrintTo(const Expr& e, std::ostream* os) { *os << ToString(e); }
}  // namespace soma::expr
