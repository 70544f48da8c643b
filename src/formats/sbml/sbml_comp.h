#pragma once
// Internal: flattening of hierarchical (comp) documents.

#include <filesystem>
#include <vector>

#include <sbml/SBMLTypes.h>

#include "core/status.h"
#include "formats/sbml/sbml_import.h"

namespace soma::formats::internal {

// Replaces the document's model by its flattened form (libSBML's
// CompFlatteningConverter: submodels instantiated, ports removed,
// replacements, deletions and conversion factors applied). External model
// definitions are looked up relative to `base_dir` (absolute).
// Errors: kUnsupported if the document references an external model and
// `resolve_external` is false, or the source is not a local file;
// kInvalidModel if a referenced file does not exist or libSBML fails to
// flatten (its messages are quoted).
Status FlattenComp(::SBMLDocument& doc, const std::filesystem::path& base_dir,
                   bool resolve_external, std::vector<Diagnostic>* diagnostics);

}  // namespace soma::formats::internal
