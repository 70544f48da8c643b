// Writing archive metadata in the style libCombine reads: one rdf:Description
// about ".", vCard 4 creators, W3CDTF dates.

#include <algorithm>
#include <cctype>

#include "formats/common/identifiers.h"
#include "formats/omex/omex_metadata.h"
#include "formats/omex/xml_util.h"

namespace soma::formats::internal {
namespace {

// Best effort for readers that only know vCard's structured name: the last
// word is the family name. vCard:fn keeps the name exactly as given.
std::pair<std::string, std::string> SplitName(const std::string& name) {
  size_t space = name.find_last_of(' ');
  if (space == std::string::npos) return {"", name};
  return {name.substr(0, space), name.substr(space + 1)};
}

// "scheme:rest" without spaces (RFC 3986 scheme: a letter, then letters,
// digits, '+', '-', '.').
bool LooksLikeUri(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || !std::isalpha(static_cast<unsigned char>(s[0])))
    return false;
  for (size_t i = 1; i < colon; ++i) {
    char c = s[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  }
  return std::none_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

// SPDX licence ids: letters, digits, '.', '-', '+'.
bool LooksLikeSpdxId(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == '+';
  });
}

void Literal(std::string* out, std::string_view property, const std::string& value) {
  *out += "    <" + std::string(property) + ">" + XmlEscape(value) + "</" + std::string(property) + ">\n";
}

void Resource(std::string* out, std::string_view property, const std::string& uri) {
  *out += "    <" + std::string(property) + " rdf:resource=\"" + XmlEscape(uri) + "\"/>\n";
}

void Date(std::string* out, std::string_view property, const std::string& value) {
  *out += "    <" + std::string(property) + " rdf:parseType=\"Resource\">\n      <dcterms:W3CDTF>" +
          XmlEscape(value) + "</dcterms:W3CDTF>\n    </" + std::string(property) + ">\n";
}

}  // namespace

std::string WriteMetadataRdf(const OmexMetadata& m) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"\n"
      "         xmlns:dcterms=\"http://purl.org/dc/terms/\"\n"
      "         xmlns:vCard=\"http://www.w3.org/2006/vcard/ns#\"\n"
      "         xmlns:bqmodel=\"http://biomodels.net/model-qualifiers/\">\n"
      "  <rdf:Description rdf:about=\".\">\n";
  if (!m.title.empty()) Literal(&out, "dcterms:title", m.title);
  if (!m.description.empty()) Literal(&out, "dcterms:description", m.description);
  if (!m.creators.empty()) {
    out += "    <dcterms:creator>\n      <rdf:Bag>\n";
    for (const auto& [name, orcid] : m.creators) {
      out += "        <rdf:li rdf:parseType=\"Resource\">\n";
      if (!name.empty()) {
        auto [given, family] = SplitName(name);
        out += "          <vCard:fn>" + XmlEscape(name) + "</vCard:fn>\n";
        out += "          <vCard:hasName rdf:parseType=\"Resource\">\n";
        out += "            <vCard:family-name>" + XmlEscape(family) + "</vCard:family-name>\n";
        if (!given.empty())
          out += "            <vCard:given-name>" + XmlEscape(given) + "</vCard:given-name>\n";
        out += "          </vCard:hasName>\n";
      }
      if (!orcid.empty())
        out += "          <vCard:hasUID rdf:resource=\"" + XmlEscape(OrcidToUri(orcid)) + "\"/>\n";
      out += "        </rdf:li>\n";
    }
    out += "      </rdf:Bag>\n    </dcterms:creator>\n";
  }
  if (LooksLikeSpdxId(m.license)) {
    Resource(&out, "dcterms:license", "https://spdx.org/licenses/" + m.license);
  } else if (LooksLikeUri(m.license)) {
    Resource(&out, "dcterms:license", m.license);
  } else if (!m.license.empty()) {
    Literal(&out, "dcterms:license", m.license);  // free text, e.g. "All rights reserved"
  }
  for (const std::string& k : m.keywords) Literal(&out, "dcterms:subject", k);
  for (const std::string& r : m.references) Resource(&out, "bqmodel:isDescribedBy", ReferenceToUri(r));
  if (!m.created.empty()) Date(&out, "dcterms:created", m.created);
  if (!m.modified.empty()) Date(&out, "dcterms:modified", m.modified);
  out += "  </rdf:Description>\n</rdf:RDF>\n";
  return out;
}

}  // namespace soma::formats::internal
