#include "formats/sbml/sbml_comp.h"

#include <string>
#include <system_error>

#include <sbml/conversion/ConversionProperties.h>
#include <sbml/packages/comp/common/CompExtensionTypes.h>

#include "formats/sbml/sbml_diagnostics.h"

namespace soma::formats::internal {
namespace {

// Checks that every external model definition names an existing local file,
// so that libSBML never opens URLs, devices or missing files.
Status CheckExternalSources(::SBMLDocument& doc, const std::filesystem::path& base_dir,
                            bool resolve_external) {
  auto* plugin = dynamic_cast<::CompSBMLDocumentPlugin*>(doc.getPlugin("comp"));
  if (plugin == nullptr) return Status::Ok();
  for (unsigned int i = 0; i < plugin->getNumExternalModelDefinitions(); ++i) {
    const ::ExternalModelDefinition* ext = plugin->getExternalModelDefinition(i);
    if (ext == nullptr) continue;
    std::string source = ext->getSource();
    std::string what = "comp: externalModelDefinition '" + ext->getId() + "' (source '" + source + "')";
    if (!resolve_external) {
      return Unsupported(what + ": loading external models is disabled (SbmlImportOptions::resolve_external_models)");
    }
    if (source.rfind("file:", 0) == 0) {
      source = source.substr(5);
    } else if (source.find("://") != std::string::npos) {
      return Unsupported(what + ": only local files are supported as external models");
    }
    if (source.empty()) return InvalidModel(what + ": empty source");
    std::filesystem::path file = source;
    if (file.is_relative()) file = base_dir / file;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
      return InvalidModel(what + ": file '" + file.string() + "' not found");
    }
  }
  return Status::Ok();
}

}  // namespace

Status FlattenComp(::SBMLDocument& doc, const std::filesystem::path& base_dir,
                   bool resolve_external, std::vector<Diagnostic>* diagnostics) {
  SOMA_RETURN_IF_ERROR(CheckExternalSources(doc, base_dir, resolve_external));
  // Flattening validates the document first; unit and modelling-practice
  // advice from that pass is noise here (SbmlImportOptions::check_units
  // covers units), so only the checks that guard flattening stay on.
  doc.setConsistencyChecks(::LIBSBML_CAT_UNITS_CONSISTENCY, false);
  doc.setConsistencyChecks(::LIBSBML_CAT_MODELING_PRACTICE, false);
  ::ConversionProperties props;
  props.addOption("flatten comp", true);
  props.addOption("basePath", base_dir.string());
  props.addOption("leavePorts", false);
  unsigned int first = doc.getNumErrors();
  int rc = doc.convert(props);
  if (rc != ::LIBSBML_OPERATION_SUCCESS) {
    std::string details = ErrorLines(doc, first);
    if (details.empty()) details = "libSBML returned code " + std::to_string(rc);
    return InvalidModel("comp: flattening the hierarchical model failed:\n" + details);
  }
  for (unsigned int i = first; i < doc.getNumErrors(); ++i) {
    const ::SBMLError* e = doc.getError(i);
    if (e == nullptr || IsError(*e)) continue;
    Diagnostic d = ToDiagnostic(*e);
    d.category = "comp flattening";
    diagnostics->push_back(std::move(d));
  }
  return Status::Ok();
}

}  // namespace soma::formats::internal
