#pragma once
// Internal: turning libSBML's error log into Soma diagnostics and messages.

#include <string>
#include <vector>

#include <sbml/SBMLTypes.h>

#include "formats/sbml/sbml_import.h"

namespace soma::formats::internal {

// libSBML severities: info, warning, error, fatal (fatal maps to kError).
Severity ToSeverity(unsigned int libsbml_severity);

Diagnostic ToDiagnostic(const ::SBMLError& error);

// Appends the entries [first, end) of the document's error log to `out`.
void AppendLog(const ::SBMLDocument& doc, unsigned int first, std::vector<Diagnostic>* out);

// True if entry `error` is error or fatal.
bool IsError(const ::SBMLError& error);

// "line 12: message" per error-severity entry in [first, end) of the log,
// one per line, at most 20 and a count of the rest; empty when there are
// none. Entries whose id is in `skip` are
// left out.
std::string ErrorLines(const ::SBMLDocument& doc, unsigned int first,
                       const std::vector<unsigned int>& skip = {});

// "element 'id'" / "element" / "element at line N" for messages.
std::string Describe(const ::SBase& element);

}  // namespace soma::formats::internal
