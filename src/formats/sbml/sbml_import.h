#pragma once
// SBML import: reads an SBML document (Level 1 Version 1 to Level 3 Version
// 2, with the hierarchical-composition package `comp`) into Soma's model IR
// (model/model.h). libSBML does the reading; nothing of libSBML leaks out of
// this header.
//
// What the importer does, in order:
//  1. Reads the XML. Errors of severity error/fatal make the import fail with
//     ErrorCode::kParseError, listing each message with its line number.
//  2. Inspects the SBML Level 3 packages the document declares:
//     * comp is flattened with libSBML's CompFlatteningConverter (ports
//       removed; replacements, deletions and conversion factors applied).
//       External model definitions are resolved relative to the file's
//       directory (LoadSbmlFile) or `base_dir` (ParseSbml).
//     * layout, render and groups carry no simulation semantics: ignored,
//       with a kInfo diagnostic.
//     * fbc (Versions 1 and 2; Version 3 without user-defined constraints):
//       flux bounds and objectives are read into Model::flux_balance before
//       conversion (step 3 may drop package data). The reactions' kinetic
//       laws are the core model, simulated as usual. References to unknown
//       reactions or parameters and invalid operations/types are
//       kInvalidModel; fbc v3 user-defined constraints are kUnsupported.
//     * qual, multi, distrib, arrays, spatial, dyn and any unknown
//       package marked required="true" change what a model means: the import
//       fails with ErrorCode::kUnsupported naming the package and, where
//       libSBML knows it, the first element using it.
//  3. Converts the (flattened) document to SBML Level 3 Version 2 with
//     libSBML's non-strict level/version converter, which makes every
//     level-specific default explicit (e.g. L2 events: useValuesFromTriggerTime
//     = true, trigger initialValue = persistent = true). L2 stoichiometryMath
//     becomes an assignment rule whose variable is the species reference's id
//     (libSBML generates "generatedId_N" ids where none was given). The `fast`
//     attribute, which L3V2 dropped, is carried over from the source.
//  4. Translates L3V2 core into the IR. Function definitions are inlined, so
//     no expression in the result calls a user function. libSBML reads n-ary
//     plus/times as nested binary nodes; the IR keeps that shape. A species
//     reference without stoichiometry gets 1, a placeholder that an initial
//     assignment or rule on its id overrides. comp conversion factors are
//     already folded into the math by libSBML (no separate IR field).
//
// Thread safety: calls may be made from any thread; they are serialised
// internally because libSBML keeps process-wide registries (package
// extensions, external-model resolvers).

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace soma::formats {

enum class Severity { kInfo, kWarning, kError };

// One message about a document: from libSBML (reader, converters,
// validators) or from the importer itself.
struct Diagnostic {
  Severity severity = Severity::kInfo;
  int line = 0;        // 1-based line in the source document; 0 = unknown
  int column = 0;      // 1-based; 0 = unknown
  std::string category;  // e.g. "SBML unit consistency", "package", "conversion"
  std::string message;   // one or more lines of text, no trailing newline

  // "line 12:5: warning: [SBML unit consistency] message" (position omitted
  // when unknown).
  std::string ToString() const;
};

std::string_view SeverityName(Severity s);  // "info", "warning", "error"

struct SbmlImportOptions {
  // Run libSBML's unit consistency checks on the imported document and report
  // what they find as kWarning diagnostics. Unit problems never fail an
  // import. Costs roughly one extra pass over the model. Default: off.
  bool check_units = false;

  // Allow comp external model definitions to load other files. When false
  // (e.g. for documents from untrusted sources), a document that references
  // an external model fails with ErrorCode::kUnsupported. Only plain files
  // that exist are ever opened; URLs are refused. Default: on.
  bool resolve_external_models = true;
};

struct SbmlImport {
  model::Model model;
  // Warnings and infos met along the way (never kError: errors fail the
  // import), in the order they were found.
  std::vector<Diagnostic> diagnostics;
};

// Model archives (COMBINE/OMEX zip files). A reader writes the archive's
// files under the folder `into` and returns the path of its model file
// (formats::ExtractModelArchive does, in soma::formats_omex). The programs
// that link a zip library register it with SetModelArchiveReader (soma-full
// does); without one a zip file is refused as unsupported. Set it once at
// start-up, before other threads run.
using ModelArchiveReader = Result<std::filesystem::path> (*)(std::string_view zip_bytes,
                                                            const std::filesystem::path& into);
void SetModelArchiveReader(ModelArchiveReader reader);

// Reads and imports the SBML file at `path`. A gzip or bzip2 file is read as
// the XML inside it; a COMBINE/OMEX archive as its model (see
// SetModelArchiveReader), extracted to a temporary folder that is removed
// again; an archive whose model is itself a zip archive is unsupported.
// Errors: kNotFound if the file does not exist; kIoError if it cannot be
// read; otherwise as ParseSbml (or DecompressIfCompressed, or the archive
// reader, with the archive's name in place of the temporary folder).
// External comp models are resolved relative to the directory of `path`.
Result<SbmlImport> LoadSbmlFile(const std::filesystem::path& path,
                                const SbmlImportOptions& options = {});

// Imports an SBML document held in memory. `base_dir` is the directory
// against which comp external model references (relative file names) are
// resolved; empty means the current directory.
// Errors:
//   kParseError   the XML is not well formed or libSBML reports an error
//                 reading it; the message lists each error as "line N: ...".
//   kUnsupported  a package or MathML construct Soma does not simulate
//                 (message names it and the element, e.g. "reaction 'R1':
//                 kinetic law: MathML operator 'gcd'"); an external model
//                 that may not be loaded; a document libSBML cannot convert
//                 to L3V2.
//   kInvalidModel the document breaks an SBML rule the importer relies on:
//                 missing <math> in a document before L3V2 (an event
//                 without trigger math, a rule without math, ...; in L3V2,
//                 where <math> is optional, such elements are dropped with a
//                 kWarning, as the SBML Test Suite expects), wrong operator
//                 arity, a call to an undefined function, a cycle among
//                 function definitions, a missing external model file, comp
//                 flattening failing.
// Never crashes or throws on any input.
Result<SbmlImport> ParseSbml(std::string_view xml, const SbmlImportOptions& options = {},
                             const std::filesystem::path& base_dir = {});

struct SbmlCheckReport {
  std::vector<Diagnostic> diagnostics;  // every message, in libSBML's order
  int errors = 0;    // diagnostics with severity kError
  int warnings = 0;  // diagnostics with severity kWarning
};

// Full libSBML validation of a file for `soma check`: reading, then (if the
// file could be read without errors) all consistency checks: general, units,
// identifiers, MathML, SBO and overdetermined models (modelling-practice
// advice is left out). Problems reading the file, including a missing file,
// are reported as kError diagnostics; this function does not fail.
SbmlCheckReport CheckSbmlFile(const std::filesystem::path& path);

}  // namespace soma::formats
