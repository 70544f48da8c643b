// Reading archive metadata. RDF/XML allows many spellings of one graph; this
// reader walks the XML tree and understands the ones COMBINE tools write
// (libCombine, the OMEX Metadata specification 1.2, BioSimulators) rather
// than building a general triple store.

#include <algorithm>
#include <cctype>
#include <optional>

#include "formats/common/identifiers.h"
#include "formats/omex/omex_metadata.h"
#include "formats/omex/xml_util.h"

namespace soma::formats::internal {
namespace {

constexpr std::string_view kRdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
constexpr std::string_view kDcTerms = "http://purl.org/dc/terms/";
constexpr std::string_view kDcElements = "http://purl.org/dc/elements/1.1/";
constexpr std::string_view kBqModel = "http://biomodels.net/model-qualifiers/";
constexpr std::string_view kBqBiol = "http://biomodels.net/biology-qualifiers/";
constexpr int kMaxDepth = 16;  // creators nest a few levels; hostile input nests thousands

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

bool IsDc(const xmlNode* node, std::string_view local) {
  return Is(node, kDcTerms, local) || Is(node, kDcElements, local);
}

std::string RdfAttribute(const xmlNode* node, std::string_view local) {
  std::string value;
  GetAttribute(node, kRdf, local, &value);
  return Trim(value);
}

bool IsContainer(const xmlNode* node) {
  return Is(node, kRdf, "Bag") || Is(node, kRdf, "Seq") || Is(node, kRdf, "Alt");
}

bool IsArchiveSubject(std::string_view about) {
  std::string s = Trim(about);
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (s.empty() || s == "." || s == "./") return true;
  constexpr std::string_view kSuffix = ".omex";
  return s.size() > kSuffix.size() && s.compare(s.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

template <typename T>
void AddUnique(std::vector<T>* list, T value) {
  if (std::find(list->begin(), list->end(), value) == list->end()) list->push_back(std::move(value));
}

// The objects of a property element: a resource attribute, a parseType
// Resource property (the node itself), or the members of a container / the
// nested node descriptions.
struct Object {
  std::string uri;                // rdf:resource / rdf:about, if any
  const xmlNode* node = nullptr;  // where the object's own properties are
  std::string literal;            // text, when the object is a literal
};

std::vector<Object> ObjectsOf(const xmlNode* property) {
  std::vector<Object> out;
  std::string resource = RdfAttribute(property, "resource");
  if (!resource.empty()) return {{resource, nullptr, ""}};
  if (RdfAttribute(property, "parseType") == "Resource") return {{"", property, ""}};
  const xmlNode* child = FirstChildElement(property);
  if (child == nullptr) return {{"", nullptr, Trim(TextContent(property))}};
  for (; child != nullptr; child = NextElement(child)) {
    if (!IsContainer(child)) {
      out.push_back({RdfAttribute(child, "about"), child, ""});
      continue;
    }
    for (const xmlNode* li = FirstChildElement(child); li != nullptr; li = NextElement(li)) {
      if (!Is(li, kRdf, "li")) continue;
      std::vector<Object> inner = ObjectsOf(li);
      out.insert(out.end(), inner.begin(), inner.end());
    }
  }
  return out;
}

// Depth-first search below `node` for the text of an element whose local
// name is one of `names`.
std::string FindText(const xmlNode* node, std::initializer_list<std::string_view> names, int depth = 0) {
  if (node == nullptr || depth > kMaxDepth) return "";
  for (const xmlNode* c = FirstChildElement(node); c != nullptr; c = NextElement(c)) {
    for (std::string_view n : names) {
      if (LocalName(c) == n && FirstChildElement(c) == nullptr) {
        std::string text = Trim(TextContent(c));
        if (!text.empty()) return text;
      }
    }
    std::string found = FindText(c, names, depth + 1);
    if (!found.empty()) return found;
  }
  return "";
}

// An ORCID iD anywhere below `node`: rdf:resource / rdf:about attributes or
// element text.
std::string FindOrcid(const xmlNode* node, int depth = 0) {
  if (node == nullptr || depth > kMaxDepth) return "";
  for (std::string_view attr : {"about", "resource"}) {
    if (auto id = OrcidFromUri(RdfAttribute(node, attr))) return *id;
  }
  for (const xmlNode* c = FirstChildElement(node); c != nullptr; c = NextElement(c)) {
    if (FirstChildElement(c) == nullptr) {
      if (auto id = OrcidFromUri(Trim(TextContent(c)))) return *id;
    }
    std::string found = FindOrcid(c, depth + 1);
    if (!found.empty()) return found;
  }
  return "";
}

std::string PersonName(const xmlNode* node) {
  if (node == nullptr) return "";
  std::string full = FindText(node, {"fn", "FN", "name"});
  if (!full.empty()) return full;
  std::string given = FindText(node, {"given-name", "Given", "givenName", "firstName"});
  std::string family = FindText(node, {"family-name", "Family", "familyName", "surname", "lastName"});
  return Trim(given + " " + family);
}

class Reader {
 public:
  Reader(const xmlNode* root, OmexMetadata* out) : out_(out) {
    for (const xmlNode* d = FirstChildElement(root); d != nullptr; d = NextElement(d)) {
      std::string about = RdfAttribute(d, "about");
      if (!about.empty()) by_subject_.emplace_back(about, d);
    }
  }

  void ReadDescription(const xmlNode* description) {
    for (const xmlNode* p = FirstChildElement(description); p != nullptr; p = NextElement(p)) {
      ReadProperty(p);
    }
  }

 private:
  void SetOnce(std::string* field, std::string value) {
    if (field->empty()) *field = std::move(value);
  }

  void ReadProperty(const xmlNode* p) {
    if (IsDc(p, "title")) {
      SetOnce(&out_->title, Trim(TextContent(p)));
    } else if (IsDc(p, "description") || IsDc(p, "abstract")) {
      SetOnce(&out_->description, Trim(TextContent(p)));
    } else if (IsDc(p, "creator")) {
      for (const Object& o : ObjectsOf(p)) AddCreator(o);
    } else if (IsDc(p, "license") || IsDc(p, "rights")) {
      for (const Object& o : ObjectsOf(p))
        SetOnce(&out_->license, License(o.uri.empty() ? o.literal : o.uri));
    } else if (IsDc(p, "subject") || LocalName(p) == "keyword" || LocalName(p) == "keywords") {
      for (const Object& o : ObjectsOf(p)) {
        if (!o.literal.empty()) AddUnique(&out_->keywords, o.literal);
      }
    } else if (Is(p, kBqModel, "isDescribedBy") || Is(p, kBqBiol, "isDescribedBy") || IsDc(p, "references")) {
      for (const Object& o : ObjectsOf(p)) AddReference(o.uri.empty() ? o.literal : o.uri);
    } else if (IsDc(p, "created")) {
      SetOnce(&out_->created, Date(p));
    } else if (IsDc(p, "modified")) {
      std::string date = Date(p);
      if (date > out_->modified) out_->modified = date;
    }
  }

  static std::string Date(const xmlNode* p) {
    std::string w3c = FindText(p, {"W3CDTF"});
    return w3c.empty() ? Trim(TextContent(p)) : w3c;
  }

  static std::string License(std::string value) {
    for (std::string_view prefix : {"https://spdx.org/licenses/", "http://spdx.org/licenses/"}) {
      if (value.rfind(prefix, 0) == 0) {
        std::string id = value.substr(prefix.size());
        for (std::string_view ext : {".html", ".json"}) {
          if (id.size() > ext.size() && id.compare(id.size() - ext.size(), ext.size(), ext) == 0) {
            id.resize(id.size() - ext.size());
          }
        }
        if (!id.empty() && id.find('/') == std::string::npos) return id;
      }
    }
    return value;
  }

  void AddReference(const std::string& uri) {
    if (uri.empty()) return;
    std::optional<std::string> ref = ReferenceFromUri(uri);
    AddUnique(&out_->references, ref ? *ref : uri);
  }

  void AddCreator(const Object& o) {
    std::string name = o.node != nullptr ? PersonName(o.node) : o.uri.empty() ? o.literal : "";
    std::string orcid;
    if (auto id = OrcidFromUri(o.uri)) orcid = *id;
    if (orcid.empty()) orcid = FindOrcid(o.node);
    if (name.empty() && !o.uri.empty()) {
      // The person may be described by a top-level node about the same URI.
      for (const auto& [subject, node] : by_subject_) {
        bool same = subject == o.uri || (!orcid.empty() && OrcidFromUri(subject) == orcid);
        if (same) name = PersonName(node);
        if (!name.empty()) break;
      }
    }
    if (name.empty() && orcid.empty()) return;
    AddUnique(&out_->creators, {name, orcid});
  }

  OmexMetadata* out_;
  std::vector<std::pair<std::string, const xmlNode*>> by_subject_;
};

}  // namespace

Status ReadMetadataRdf(std::string_view bytes, std::string_view file_name, OmexMetadata* metadata) {
  SOMA_ASSIGN_OR_RETURN(XmlDocPtr doc, ParseXml(bytes, file_name));
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!Is(root, kRdf, "RDF")) {
    return ParseError(std::string(file_name) + ": root element is <" + std::string(LocalName(root)) +
                      ">; expected <rdf:RDF> in '" + std::string(kRdf) + "'");
  }
  Reader reader(root, metadata);
  for (const xmlNode* d = FirstChildElement(root); d != nullptr; d = NextElement(d)) {
    std::string about;
    if (!GetAttribute(d, kRdf, "about", &about)) continue;
    if (IsArchiveSubject(about)) reader.ReadDescription(d);
  }
  return Status::Ok();
}

}  // namespace soma::formats::internal
