#pragma once
// Helpers shared by the expr tests (not part of the library).

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "expr/graph.h"
#include "expr/parse.h"

namespace soma::expr::testing {

// Resolves symbols x, y, z to slots 0, 1, 2, "s<N>" to slot N and time to
// slot 9; anything else is NotFound.
inline Graph::Resolver SlotResolver(Graph& g) {
  return [&g](const Expr& e) -> Result<NodeId> {
    if (e.op == Op::kTime) return g.Variable(9);
    if (e.op != Op::kSymbol) return Unsupported("csymbol " + std::string(OpName(e.op)));
    if (e.name == "x") return g.Variable(0);
    if (e.name == "y") return g.Variable(1);
    if (e.name == "z") return g.Variable(2);
    if (e.name.size() > 1 && e.name[0] == 's') return g.Variable(static_cast<uint32_t>(std::stoul(e.name.substr(1))));
    return NotFound("unknown symbol '" + e.name + "'");
  };
}

// Parses `text` and lowers it with SlotResolver; aborts the test on error.
inline NodeId Lower(Graph& g, const std::string& text) {
  Result<Expr> e = ParseExpression(text);
  if (!e.ok()) {
    ADD_FAILURE() << text << ": " << e.status().ToString();
    return g.Constant(NAN);
  }
  Result<NodeId> id = g.FromTree(*e, SlotResolver(g));
  if (!id.ok()) {
    ADD_FAILURE() << text << ": " << id.status().ToString();
    return g.Constant(NAN);
  }
  return *id;
}

// Bitwise-equal up to the sign of zero, with all NaNs equal.
inline bool SameValue(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

// |x - ref| <= abs + rel * |ref|, NaN only equal to NaN, inf to same inf.
inline bool Near(double x, double ref, double abs_tol, double rel_tol) {
  if (std::isnan(x) || std::isnan(ref)) return std::isnan(x) && std::isnan(ref);
  if (std::isinf(x) || std::isinf(ref)) return x == ref;
  return std::fabs(x - ref) <= abs_tol + rel_tol * std::fabs(ref);
}

}  // namespace soma::expr::testing
