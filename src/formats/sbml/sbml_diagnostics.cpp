#include "formats/sbml/sbml_diagnostics.h"

#include <algorithm>

namespace soma::formats {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
  }
  return "?";
}

std::string Diagnostic::ToString() const {
  std::string out;
  if (line > 0) {
    out += "line " + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
    out += ": ";
  }
  out += SeverityName(severity);
  out += ": ";
  if (!category.empty()) out += "[" + category + "] ";
  out += message;
  return out;
}

namespace internal {
namespace {

// libSBML messages end in newlines and sometimes start with them.
std::string Trim(std::string s) {
  auto not_space = [](unsigned char c) { return c != ' ' && c != '\n' && c != '\r' && c != '\t'; };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

}  // namespace

Severity ToSeverity(unsigned int libsbml_severity) {
  switch (libsbml_severity) {
    case ::LIBSBML_SEV_INFO: return Severity::kInfo;
    case ::LIBSBML_SEV_WARNING: return Severity::kWarning;
    default: return Severity::kError;
  }
}

bool IsError(const ::SBMLError& error) {
  return error.getSeverity() == ::LIBSBML_SEV_ERROR ||
         error.getSeverity() == ::LIBSBML_SEV_FATAL;
}

Diagnostic ToDiagnostic(const ::SBMLError& error) {
  Diagnostic d;
  d.severity = ToSeverity(error.getSeverity());
  d.line = static_cast<int>(error.getLine());
  d.column = static_cast<int>(error.getColumn());
  d.category = error.getCategoryAsString();
  d.message = Trim(error.getMessage());
  return d;
}

void AppendLog(const ::SBMLDocument& doc, unsigned int first, std::vector<Diagnostic>* out) {
  for (unsigned int i = first; i < doc.getNumErrors(); ++i) {
    const ::SBMLError* e = doc.getError(i);
    if (e != nullptr) out->push_back(ToDiagnostic(*e));
  }
}

std::string ErrorLines(const ::SBMLDocument& doc, unsigned int first,
                       const std::vector<unsigned int>& skip) {
  constexpr int kMaxLines = 20;  // a broken file can yield thousands
  std::string out;
  int lines = 0;
  for (unsigned int i = first; i < doc.getNumErrors(); ++i) {
    const ::SBMLError* e = doc.getError(i);
    if (e == nullptr || !IsError(*e)) continue;
    if (std::find(skip.begin(), skip.end(), e->getErrorId()) != skip.end()) continue;
    if (++lines > kMaxLines) continue;
    if (!out.empty()) out += "\n";
    if (e->getLine() > 0) out += "line " + std::to_string(e->getLine()) + ": ";
    out += Trim(e->getMessage());
  }
  if (lines > kMaxLines) out += "\n(and " + std::to_string(lines - kMaxLines) + " more errors)";
  return out;
}

std::string Describe(const ::SBase& element) {
  std::string out = element.getElementName();
  if (element.isSetId()) {
    out += " '" + element.getId() + "'";
  } else if (element.getLine() > 0) {
    out += " at line " + std::to_string(element.getLine());
  }
  return out;
}

}  // namespace internal
}  // namespace soma::formats
