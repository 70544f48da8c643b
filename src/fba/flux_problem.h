#pragma once
// Internal: the FBA linear program as plain numbers, built from a model.
//
//   optimise  c^T v   subject to  S v = 0,  lower <= v <= upper

#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace soma::fba::internal {

struct MatrixEntry {
  int row = 0;     // 0-based species row
  int column = 0;  // 0-based reaction column
  double value = 0.0;
};

struct FluxProblem {
  std::vector<std::string> reactions;  // columns, model order
  std::vector<std::string> species;    // rows: balanced species, in order of first use
  std::vector<MatrixEntry> stoichiometry;  // S, one entry per nonzero (row, column)
  std::vector<double> lower, upper;    // per column; -inf / +inf when unbounded
  std::vector<double> objective;       // c, per column
  model::ObjectiveSense sense = model::ObjectiveSense::kMaximize;
};

// Builds the problem for `objective` (one of m.flux_balance->objectives).
// Errors: see SolveFluxBalance (fba/flux_balance.h) for the model errors.
Result<FluxProblem> BuildFluxProblem(const model::Model& m, const model::Objective& objective);

}  // namespace soma::fba::internal
