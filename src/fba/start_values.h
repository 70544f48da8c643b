#pragma once
// Internal: values of model symbols at the start of a simulation (t = 0),
// for the numbers flux balance analysis reads (bound parameters,
// species-reference stoichiometries).

#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace soma::fba::internal {

// Value at t = 0 of each id in `ids` (parameters or species references with
// an id). Declared values are used directly unless an initial assignment or
// rule defines one of the ids or a parameter has no declared value; then the
// model is compiled (sim::CompiledModel) and its initial workspace evaluated,
// so any math the initial assignments use is supported.
// Errors: kInvalidModel naming an id that is neither a parameter nor a
// species reference, or whose value is missing or NaN; errors of
// sim::CompiledModel::Compile, with context.
Result<std::unordered_map<std::string, double>> StartValues(const model::Model& m,
                                                           const std::vector<std::string>& ids);

}  // namespace soma::fba::internal
