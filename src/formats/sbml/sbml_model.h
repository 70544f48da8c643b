#pragma once
// Internal: an SBML Level 3 Version 2 core model (as libSBML holds it after
// flattening and conversion) to Soma's model IR.

#include <vector>

#include <sbml/SBMLTypes.h>

#include "core/status.h"
#include "formats/sbml/sbml_import.h"
#include "model/model.h"

namespace soma::formats::internal {

// What the converted document no longer says about its source.
struct SourceFacts {
  int level = 3;
  int version = 2;
  // Reaction i (in document order) had fast="true". L3V2 dropped the
  // attribute, and libSBML's converter with it.
  std::vector<bool> fast;
};

// Translates `m` into the IR. Math without which an element means nothing
// (a rule, trigger, event assignment, initial assignment, delay, priority,
// constraint or kinetic law without <math>) is an error in documents from
// before L3V2; in L3V2, where <math> is optional, the element is ignored as
// the SBML Test Suite expects, with a kWarning diagnostic.
// Errors: those of MathConverter::Convert, prefixed with the element
// ("reaction 'R1': kinetic law: ..."); kInvalidModel for missing math as
// described above.
Result<model::Model> ImportModel(const ::Model& m, const SourceFacts& facts,
                                 std::vector<Diagnostic>* diagnostics);

}  // namespace soma::formats::internal
