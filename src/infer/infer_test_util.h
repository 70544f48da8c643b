#pragma once
// Reference problems for the infer tests: models with closed-form
// predictions, so that least-squares solutions and covariances are known.

#include <memory>
#include <random>
#include <vector>

#include "expr/expr.h"
#include "infer/estimate.h"
#include "infer/problem.h"
#include "model/model.h"
#include "sim/compiled_model.h"

namespace soma::infer::testing {

using expr::Expr;
using expr::Op;

// y = a + b * time (an assignment rule), plus a constant state z so that the
// model has something to integrate. Declared a = 1, b = 2.
inline std::shared_ptr<const sim::CompiledModel> LineModel() {
  model::Model m;
  m.id = "line";
  m.parameters.push_back({.id = "a", .value = 1.0});
  m.parameters.push_back({.id = "b", .value = 2.0});
  m.parameters.push_back({.id = "c", .value = 0.0});  // enters only through a + c
  m.parameters.push_back({.id = "y", .value = 0.0, .constant = false});
  m.parameters.push_back({.id = "z", .value = 1.0, .constant = false});
  m.rules.push_back({model::RuleKind::kAssignment, "y",
                     Expr::Apply(Op::kPlus, {Expr::Symbol("a"), Expr::Symbol("c"),
                                             Expr::Apply(Op::kTimes, {Expr::Symbol("b"), Expr::Leaf(Op::kTime)})})});
  m.rules.push_back({model::RuleKind::kRate, "z", Expr::Number(0.0)});
  return *sim::CompiledModel::Compile(m);
}

// dx/dt = -k x, x(0) = x0 (a parameter-valued species amount): x = x0 exp(-k t).
inline std::shared_ptr<const sim::CompiledModel> DecayModel() {
  model::Model m;
  m.id = "decay";
  m.compartments.push_back({.id = "V", .size = 1.0});
  m.species.push_back({.id = "x", .compartment = "V", .initial_amount = 10.0, .has_only_substance_units = true});
  m.parameters.push_back({.id = "k", .value = 0.3});
  model::Reaction r;
  r.id = "R";
  r.reactants.push_back({.species = "x"});
  r.kinetic_law = Expr::Apply(Op::kTimes, {Expr::Symbol("k"), Expr::Symbol("x")});
  m.reactions.push_back(r);
  return *sim::CompiledModel::Compile(m);
}

// One experiment observing `symbol` at `times` with `values`.
inline Experiment SeriesExperiment(std::string symbol, const std::vector<double>& times,
                                   const std::vector<double>& values, NoiseModel noise) {
  Experiment e;
  e.id = "e1";
  e.observables.push_back({symbol, symbol, std::move(noise)});
  for (size_t i = 0; i < times.size(); ++i) e.measurements.push_back({0, times[i], values[i]});
  return e;
}

inline EstimatedParameter Param(std::string id, double lo, double hi, double nominal, Scale scale = Scale::kLin) {
  EstimatedParameter p;
  p.id = std::move(id);
  p.lower = lo;
  p.upper = hi;
  p.nominal = nominal;
  p.scale = scale;
  return p;
}

// Tolerances tight enough that the optimiser's stopping point is within
// 1e-9 of the exact optimum on these small problems.
inline EstimationOptions Tight() {
  EstimationOptions o;
  o.function_tolerance = 1e-15;
  o.gradient_tolerance = 1e-14;
  o.parameter_tolerance = 1e-14;
  return o;
}

// Data for the line y = a + b t: t = 0..7.
inline const std::vector<double> kLineTimes = {0, 1, 2, 3, 4, 5, 6, 7};
inline const std::vector<double> kLineData = {0.9, 3.2, 4.8, 7.1, 9.3, 10.8, 13.2, 14.9};

// The line fitted to kLineData with known sigma; a and b in [-10, 10].
inline EstimationProblem LineProblem(double sigma) {
  EstimationProblem p;
  p.model = LineModel();
  p.parameters = {Param("a", -10, 10, 0.0), Param("b", -10, 10, 1.0)};
  p.experiments = {SeriesExperiment("y", kLineTimes, kLineData, NoiseModel::Additive(ValueRef::Constant(sigma)))};
  return p;
}

}  // namespace soma::infer::testing
