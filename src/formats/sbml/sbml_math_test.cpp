// MathML -> expression tree conversion, through the public API: each case is
// the math of an assignment rule in a small L3V2 document.

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <sbml/SBMLTypes.h>

#include "formats/sbml/sbml_import.h"
#include "formats/sbml/sbml_math.h"
#include "formats/sbml/sbml_test_util.h"

namespace soma::formats {
namespace {

using expr::Expr;
using expr::Op;
using testing::RuleDoc;

Expr S(std::string name) { return Expr::Symbol(std::move(name)); }
Expr N(double v) { return Expr::Number(v); }
Expr L(Op op) { return Expr::Leaf(op); }
Expr A(Op op, std::vector<Expr> args) { return Expr::Apply(op, std::move(args)); }

constexpr const char* kTime =
    R"(<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol>)";

// The converted math of rule p = <content>; a NaN leaf if the import failed.
Expr RuleMath(const std::string& content, const std::string& functions = "") {
  Result<SbmlImport> r = ParseSbml(RuleDoc(content, functions));
  EXPECT_TRUE(r.ok()) << r.status().ToString() << "\nfor: " << content;
  if (!r.ok() || r->model.rules.size() != 1) return L(Op::kNotANumber);
  return r->model.rules[0].math;
}

Status RuleStatus(const std::string& content, const std::string& functions = "") {
  return ParseSbml(RuleDoc(content, functions)).status();
}

TEST(SbmlMathTest, Numbers) {
  EXPECT_EQ(RuleMath(R"(<cn type="integer">3</cn>)"), N(3));
  EXPECT_EQ(RuleMath("<cn>2.5</cn>"), N(2.5));
  EXPECT_EQ(RuleMath(R"(<cn type="e-notation">1.5<sep/>3</cn>)"), N(1500));
  EXPECT_EQ(RuleMath(R"(<cn type="rational">1<sep/>4</cn>)"), N(0.25));
  EXPECT_EQ(RuleMath(R"(<cn sbml:units="dimensionless">7</cn>)"), N(7));
  EXPECT_EQ(RuleMath("<infinity/>"), L(Op::kInfinity));
  EXPECT_EQ(RuleMath("<apply><minus/><infinity/></apply>"), A(Op::kMinus, {L(Op::kInfinity)}));
  EXPECT_EQ(RuleMath("<notanumber/>"), L(Op::kNotANumber));
}

TEST(SbmlMathTest, ConstantsAndCsymbols) {
  EXPECT_EQ(RuleMath("<pi/>"), L(Op::kPi));
  EXPECT_EQ(RuleMath("<exponentiale/>"), L(Op::kExponentiale));
  EXPECT_EQ(RuleMath("<true/>"), L(Op::kTrue));
  EXPECT_EQ(RuleMath("<false/>"), L(Op::kFalse));
  EXPECT_EQ(RuleMath(kTime), L(Op::kTime));
  EXPECT_EQ(RuleMath(R"(<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/avogadro">NA</csymbol>)"),
            L(Op::kAvogadro));
  EXPECT_EQ(RuleMath(R"(<apply><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/delay">delay</csymbol><ci>x</ci><cn>1</cn></apply>)"),
            A(Op::kDelay, {S("x"), N(1)}));
  EXPECT_EQ(RuleMath(R"(<apply><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/rateOf">rateOf</csymbol><ci>x</ci></apply>)"),
            A(Op::kRateOf, {S("x")}));
}

TEST(SbmlMathTest, Arithmetic) {
  // libSBML reads n-ary plus and times as nested binary operations.
  EXPECT_EQ(RuleMath("<apply><plus/><ci>x</ci><ci>y</ci><ci>k</ci></apply>"),
            A(Op::kPlus, {A(Op::kPlus, {S("x"), S("y")}), S("k")}));
  EXPECT_EQ(RuleMath("<apply><plus/></apply>"), A(Op::kPlus, {}));
  EXPECT_EQ(RuleMath("<apply><times/><ci>x</ci></apply>"), A(Op::kTimes, {S("x")}));
  EXPECT_EQ(RuleMath("<apply><minus/><ci>x</ci></apply>"), A(Op::kMinus, {S("x")}));
  EXPECT_EQ(RuleMath("<apply><minus/><ci>x</ci><ci>y</ci></apply>"), A(Op::kMinus, {S("x"), S("y")}));
  EXPECT_EQ(RuleMath("<apply><times/><ci>x</ci><ci>y</ci></apply>"), A(Op::kTimes, {S("x"), S("y")}));
  EXPECT_EQ(RuleMath("<apply><divide/><ci>x</ci><ci>y</ci></apply>"), A(Op::kDivide, {S("x"), S("y")}));
  EXPECT_EQ(RuleMath("<apply><power/><ci>x</ci><cn>2</cn></apply>"), A(Op::kPower, {S("x"), N(2)}));
  // libSBML supplies the default degree (2) and logbase (10).
  EXPECT_EQ(RuleMath("<apply><root/><ci>x</ci></apply>"), A(Op::kRoot, {N(2), S("x")}));
  EXPECT_EQ(RuleMath("<apply><root/><degree><cn>3</cn></degree><ci>x</ci></apply>"), A(Op::kRoot, {N(3), S("x")}));
  EXPECT_EQ(RuleMath("<apply><log/><ci>x</ci></apply>"), A(Op::kLog, {N(10), S("x")}));
  EXPECT_EQ(RuleMath("<apply><log/><logbase><cn>2</cn></logbase><ci>x</ci></apply>"), A(Op::kLog, {N(2), S("x")}));
  EXPECT_EQ(RuleMath("<apply><min/><ci>x</ci><ci>y</ci><ci>k</ci></apply>"), A(Op::kMin, {S("x"), S("y"), S("k")}));
  EXPECT_EQ(RuleMath("<apply><max/><ci>x</ci><ci>y</ci></apply>"), A(Op::kMax, {S("x"), S("y")}));
  EXPECT_EQ(RuleMath("<apply><rem/><ci>x</ci><ci>y</ci></apply>"), A(Op::kRem, {S("x"), S("y")}));
  EXPECT_EQ(RuleMath("<apply><quotient/><ci>x</ci><ci>y</ci></apply>"), A(Op::kQuotient, {S("x"), S("y")}));
}

TEST(SbmlMathTest, UnaryFunctions) {
  const std::vector<std::pair<std::string, Op>> cases = {
      {"ln", Op::kLn}, {"exp", Op::kExp}, {"abs", Op::kAbs}, {"floor", Op::kFloor},
      {"ceiling", Op::kCeiling}, {"factorial", Op::kFactorial},
      {"sin", Op::kSin}, {"cos", Op::kCos}, {"tan", Op::kTan},
      {"sec", Op::kSec}, {"csc", Op::kCsc}, {"cot", Op::kCot},
      {"sinh", Op::kSinh}, {"cosh", Op::kCosh}, {"tanh", Op::kTanh},
      {"sech", Op::kSech}, {"csch", Op::kCsch}, {"coth", Op::kCoth},
      {"arcsin", Op::kArcsin}, {"arccos", Op::kArccos}, {"arctan", Op::kArctan},
      {"arcsec", Op::kArcsec}, {"arccsc", Op::kArccsc}, {"arccot", Op::kArccot},
      {"arcsinh", Op::kArcsinh}, {"arccosh", Op::kArccosh}, {"arctanh", Op::kArctanh},
      {"arcsech", Op::kArcsech}, {"arccsch", Op::kArccsch}, {"arccoth", Op::kArccoth},
      {"not", Op::kNot},
  };
  for (const auto& [name, op] : cases) {
    EXPECT_EQ(RuleMath("<apply><" + name + "/><ci>x</ci></apply>"), A(op, {S("x")})) << name;
  }
}

TEST(SbmlMathTest, RelationalAndLogical) {
  EXPECT_EQ(RuleMath("<apply><lt/><ci>x</ci><ci>y</ci><ci>k</ci></apply>"), A(Op::kLt, {S("x"), S("y"), S("k")}));
  const std::vector<std::pair<std::string, Op>> binary = {
      {"eq", Op::kEq}, {"neq", Op::kNeq}, {"leq", Op::kLe}, {"gt", Op::kGt}, {"geq", Op::kGe},
      {"and", Op::kAnd}, {"or", Op::kOr}, {"xor", Op::kXor}, {"implies", Op::kImplies}};
  for (const auto& [name, op] : binary) {
    EXPECT_EQ(RuleMath("<apply><" + name + "/><ci>x</ci><ci>y</ci></apply>"), A(op, {S("x"), S("y")})) << name;
  }
  EXPECT_EQ(RuleMath("<apply><and/><ci>x</ci><ci>y</ci><ci>k</ci></apply>"), A(Op::kAnd, {S("x"), S("y"), S("k")}));
}

TEST(SbmlMathTest, Piecewise) {
  EXPECT_EQ(RuleMath("<piecewise><piece><ci>x</ci><apply><lt/><ci>y</ci><cn>1</cn></apply></piece>"
                     "<piece><cn>5</cn><apply><gt/>" + std::string(kTime) + "<cn>2</cn></apply></piece>"
                     "<otherwise><ci>k</ci></otherwise></piecewise>"),
            A(Op::kPiecewise, {S("x"), A(Op::kLt, {S("y"), N(1)}), N(5), A(Op::kGt, {L(Op::kTime), N(2)}), S("k")}));
  EXPECT_EQ(RuleMath("<piecewise><piece><ci>x</ci><true/></piece></piecewise>"),
            A(Op::kPiecewise, {S("x"), L(Op::kTrue)}));
}

const char* kFunctions = R"(
<listOfFunctionDefinitions>
  <functionDefinition id="f"><math xmlns="http://www.w3.org/1998/Math/MathML"><lambda>
    <bvar><ci>a</ci></bvar><bvar><ci>b</ci></bvar><apply><times/><ci>a</ci><ci>b</ci></apply>
  </lambda></math></functionDefinition>
  <functionDefinition id="g"><math xmlns="http://www.w3.org/1998/Math/MathML"><lambda>
    <bvar><ci>a</ci></bvar><apply><plus/><apply><ci>f</ci><ci>a</ci><cn>2</cn></apply><cn>1</cn></apply>
  </lambda></math></functionDefinition>
  <functionDefinition id="sub"><math xmlns="http://www.w3.org/1998/Math/MathML"><lambda>
    <bvar><ci>x</ci></bvar><bvar><ci>y</ci></bvar><apply><minus/><ci>x</ci><ci>y</ci></apply>
  </lambda></math></functionDefinition>
  <functionDefinition id="now"><math xmlns="http://www.w3.org/1998/Math/MathML"><lambda>
    <csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol>
  </lambda></math></functionDefinition>
  <functionDefinition id="loop1"><math xmlns="http://www.w3.org/1998/Math/MathML"><lambda>
    <bvar><ci>a</ci></bvar><apply><ci>loop2</ci><ci>a</ci></apply>
  </lambda></math></functionDefinition>
  <functionDefinition id="loop2"><math xmlns="http://www.w3.org/1998/Math/MathML"><lambda>
    <bvar><ci>a</ci></bvar><apply><ci>loop1</ci><ci>a</ci></apply>
  </lambda></math></functionDefinition>
</listOfFunctionDefinitions>)";

TEST(SbmlMathTest, InlinesFunctionDefinitions) {
  EXPECT_EQ(RuleMath("<apply><ci>f</ci><ci>x</ci><ci>y</ci></apply>", kFunctions), A(Op::kTimes, {S("x"), S("y")}));
  // Nested: g(f(k, x)) = f(k, x) * 2 + 1 = (k * x) * 2 + 1.
  EXPECT_EQ(RuleMath("<apply><ci>g</ci><apply><ci>f</ci><ci>k</ci><ci>x</ci></apply></apply>", kFunctions),
            A(Op::kPlus, {A(Op::kTimes, {A(Op::kTimes, {S("k"), S("x")}), N(2)}), N(1)}));
  // Arguments bind simultaneously: sub(y, x) = y - x, not x - x or y - y.
  EXPECT_EQ(RuleMath("<apply><ci>sub</ci><ci>y</ci><ci>x</ci></apply>", kFunctions), A(Op::kMinus, {S("y"), S("x")}));
  EXPECT_EQ(RuleMath("<apply><ci>now</ci></apply>", kFunctions), L(Op::kTime));
}

TEST(SbmlMathTest, FunctionErrors) {
  Status cycle = RuleStatus("<apply><ci>loop1</ci><ci>x</ci></apply>", kFunctions);
  EXPECT_EQ(cycle.code(), ErrorCode::kInvalidModel) << cycle.ToString();
  EXPECT_NE(cycle.message().find("cycle"), std::string::npos) << cycle.ToString();
  EXPECT_NE(cycle.message().find("assignment rule for 'p'"), std::string::npos) << cycle.ToString();

  Status arity = RuleStatus("<apply><ci>f</ci><ci>x</ci></apply>", kFunctions);
  EXPECT_EQ(arity.code(), ErrorCode::kInvalidModel) << arity.ToString();
  EXPECT_NE(arity.message().find("'f'"), std::string::npos) << arity.ToString();

  Status undefined = RuleStatus("<apply><ci>nope</ci><ci>x</ci></apply>", kFunctions);
  EXPECT_EQ(undefined.code(), ErrorCode::kInvalidModel) << undefined.ToString();
  EXPECT_NE(undefined.message().find("nope"), std::string::npos) << undefined.ToString();
}

TEST(SbmlMathTest, WrongArityIsInvalidModel) {
  Status s = RuleStatus("<apply><divide/><ci>x</ci></apply>");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidModel) << s.ToString();
  EXPECT_NE(s.message().find("divide"), std::string::npos) << s.ToString();
}

