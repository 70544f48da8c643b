#include "server/content_index.h"

#include <algorithm>

#include "formats/sbml/sbml_metadata.h"

namespace soma::server {

namespace {

void AppendUnique(std::vector<std::string>* list, const std::string& value) {
  if (std::find(list->begin(), list->end(), value) == list->end()) list->push_back(value);
}

}  // namespace

bool LooksLikeSbml(std::string_view bytes) {
  // Skip the XML declaration, comments and whitespace before the root.
  size_t pos = 0;
  while (pos < bytes.size()) {
    pos = bytes.find('<', pos);
    if (pos == std::string_view::npos || pos + 1 >= bytes.size()) return false;
    char next = bytes[pos + 1];
    if (next == '?' || next == '!') {
      ++pos;
      continue;
    }
    std::string_view tag = bytes.substr(pos + 1, 5);
    // "<sbml" or a prefixed "<x:sbml".
    if (tag.rfind("sbml", 0) == 0) return true;
    size_t colon = bytes.find(':', pos);
    size_t space = bytes.find_first_of(" >\t\r\n", pos);
    return colon != std::string_view::npos && colon < space && bytes.substr(colon + 1, 4) == "sbml";
  }
  return false;
}

void IndexContent(repo::NewVersion* v) {
  for (const auto& file : v->files) {
    if (!LooksLikeSbml(file.bytes)) continue;
    auto md = formats::ExtractSbmlMetadata(file.bytes);
    if (!md.ok()) continue;
    if (!md->index_text.empty()) {
      if (!v->index_text.empty()) v->index_text += "\n";
      v->index_text += md->index_text;
    }
    for (const auto& uri : md->annotations) AppendUnique(&v->annotations, uri);
  }
}

Result<repo::Metadata> MetadataFromSbml(std::string_view xml) {
  SOMA_ASSIGN_OR_RETURN(auto md, formats::ExtractSbmlMetadata(xml));
  repo::Metadata m;
  m.title = md.title;
  m.description = md.description;
  for (const auto& [name, orcid] : md.creators) m.creators.push_back({name, orcid});
  m.references = md.references;
  m.annotations = md.annotations;
  // SBML has no licence element and ExtractSbmlMetadata reports none, so
  // models get the default licence of Soma's bundled content.
  m.license = "CC-BY-4.0";
  return m;
}

}  // namespace soma::server
