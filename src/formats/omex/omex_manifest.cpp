#include "formats/omex/omex_manifest.h"

#include "formats/omex/xml_util.h"

namespace soma::formats::internal {
namespace {

constexpr std::string_view kFile = "manifest.xml";

Status ContentError(const xmlNode* node, const std::string& what) {
  return ParseError(std::string(kFile) + ": line " + std::to_string(LineOf(node)) + ": " + what);
}

}  // namespace

Result<std::vector<ManifestItem>> ParseManifest(std::string_view bytes) {
  SOMA_ASSIGN_OR_RETURN(XmlDocPtr doc, ParseXml(bytes, kFile));
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!Is(root, kManifestNamespace, "omexManifest")) {
    return ParseError(std::string(kFile) + ": root element is <" + std::string(LocalName(root)) +
                      "> in namespace '" + std::string(NamespaceUri(root)) +
                      "'; expected <omexManifest> in '" + std::string(kManifestNamespace) + "'");
  }
  std::vector<ManifestItem> items;
  for (const xmlNode* c = FirstChildElement(root); c != nullptr; c = NextElement(c)) {
    if (!Is(c, kManifestNamespace, "content")) continue;
    ManifestItem item;
    item.line = static_cast<int>(LineOf(c));
    if (!GetAttribute(c, "", "location", &item.location))
      return ContentError(c, "<content> without location");
    if (!GetAttribute(c, "", "format", &item.format) || item.format.empty()) {
      return ContentError(c, "<content location=\"" + item.location + "\"> without format");
    }
    std::string master;
    if (GetAttribute(c, "", "master", &master)) {
      if (master == "true" || master == "1") {
        item.master = true;
      } else if (master != "false" && master != "0") {
        return ContentError(c,
                            "master=\"" + master + "\" for '" + item.location + "'; expected true or false");
      }
    }
    items.push_back(std::move(item));
  }
  return items;
}

std::string WriteManifest(const std::vector<ManifestItem>& items) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<omexManifest xmlns=\"";
  out += kManifestNamespace;
  out += "\">\n";
  for (const ManifestItem& item : items) {
    out +=
        "  <content location=\"" + XmlEscape(item.location) + "\" format=\"" + XmlEscape(item.format) + "\"";
    if (item.master) out += " master=\"true\"";
    out += "/>\n";
  }
  out += "</omexManifest>\n";
  return out;
}

}  // namespace soma::formats::internal
