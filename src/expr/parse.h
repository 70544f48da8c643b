#pragma once
// Text parser for infix math in the style of SBML Level 3 infix notation
// (libSBML's L3 formula syntax), producing an expr::Expr.
//
// Grammar, loosest binding first:
//   a || b || c        -> or(a, b, c)
//   a && b && c        -> and(a, b, c)
//   a < b, a <= b, a > b, a >= b, a == b, a != b
//                      a chain of one operator is n-ary (a < b < c ->
//                      lt(a, b, c)); a chain mixing operators is the
//                      conjunction of its adjacent pairs
//   a + b + c          -> plus(a, b, c);  a - b -> minus(a, b) (left assoc.)
//   a * b * c          -> times(a, b, c); a / b -> divide(a, b) (left assoc.)
//   -x, +x, !x         -> minus(x), x, not(x); "-2" is the number -2 unless
//                      a '^' follows ("-2^2" is minus(pow(2, 2)))
//   a ^ b              -> pow(a, b), right associative, binds tightest
//   f(a, b, ...)       function call; (expr) grouping
// Chains are only flattened when unparenthesised: "(a + b) + c" is
// plus(plus(a, b), c).
//
// Numbers: 12, 1.5, .5, 1e-3, 2.5E+4 (an out-of-range exponent gives inf or
// 0). Identifiers: [A-Za-z_][A-Za-z0-9_]*. Reserved names: pi,
// exponentiale, true, false, INF / inf / Infinity, NaN / nan / NotANumber,
// time, avogadro; any other identifier not followed by '(' is a kSymbol.
// Function names are every expr::OpName ("sin", "piecewise", "lt", "plus",
// "pow", "ceil", ...) plus the aliases ceiling, power, log10 (log10(x) ->
// log(10, x)), asin/acos/atan/asinh/acosh/atanh (-> arcsin, ...), delay,
// rateOf. log(x) with one argument is kept as a one-argument kLog (base 10
// when lowered, see expr/graph.h). Arities are not checked here; the
// lowering (Graph::FromTree) checks them. There are no user functions.
//
// Round trip: for trees whose numbers are finite and whose symbol names are
// identifiers that are not reserved, ParseExpression(ToString(e)) == e.
//
// Errors: ParseError with a 1-based column, e.g. "column 7: expected ')'",
// "column 3: unknown function 'foo'", "column 1: unexpected end of input".
// Nesting deeper than 500 (each parenthesis or function call counts 2, each
// prefix operator 1: about 250 levels of parentheses), or a tree deeper
// than 1000 levels (a - b - c - ... counts one level per '-'), is an error,
// so that no input can overflow the stack (checked under ASan).
//
// Thread safety: a pure function.

#include <string_view>

#include "core/status.h"
#include "expr/expr.h"

namespace soma::expr {

Result<Expr> ParseExpression(std::string_view text);

}  // namespace soma::expr
