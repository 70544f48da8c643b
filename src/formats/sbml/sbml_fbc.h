#pragma once
// Internal: the SBML `fbc` package (flux bounds and objectives, Versions 1
// to 3) to model::FluxBalance. Read from the document before conversion to
// L3V2, which may not carry package data across; reaction and parameter ids
// are unchanged by conversion.

#include <vector>

#include <sbml/SBMLTypes.h>

#include "core/status.h"
#include "formats/sbml/sbml_import.h"
#include "model/flux_balance.h"

namespace soma::formats::internal {

// Reads the fbc data of `m` (which must declare the fbc package).
// fbc v1 listOfFluxBounds are merged per reaction (tightest value wins;
// `equal` sets both sides); fbc v2/v3 reaction attributes name parameters.
// Errors: kInvalidModel for a bound or flux objective naming an unknown
// reaction, a bound naming an unknown parameter, a v1 bound without value or
// with an operation other than lessEqual/greaterEqual/equal, an objective
// without a valid type, an activeObjective naming no objective;
// kUnsupported for fbc v3 user-defined constraints.
Result<model::FluxBalance> ReadFluxBalance(const ::Model& m, std::vector<Diagnostic>* diagnostics);

}  // namespace soma::formats::internal
