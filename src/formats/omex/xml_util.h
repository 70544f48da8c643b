#pragma once
// Internal: libxml2 behind an RAII owner, and the few tree helpers the
// manifest and RDF readers need; XML text escaping for the writers.

#include <libxml/tree.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace soma::formats::internal {

struct XmlDocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocFree>;

// Parses `bytes` without touching the network, loading DTDs or expanding
// external entities. `what` names the file in errors: kParseError
// "<what>: line N: <libxml2 message>" for XML that is not well formed.
Result<XmlDocPtr> ParseXml(std::string_view bytes, std::string_view what);

// 1-based source line of `node` (0 if unknown).
long LineOf(const xmlNode* node);

// Local name and namespace URI of an element ("" when it has none).
std::string_view LocalName(const xmlNode* node);
std::string_view NamespaceUri(const xmlNode* node);
bool Is(const xmlNode* node, std::string_view ns, std::string_view local);

// Value of attribute `local` in namespace `ns` ("" = no namespace), or
// nullopt-like empty + false when absent.
bool GetAttribute(const xmlNode* node, std::string_view ns, std::string_view local, std::string* value);

// The concatenated text content of `node` and its descendants.
std::string TextContent(const xmlNode* node);

// Child elements of `node` (skips text, comments, ...).
const xmlNode* FirstChildElement(const xmlNode* node);
const xmlNode* NextElement(const xmlNode* node);

// `text` with &, <, > and " escaped for element content and attribute values.
std::string XmlEscape(std::string_view text);

// Valid UTF-8 without characters XML 1.0 forbids (C0 controls other than
// tab, LF, CR).
bool IsXmlSafeText(std::string_view text);

}  // namespace soma::formats::internal