TEST(SbmlMathTest, UnknownCsymbolIsRejectedWhenRead) {
  // libSBML itself refuses csymbols and MathML elements outside SBML's
  // subset, so they surface as parse errors naming the line.
  Status s = RuleStatus(
      R"(<apply><csymbol encoding="text" definitionURL="http://example.org/symbols/foo">foo</csymbol><ci>x</ci></apply>)");
  EXPECT_EQ(s.code(), ErrorCode::kParseError) << s.ToString();
  EXPECT_NE(s.message().find("line "), std::string::npos) << s.ToString();
}

// Constructs that get past libSBML's reader only through packages or API use
// reach the converter's fallback, which must name them.
TEST(SbmlMathConverterTest, UnknownNodeTypesAreUnsupported) {
  ::SBMLDocument doc(3, 2);
  ::Model* model = doc.createModel();
  internal::MathConverter converter(*model);

  ::ASTNode normal(AST_DISTRIB_FUNCTION_NORMAL);
  normal.addChild(new ::ASTNode(AST_CONSTANT_PI));
  normal.addChild(new ::ASTNode(AST_CONSTANT_PI));
  Result<Expr> r = converter.Convert(normal);
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported) << r.status().ToString();
  EXPECT_NE(r.status().message().find("distrib"), std::string::npos) << r.status().ToString();

  ::ASTNode gcd(AST_ALGEBRA_GCD);
  gcd.addChild(new ::ASTNode(AST_CONSTANT_PI));
  Result<Expr> g = converter.Convert(gcd);
  EXPECT_EQ(g.status().code(), ErrorCode::kUnsupported) << g.status().ToString();
  EXPECT_NE(g.status().message().find("MathML"), std::string::npos) << g.status().ToString();

  ::ASTNode lambda(AST_LAMBDA);
  Result<Expr> l = converter.Convert(lambda);
  EXPECT_EQ(l.status().code(), ErrorCode::kInvalidModel) << l.status().ToString();
}

