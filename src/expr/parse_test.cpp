#include "expr/parse.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

namespace soma::expr {
namespace {

Expr S(const char* n) { return Expr::Symbol(n); }
Expr N(double v) { return Expr::Number(v); }
Expr A(Op op, std::vector<Expr> args) { return Expr::Apply(op, std::move(args)); }

Expr MustParse(const std::string& text) {
  Result<Expr> e = ParseExpression(text);
  EXPECT_TRUE(e.ok()) << text << ": " << e.status().ToString();
  return e.ok() ? *e : Expr::Leaf(Op::kNotANumber);
}

TEST(ParseTest, PrecedenceAndAssociativity) {
  EXPECT_EQ(MustParse("1 + 2 * 3"), A(Op::kPlus, {N(1), A(Op::kTimes, {N(2), N(3)})}));
  EXPECT_EQ(MustParse("a + b + c"), A(Op::kPlus, {S("a"), S("b"), S("c")}));
  EXPECT_EQ(MustParse("(a + b) + c"), A(Op::kPlus, {A(Op::kPlus, {S("a"), S("b")}), S("c")}));
  EXPECT_EQ(MustParse("a - b - c"), A(Op::kMinus, {A(Op::kMinus, {S("a"), S("b")}), S("c")}));
  EXPECT_EQ(MustParse("a + b - c"), A(Op::kMinus, {A(Op::kPlus, {S("a"), S("b")}), S("c")}));
  EXPECT_EQ(MustParse("a * b / c * d"),
            A(Op::kTimes, {A(Op::kDivide, {A(Op::kTimes, {S("a"), S("b")}), S("c")}), S("d")}));
  EXPECT_EQ(MustParse("2^3^2"), A(Op::kPower, {N(2), A(Op::kPower, {N(3), N(2)})}));
  EXPECT_EQ(MustParse("-2^2"), A(Op::kMinus, {A(Op::kPower, {N(2), N(2)})}));
  EXPECT_EQ(MustParse("-2"), N(-2));
  EXPECT_EQ(MustParse("x^-2"), A(Op::kPower, {S("x"), N(-2)}));
  EXPECT_EQ(MustParse("-x * y"), A(Op::kTimes, {A(Op::kMinus, {S("x")}), S("y")}));
  EXPECT_EQ(MustParse("+x"), S("x"));
  EXPECT_EQ(MustParse("a && b || c"), A(Op::kOr, {A(Op::kAnd, {S("a"), S("b")}), S("c")}));
  EXPECT_EQ(MustParse("!a && b"), A(Op::kAnd, {A(Op::kNot, {S("a")}), S("b")}));
  EXPECT_EQ(MustParse("a + 1 > b * 2"),
            A(Op::kGt, {A(Op::kPlus, {S("a"), N(1)}), A(Op::kTimes, {S("b"), N(2)})}));
}

TEST(ParseTest, RelationalChains) {
  EXPECT_EQ(MustParse("a < b < c"), A(Op::kLt, {S("a"), S("b"), S("c")}));
  EXPECT_EQ(MustParse("a == b == c"), A(Op::kEq, {S("a"), S("b"), S("c")}));
  EXPECT_EQ(MustParse("a < b <= c"),
            A(Op::kAnd, {A(Op::kLt, {S("a"), S("b")}), A(Op::kLe, {S("b"), S("c")})}));
  EXPECT_EQ(MustParse("a != b"), A(Op::kNeq, {S("a"), S("b")}));
  EXPECT_EQ(MustParse("a >= b"), A(Op::kGe, {S("a"), S("b")}));
}

TEST(ParseTest, NumbersConstantsAndNames) {
  EXPECT_EQ(MustParse("1e-3"), N(1e-3));
  EXPECT_EQ(MustParse(".5"), N(0.5));
  EXPECT_EQ(MustParse("2.5E+4"), N(2.5e4));
  EXPECT_EQ(MustParse("7."), N(7));
  EXPECT_EQ(MustParse("1e999"), N(INFINITY));
  EXPECT_EQ(MustParse("1e-999"), N(0));
  EXPECT_EQ(MustParse("pi"), Expr::Leaf(Op::kPi));
  EXPECT_EQ(MustParse("exponentiale"), Expr::Leaf(Op::kExponentiale));
  EXPECT_EQ(MustParse("true"), Expr::Leaf(Op::kTrue));
  EXPECT_EQ(MustParse("false"), Expr::Leaf(Op::kFalse));
  EXPECT_EQ(MustParse("INF"), Expr::Leaf(Op::kInfinity));
  EXPECT_EQ(MustParse("inf"), Expr::Leaf(Op::kInfinity));
  EXPECT_EQ(MustParse("NaN"), Expr::Leaf(Op::kNotANumber));
  EXPECT_EQ(MustParse("time"), Expr::Leaf(Op::kTime));
  EXPECT_EQ(MustParse("avogadro"), Expr::Leaf(Op::kAvogadro));
  EXPECT_EQ(MustParse("k_1a"), S("k_1a"));
  EXPECT_EQ(MustParse("_x"), S("_x"));
}

TEST(ParseTest, Functions) {
  EXPECT_EQ(MustParse("sin(x)"), A(Op::kSin, {S("x")}));
  EXPECT_EQ(MustParse("log10(x)"), A(Op::kLog, {N(10), S("x")}));
  EXPECT_EQ(MustParse("log(x)"), A(Op::kLog, {S("x")}));
  EXPECT_EQ(MustParse("log(2, x)"), A(Op::kLog, {N(2), S("x")}));
  EXPECT_EQ(MustParse("ceiling(x)"), A(Op::kCeiling, {S("x")}));
  EXPECT_EQ(MustParse("ceil(x)"), A(Op::kCeiling, {S("x")}));
  EXPECT_EQ(MustParse("pow(x, 2)"), A(Op::kPower, {S("x"), N(2)}));
  EXPECT_EQ(MustParse("power(x, 2)"), A(Op::kPower, {S("x"), N(2)}));
  EXPECT_EQ(MustParse("asin(x)"), A(Op::kArcsin, {S("x")}));
  EXPECT_EQ(MustParse("min(a, b, c)"), A(Op::kMin, {S("a"), S("b"), S("c")}));
  EXPECT_EQ(MustParse("and()"), A(Op::kAnd, {}));
  EXPECT_EQ(MustParse("piecewise(1, x > 2, 0)"),
            A(Op::kPiecewise, {N(1), A(Op::kGt, {S("x"), N(2)}), N(0)}));
  EXPECT_EQ(MustParse("delay(x, 2)"), A(Op::kDelay, {S("x"), N(2)}));
  EXPECT_EQ(MustParse("rateOf(x)"), A(Op::kRateOf, {S("x")}));
  EXPECT_EQ(MustParse(" quotient ( a ,b ) "), A(Op::kQuotient, {S("a"), S("b")}));
  // A name that is a function is a symbol when no '(' follows.
  EXPECT_EQ(MustParse("sin + 1"), A(Op::kPlus, {S("sin"), N(1)}));
}

void ExpectError(const std::string& text, const std::string& message) {
  Result<Expr> e = ParseExpression(text);
  ASSERT_FALSE(e.ok()) << text;
  EXPECT_EQ(e.status().code(), ErrorCode::kParseError);
  EXPECT_EQ(e.status().message(), message) << text;
}

TEST(ParseTest, ErrorsNameTheColumn) {
  ExpectError("", "column 1: unexpected end of input");
  ExpectError("1 + ", "column 5: unexpected end of input");
  ExpectError("(1 + 2", "column 7: expected ')', found end of input");
  ExpectError("sin(x", "column 6: expected ',' or ')', found end of input");
  ExpectError("sin(x;", "column 6: unexpected character ';'");
  ExpectError("2 # 3", "column 3: unexpected character '#'");
  ExpectError("a = b", "column 3: unexpected '='; use '==' for equality");
  ExpectError("1 2", "column 3: unexpected '2'");
  ExpectError("foo(1)", "column 1: unknown function 'foo'");
  ExpectError(")", "column 1: expected a number, name or '(', found ')'");
  ExpectError("1 + * 2", "column 5: expected a number, name or '(', found '*'");
  ExpectError("f(1,)", "column 5: expected a number, name or '(', found ')'");
  ExpectError("a & b", "column 3: unexpected character '&'");
}

TEST(ParseTest, DepthIsBounded) {
  std::string deep(5000, '(');
  deep += "1";
  deep += std::string(5000, ')');
  Result<Expr> e = ParseExpression(deep);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("nested too deeply"), std::string::npos);
  std::string calls;
  for (int i = 0; i < 5000; ++i) calls += "max(1, ";
  EXPECT_FALSE(ParseExpression(calls + "x").ok());
  // 200 levels of parentheses are fine.
  EXPECT_TRUE(ParseExpression(std::string(200, '(') + "x" + std::string(200, ')')).ok());
  std::string chain = "x";
  for (int i = 0; i < 3000; ++i) chain += " - 1";
  EXPECT_FALSE(ParseExpression(chain).ok());
  std::string unary(3000, '-');
  EXPECT_FALSE(ParseExpression(unary + "x").ok());
  // Long flat sums are fine.
  std::string sum = "x";
  for (int i = 0; i < 3000; ++i) sum += " + 1";
  Result<Expr> s = ParseExpression(sum);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->args.size(), 3001u);
}

