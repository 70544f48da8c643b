#pragma once
// Shared pieces of the sim tests: expression shorthands, a reaction builder,
// the SBML Test Suite's closeness rule, and a reference model with an
// analytic solution.

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "expr/expr.h"
#include "model/model.h"
#include "sim/compiled_model.h"
#include "sim/options.h"
#include "sim/simulator.h"

namespace soma::sim::testing {

inline expr::Expr Sym(const char* s) { return expr::Expr::Symbol(s); }
inline expr::Expr Num(double v) { return expr::Expr::Number(v); }
inline expr::Expr Apply(expr::Op op, std::vector<expr::Expr> a) { return expr::Expr::Apply(op, std::move(a)); }
inline expr::Expr Mul(std::vector<expr::Expr> a) { return Apply(expr::Op::kTimes, std::move(a)); }
inline expr::Expr Sub(expr::Expr a, expr::Expr b) { return Apply(expr::Op::kMinus, {std::move(a), std::move(b)}); }

// A reaction from reactant and product species ids (stoichiometry 1 each).
inline model::Reaction MakeReaction(const char* id, std::vector<const char*> reactants,
                                    std::vector<const char*> products, expr::Expr law, bool fast = false) {
  model::Reaction r;
  r.id = id;
  r.fast = fast;
  for (const char* s : reactants) r.reactants.push_back({.species = s});
  for (const char* s : products) r.products.push_back({.species = s});
  r.kinetic_law = std::move(law);
  return r;
}

// |x - ref| <= abs + rel |ref|, the SBML Test Suite's rule.
inline void ExpectClose(double x, double ref, double abs, double rel, const std::string& what = "") {
  EXPECT_LE(std::abs(x - ref), abs + rel * std::abs(ref)) << what << ": x = " << x << ", ref = " << ref;
}

// An event at time >= t that sets `variable` to `value`.
inline model::Event TimeEvent(const char* id, double t, const char* variable, expr::Expr value) {
  model::Event ev;
  ev.id = id;
  ev.trigger = Apply(expr::Op::kGe, {expr::Expr::Leaf(expr::Op::kTime), Num(t)});
  ev.assignments.push_back({variable, std::move(value)});
  return ev;
}

// A -> B, rate k * A * V in compartment V = 2; A declared as a concentration
// A0 = 1, B as an amount 0, k = 0.5. A(t) = exp(-k t) (a concentration), the
// amount of B is V (1 - A(t)).
inline model::Model DecayModel() {
  model::Model m;
  m.id = "decay";
  m.compartments.push_back({.id = "V", .size = 2.0});
  m.species.push_back({.id = "A", .compartment = "V", .initial_concentration = 1.0});
  m.species.push_back({.id = "B", .compartment = "V", .initial_amount = 0.0});
  m.parameters.push_back({.id = "k", .value = 0.5});
  model::Reaction r;
  r.id = "R";
  r.reactants.push_back({.species = "A"});
  r.products.push_back({.species = "B"});
  r.kinetic_law = Mul({Sym("k"), Sym("A"), Sym("V")});
  m.reactions.push_back(r);
  return m;
}

// Options for comparisons with analytic solutions: CVODES at rel 1e-10, abs 1e-14.
inline SimulationOptions TightOptions(double end, int steps) {
  SimulationOptions o;
  o.end = end;
  o.steps = steps;
  o.integrator.rel_tol = 1e-10;
  o.integrator.abs_tol = 1e-14;
  return o;
}

// How a run of `m` with TightOptions(end, steps) ends: OK when it ran,
// else its error; kInternal when `m` does not compile (the tests that use
// this expect a model that compiles and a run that fails).
inline Status RunStatus(const model::Model& m, double end, int steps, const std::vector<OutputVariable>& outputs) {
  auto cm = CompiledModel::Compile(m);
  if (!cm.ok()) return Internal("the model does not compile: " + cm.status().ToString());
  auto r = Simulator(*cm).Simulate(TightOptions(end, steps), outputs);
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace soma::sim::testing