TEST(SbmlMathConverterTest, DeepNestingIsRefusedNotCrashed) {
  ::SBMLDocument doc(3, 2);
  internal::MathConverter converter(*doc.createModel());
  ::ASTNode root(AST_FUNCTION_ABS);
  ::ASTNode* tip = &root;
  for (int i = 0; i < internal::MathConverter::kMaxDepth + 10; ++i) {
    auto* child = new ::ASTNode(AST_FUNCTION_ABS);
    tip->addChild(child);
    tip = child;
  }
  tip->addChild(new ::ASTNode(AST_CONSTANT_PI));
  Result<Expr> r = converter.Convert(root);
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported) << r.status().ToString();
}

TEST(SbmlMathTest, ExponentialInliningIsBounded) {
  // f0(a) = a + a; f(i+1)(a) = f(i)(f(i)(a)): the inlined size doubles per
  // level, 2^40 nodes at the top.
  std::string functions = "<listOfFunctionDefinitions>";
  auto def = [](const std::string& id, const std::string& body) {
    return "<functionDefinition id=\"" + id + "\"><math xmlns=\"http://www.w3.org/1998/Math/MathML\"><lambda><bvar><ci>a</ci></bvar>" +
           body + "</lambda></math></functionDefinition>";
  };
  functions += def("f0", "<apply><plus/><ci>a</ci><ci>a</ci></apply>");
  for (int i = 1; i <= 20; ++i) {
    std::string prev = "f" + std::to_string(i - 1);
    functions += def("f" + std::to_string(i), "<apply><ci>" + prev + "</ci><apply><ci>" + prev + "</ci><ci>a</ci></apply></apply>");
  }
  functions += "</listOfFunctionDefinitions>";
  Status s = RuleStatus("<apply><ci>f20</ci><ci>x</ci></apply>", functions);
  EXPECT_EQ(s.code(), ErrorCode::kUnsupported) << s.ToString();
}

}  // namespace
}  // namespace soma::formats