// Random trees over every operator; numbers finite, symbols s0..s5.
Expr RandomTree(std::mt19937& rng, int depth) {
  const unsigned k = rng() % 10;
  if (depth == 0 || k < 3) {
    switch (rng() % 4) {
      case 0: {
        static const double kNumbers[] = {0, 1, -1, 2.5, -0.125, 1e-7, 6.02e23, -3e300, 0.1, 1.0 / 3, -0.0, 12345678901.0};
        return N(kNumbers[rng() % std::size(kNumbers)]);
      }
      case 1: {
        std::uniform_real_distribution<double> u(-1e3, 1e3);
        return N(u(rng));
      }
      case 2: return Expr::Symbol("s" + std::to_string(rng() % 6));
      default: {
        static const Op kLeaves[] = {Op::kTime, Op::kAvogadro, Op::kPi, Op::kExponentiale, Op::kTrue,
                                     Op::kFalse, Op::kInfinity, Op::kNotANumber};
        return Expr::Leaf(kLeaves[rng() % std::size(kLeaves)]);
      }
    }
  }
  const int first = static_cast<int>(Op::kPlus);
  const int last = static_cast<int>(Op::kRateOf);
  const Op op = static_cast<Op>(first + static_cast<int>(rng() % (last - first + 1)));
  const unsigned arity = rng() % 5 == 0 ? rng() % 5 : 1 + rng() % 3;
  std::vector<Expr> args;
  for (unsigned i = 0; i < arity; ++i) args.push_back(RandomTree(rng, depth - 1));
  return A(op, std::move(args));
}

TEST(ParseTest, RoundTripsToString) {
  for (uint32_t seed = 0; seed < 2000; ++seed) {
    std::mt19937 rng(seed);
    const Expr e = RandomTree(rng, 1 + static_cast<int>(seed % 6));
    const std::string text = ToString(e);
    Result<Expr> back = ParseExpression(text);
    ASSERT_TRUE(back.ok()) << "seed " << seed << ": " << text << ": " << back.status().ToString();
    ASSERT_EQ(*back, e) << "seed " << seed << ": " << text << " reparsed as " << ToString(*back);
  }
}

TEST(ParseTest, HandWrittenRoundTrips) {
  for (const char* text : {"k1 * S1 * compartment", "piecewise(1, time > 5, 0)", "x^(-2)",
                           "(-5)^2", "-(x)", "a - (b - c)", "(a < b) && (c >= d)",
                           "a < b < c", "log(10, x)", "plus()", "times(x)", "xor()", "0.1 + 1e-07",
                           "1e+300 * x", "-(INF)", "NaN"}) {
    Expr e = MustParse(text);
    EXPECT_EQ(ToString(e), text);
    EXPECT_EQ(MustParse(ToString(e)), e);
  }
}

}  // namespace
}  // namespace soma::expr
