#include "formats/sbml/sbml_reader.h"

namespace soma::formats::internal {

std::mutex& LibsbmlMutex() {
  static std::mutex mutex;
  return mutex;
}

std::string WithXmlDeclaration(std::string_view xml) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (xml.substr(0, kBom.size()) == kBom) xml.remove_prefix(kBom.size());
  constexpr std::string_view kDeclStart = "<?xml version=";
  if (xml.substr(0, kDeclStart.size()) == kDeclStart) return std::string(xml);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + std::string(xml);
}

}  // namespace soma::formats::internal
