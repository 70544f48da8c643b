#pragma once
// Internal: which SBML Level 3 packages a document declares, and what the
// importer does with each (flatten, read as flux balance data, ignore, refuse).

#include <string>
#include <vector>

#include <sbml/SBMLTypes.h>

#include "core/status.h"
#include "formats/sbml/sbml_import.h"

namespace soma::formats::internal {

struct PackageUse {
  bool comp = false;  // the document uses comp and must be flattened
  bool fbc = false;   // the document declares fbc (flux bounds, objectives)
};

// Inspects the namespaces declared on <sbml>. Returns kUnsupported naming the
// first package that changes simulation semantics (and the first element
// using it, where libSBML parsed it); appends a kInfo diagnostic per ignored
// package.
Result<PackageUse> CheckPackages(::SBMLDocument& doc, std::vector<Diagnostic>* diagnostics);

// libSBML error ids about packages this build of libSBML does not know; they
// are reported through CheckPackages instead.
inline constexpr unsigned int kUnknownRequiredPackage = 99107;
inline constexpr unsigned int kUnknownPackage = 99108;

}  // namespace soma::formats::internal
