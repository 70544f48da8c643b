#pragma once
// Helpers shared by the expr tests (not part of the library).

#include <cmath>
#include <random>
#include <vector>
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

constexpr GOp kUnaryOps[] = {
    GOp::kNeg, GOp::kExp, GOp::kLn, GOp::kLog10, GOp::kSqrt, GOp::kAbs, GOp::kFloor,
    GOp::kCeil, GOp::kFactorial, GOp::kSin, GOp::kCos, GOp::kTan, GOp::kSinh, GOp::kCosh,
    GOp::kTanh, GOp::kAsin, GOp::kAcos, GOp::kAtan, GOp::kAsinh, GOp::kAcosh, GOp::kAtanh,
    GOp::kNot};
constexpr GOp kBinaryOps[] = {
    GOp::kAdd, GOp::kSub, GOp::kMul, GOp::kDiv, GOp::kPow, GOp::kMin, GOp::kMax, GOp::kRem,
    GOp::kQuotient, GOp::kEq, GOp::kNeq, GOp::kLt, GOp::kLe, GOp::kGt, GOp::kGe, GOp::kAnd,
    GOp::kOr, GOp::kXor};

// A random DAG over slots 0..4: arithmetic-heavy, with relations and selects.
inline std::vector<NodeId> RandomGraph(Graph& g, std::mt19937& rng, int size) {
  std::vector<NodeId> pool;
  for (uint32_t s = 0; s < 5; ++s) pool.push_back(g.Variable(s));
  for (double c : {0.0, 1.0, -1.0, 0.5, 2.0, 3.25}) pool.push_back(g.Constant(c));
  auto pick = [&]() {
    // Prefer recent nodes so that chains get deep.
    std::uniform_int_distribution<size_t> recent(pool.size() > 8 ? pool.size() - 8 : 0, pool.size() - 1);
    std::uniform_int_distribution<size_t> any(0, pool.size() - 1);
    return pool[(rng() % 3 == 0) ? any(rng) : recent(rng)];
  };
  for (int i = 0; i < size; ++i) {
    const unsigned kind = rng() % 10;
    NodeId n;
    if (kind < 3) {
      n = g.Unary(kUnaryOps[rng() % std::size(kUnaryOps)], pick());
    } else if (kind < 9) {
      // Mostly arithmetic.
      const GOp op = rng() % 2 == 0 ? kBinaryOps[rng() % 5] : kBinaryOps[rng() % std::size(kBinaryOps)];
      n = g.Binary(op, pick(), pick());
    } else {
      n = g.Select(pick(), pick(), pick());
    }
    pool.push_back(n);
  }
  return pool;
}

}  // namespace soma::expr::testing
