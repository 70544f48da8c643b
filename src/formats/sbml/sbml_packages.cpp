#include "formats/sbml/sbml_packages.h"

#include <memory>
#include <string_view>

#include "formats/sbml/sbml_diagnostics.h"

namespace soma::formats::internal {
namespace {

enum class Treatment { kFlatten, kFluxBalance, kIgnore, kRefuse };

struct KnownPackage {
  std::string_view name;
  Treatment treatment;
  std::string_view description;  // for messages
  std::string_view reason;       // why it is refused
};

constexpr KnownPackage kKnownPackages[] = {
    {"comp", Treatment::kFlatten, "hierarchical model composition", ""},
    {"layout", Treatment::kIgnore, "layout", ""},
    {"render", Treatment::kIgnore, "rendering", ""},
    {"groups", Treatment::kIgnore, "groups", ""},
    {"l3v2extendedmath", Treatment::kIgnore, "L3V2 math in L3V1", ""},
    {"fbc", Treatment::kFluxBalance, "flux balance constraints", ""},
    {"qual", Treatment::kRefuse, "qualitative models",
     "Soma does not simulate logical (qualitative) models"},
    {"multi", Treatment::kRefuse, "multistate and multicomponent species",
     "Soma does not expand rule-based species"},
    {"distrib", Treatment::kRefuse, "distributions",
     "Soma does not sample random distributions"},
    {"arrays", Treatment::kRefuse, "arrays", "Soma does not expand arrays"},
    {"spatial", Treatment::kRefuse, "spatial processes",
     "Soma does not simulate spatial (PDE) models"},
    {"dyn", Treatment::kRefuse, "dynamic structures",
     "Soma does not create or destroy model elements during a simulation"},
};

// "http://www.sbml.org/sbml/level3/version1/fbc/version2" -> "fbc"; empty for
// core and for namespaces that are not SBML packages.
std::string PackageNameFromUri(const std::string& uri) {
  constexpr std::string_view kPrefix = "http://www.sbml.org/sbml/level3/version";
  if (uri.compare(0, kPrefix.size(), kPrefix) != 0) return "";
  size_t slash = uri.find('/', kPrefix.size());
  if (slash == std::string::npos) return "";
  size_t end = uri.find('/', slash + 1);
  std::string name = uri.substr(slash + 1, end == std::string::npos ? std::string::npos : end - slash - 1);
  return name == "core" ? "" : name;
}

// The first parsed element belonging to `package`, described for a message.
std::string FirstElementOf(::SBMLDocument& doc, const std::string& package) {
  std::unique_ptr<::List> all(doc.getAllElements());
  if (all == nullptr) return "";
  for (unsigned int i = 0; i < all->getSize(); ++i) {
    auto* element = static_cast<::SBase*>(all->get(i));
    if (element == nullptr || element->getPackageName() != package) continue;
    // Skip the listOf containers: the first real element names more.
    if (element->getTypeCode() == ::SBML_LIST_OF) continue;
    std::string out = package + ":" + Describe(*element);
    if (element->getLine() > 0 && element->isSetId()) out += " at line " + std::to_string(element->getLine());
    return out;
  }
  return "";
}

}  // namespace

Result<PackageUse> CheckPackages(::SBMLDocument& doc, std::vector<Diagnostic>* diagnostics) {
  PackageUse use;
  const ::XMLNamespaces* namespaces = doc.getNamespaces();
  if (namespaces == nullptr) return use;
  for (int i = 0; i < namespaces->getNumNamespaces(); ++i) {
    std::string uri = namespaces->getURI(i);
    std::string name = PackageNameFromUri(uri);
    if (name.empty()) continue;
    const KnownPackage* known = nullptr;
    for (const KnownPackage& p : kKnownPackages) {
      if (p.name == name) known = &p;
    }
    if (known == nullptr) {
      // Not a package we know of: its 'required' flag says whether the model
      // can be understood without it.
      if (doc.getPackageRequired(uri)) {
        return Unsupported("SBML package '" + name + "' (" + uri +
                           ") is required by the document but not supported by Soma");
      }
      diagnostics->push_back({Severity::kWarning, 0, 0, "package",
                              "SBML package '" + name + "' is not known to Soma; it is marked "
                              "required=\"false\" and is ignored"});
      continue;
    }
    switch (known->treatment) {
      case Treatment::kFlatten:
        use.comp = true;
        break;
      case Treatment::kFluxBalance:
        use.fbc = true;
        break;
      case Treatment::kIgnore:
        diagnostics->push_back({Severity::kInfo, 0, 0, "package",
                                "SBML package '" + name + "' (" + std::string(known->description) +
                                    ") has no simulation semantics and is ignored"});
        break;
      case Treatment::kRefuse: {
        std::string message = "SBML package '" + name + "' (" + std::string(known->description) +
                              ") is not supported: " + std::string(known->reason);
        std::string first = FirstElementOf(doc, name);
        if (!first.empty()) message += " (first use: " + first + ")";
        return Unsupported(message);
      }
    }
  }
  return use;
}

}  // namespace soma::formats::internal
