#include "formats/sbml/sbml_metadata.h"

#include <sbml/SBMLTypes.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <unordered_set>

#include "formats/common/identifiers.h"
#include "formats/sbml/sbml_diagnostics.h"
#include "formats/sbml/sbml_packages.h"
#include "formats/sbml/sbml_reader.h"

namespace soma::formats {
namespace {

constexpr int kMaxDepth = 32;  // annotations nest a few levels; hostile input nests thousands

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string CollapseWhitespace(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Text of an XHTML fragment; element boundaries separate words.
void AppendText(const ::XMLNode& node, std::string* out, int depth = 0) {
  if (depth > kMaxDepth) return;
  if (node.isText()) {
    *out += node.getCharacters();
    return;
  }
  *out += ' ';
  for (unsigned int i = 0; i < node.getNumChildren(); ++i) AppendText(node.getChild(i), out, depth + 1);
  *out += ' ';
}

// Text of the first element below `node` whose local name is in `names`.
std::string FindText(const ::XMLNode& node, std::initializer_list<std::string_view> names, int depth = 0) {
  if (depth > kMaxDepth) return "";
  for (unsigned int i = 0; i < node.getNumChildren(); ++i) {
    const ::XMLNode& c = node.getChild(i);
    if (!c.isElement()) continue;
    if (std::find(names.begin(), names.end(), c.getName()) != names.end()) {
      std::string text;
      AppendText(c, &text);
      text = CollapseWhitespace(text);
      if (!text.empty()) return text;
    }
    std::string found = FindText(c, names, depth + 1);
    if (!found.empty()) return found;
  }
  return "";
}

std::string FindOrcid(const ::XMLNode& node, int depth = 0) {
  if (depth > kMaxDepth) return "";
  if (node.isText()) {
    auto id = OrcidFromUri(Trim(node.getCharacters()));
    return id ? *id : "";
  }
  const ::XMLAttributes& attributes = node.getAttributes();
  for (int i = 0; i < attributes.getLength(); ++i) {
    if (auto id = OrcidFromUri(Trim(attributes.getValue(i)))) return *id;
  }
  for (unsigned int i = 0; i < node.getNumChildren(); ++i) {
    std::string found = FindOrcid(node.getChild(i), depth + 1);
    if (!found.empty()) return found;
  }
  return "";
}

// The rdf:li entries of dcterms:creator in the model's RDF annotation.
void CollectCreators(const ::XMLNode& node, bool in_creator, SbmlMetadata* out, int depth = 0) {
  if (depth > kMaxDepth) return;
  for (unsigned int i = 0; i < node.getNumChildren(); ++i) {
    const ::XMLNode& c = node.getChild(i);
    if (!c.isElement()) continue;
    if (in_creator && c.getName() == "li") {
      std::string given = FindText(c, {"Given", "given-name"});
      std::string family = FindText(c, {"Family", "family-name"});
      std::string name = Trim(given + " " + family);
      if (name.empty()) name = FindText(c, {"FN", "fn", "name"});
      std::string orcid = FindOrcid(c);
      if (!name.empty() || !orcid.empty()) out->creators.emplace_back(std::move(name), std::move(orcid));
      continue;
    }
    bool creator = c.getName() == "creator" && (c.getURI() == "http://purl.org/dc/terms/" ||
                                                c.getURI() == "http://purl.org/dc/elements/1.1/");
    CollectCreators(c, in_creator || creator, out, depth + 1);
  }
}

class Collector {
 public:
  explicit Collector(SbmlMetadata* out) : out_(out) {}

  void AddAnnotations(::SBase& element) {
    for (unsigned int i = 0; i < element.getNumCVTerms(); ++i) {
      const ::CVTerm* term = element.getCVTerm(i);
      if (term == nullptr) continue;
      for (unsigned int r = 0; r < term->getNumResources(); ++r) {
        std::string uri = Trim(term->getResourceURI(r));
        if (!uri.empty() && annotations_.insert(uri).second) out_->annotations.push_back(uri);
      }
    }
  }

  void AddReferences(::SBase& element) {
    for (unsigned int i = 0; i < element.getNumCVTerms(); ++i) {
      const ::CVTerm* term = element.getCVTerm(i);
      if (term == nullptr) continue;
      for (unsigned int r = 0; r < term->getNumResources(); ++r) {
        std::optional<std::string> ref = ReferenceFromUri(term->getResourceURI(r));
        if (ref && references_.insert(*ref).second) out_->references.push_back(*ref);
      }
    }
  }

  void Index(const ::SBase& element) {
    for (const std::string& word : {element.getId(), element.getName()}) {
      std::string w = CollapseWhitespace(word);
      if (w.empty() || !words_.insert(w).second) continue;
      if (!out_->index_text.empty()) out_->index_text += ' ';
      out_->index_text += w;
    }
  }

  template <typename ListOf>
  int Visit(ListOf* list) {
    if (list == nullptr) return 0;
    for (unsigned int i = 0; i < list->size(); ++i) {
      ::SBase* element = list->get(i);
      if (element == nullptr) continue;
      AddAnnotations(*element);
      Index(*element);
    }
    return static_cast<int>(list->size());
  }

 private:
  SbmlMetadata* out_;
  std::unordered_set<std::string> annotations_, references_, words_;
};

Result<SbmlMetadata> Extract(::SBMLDocument& doc) {
  std::string errors =
      internal::ErrorLines(doc, 0, {internal::kUnknownRequiredPackage, internal::kUnknownPackage});
  if (!errors.empty()) return ParseError("SBML document could not be read:\n" + errors);
  ::Model* m = doc.getModel();
  if (m == nullptr) return InvalidModel("SBML document contains no <model>");

  SbmlMetadata out;
  out.level = static_cast<int>(doc.getLevel());
  out.version = static_cast<int>(doc.getVersion());
  out.title = CollapseWhitespace(m->isSetName() ? m->getName() : m->getId());
  if (const ::XMLNode* notes = m->getNotes()) {
    std::string text;
    AppendText(*notes, &text);
    out.description = CollapseWhitespace(text);
  }
  if (const ::XMLNode* annotation = m->getAnnotation()) CollectCreators(*annotation, false, &out);

  Collector collect(&out);
  collect.AddAnnotations(*m);
  collect.AddReferences(*m);
  collect.Index(*m);
  out.compartments = collect.Visit(m->getListOfCompartments());
  out.species = collect.Visit(m->getListOfSpecies());
  out.parameters = collect.Visit(m->getListOfParameters());
  out.reactions = collect.Visit(m->getListOfReactions());
  out.events = collect.Visit(m->getListOfEvents());
  return out;
}

}  // namespace

Result<SbmlMetadata> ExtractSbmlMetadata(std::string_view sbml_xml) {
  try {
    std::lock_guard<std::mutex> lock(internal::LibsbmlMutex());
    ::SBMLReader reader;
    std::unique_ptr<::SBMLDocument> doc(reader.readSBMLFromString(internal::WithXmlDeclaration(sbml_xml)));
    if (doc == nullptr) return Internal("libSBML returned no document");
    return Extract(*doc);
  } catch (const ::SBMLConstructorException& e) {
    return ParseError(std::string("SBML document could not be read: libSBML rejected an element: ") +
                      e.what());
  } catch (const std::exception& e) {
    return Internal(std::string("SBML metadata: unexpected exception: ") + e.what());
  }
}

}  // namespace soma::formats
