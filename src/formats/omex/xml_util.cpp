#include "formats/omex/xml_util.h"

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include <cstdint>
#include <limits>

namespace soma::formats::internal {
namespace {

struct ParserCtxtFree {
  void operator()(xmlParserCtxt* ctxt) const { xmlFreeParserCtxt(ctxt); }
};

const char* Chars(const xmlChar* s) { return reinterpret_cast<const char*>(s); }

std::string TrimMessage(const char* message) {
  std::string out = message == nullptr ? "not well-formed" : message;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// libxml2 keeps only the last error; the first one is the one to report.
struct FirstError {
  bool set = false;
  long line = 0;
  std::string message;
};

void RecordError(void* user_data, xmlError* error) {
  auto* ctxt = static_cast<xmlParserCtxt*>(user_data);
  auto* first = static_cast<FirstError*>(ctxt->_private);
  if (first == nullptr || first->set || error == nullptr || error->level < XML_ERR_ERROR) return;
  first->set = true;
  first->line = error->line;
  first->message = TrimMessage(error->message);
}

void IgnoreGenericError(void*, const char*, ...) {}

// libxml2 prints some errors (e.g. encoding conversion) through its generic
// handler, which writes to stderr whatever the parser options say. Silence it
// on this thread for the duration of a parse; errors are reported through
// the Status instead.
class QuietGenericErrors {
 public:
  QuietGenericErrors() : handler_(xmlGenericError), context_(xmlGenericErrorContext) {
    xmlSetGenericErrorFunc(nullptr, IgnoreGenericError);
  }
  ~QuietGenericErrors() { xmlSetGenericErrorFunc(context_, handler_); }
  QuietGenericErrors(const QuietGenericErrors&) = delete;
  QuietGenericErrors& operator=(const QuietGenericErrors&) = delete;

 private:
  xmlGenericErrorFunc handler_;
  void* context_;
};

}  // namespace

Result<XmlDocPtr> ParseXml(std::string_view bytes, std::string_view what) {
  // xmlInitParser must run once before threads use the parser.
  static const bool initialised = [] {
    xmlInitParser();
    return true;
  }();
  (void)initialised;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return ParseError(std::string(what) + ": too large to parse");
  }
  std::unique_ptr<xmlParserCtxt, ParserCtxtFree> ctxt(xmlNewParserCtxt());
  if (ctxt == nullptr) return Internal("libxml2 could not create a parser");
  // No network, no DTD loading, no entity substitution (XXE), quiet.
  constexpr int kOptions = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES;
  QuietGenericErrors quiet;
  FirstError first;
  ctxt->_private = &first;
  ctxt->sax->serror = RecordError;
  XmlDocPtr doc(xmlCtxtReadMemory(ctxt.get(), bytes.data(), static_cast<int>(bytes.size()), nullptr, nullptr,
                                  kOptions));
  const xmlError* error = xmlCtxtGetLastError(ctxt.get());
  if (doc == nullptr || !ctxt->wellFormed || (error != nullptr && error->level >= XML_ERR_ERROR)) {
    std::string message = std::string(what) + ": not well-formed XML";
    if (first.set) {
      message += ": line " + std::to_string(first.line) + ": " + first.message;
    } else if (error != nullptr && error->code != XML_ERR_OK) {
      message += ": line " + std::to_string(error->line) + ": " + TrimMessage(error->message);
    }
    return ParseError(message);
  }
  if (xmlDocGetRootElement(doc.get()) == nullptr) return ParseError(std::string(what) + ": no root element");
  return doc;
}

long LineOf(const xmlNode* node) { return xmlGetLineNo(node); }

std::string_view LocalName(const xmlNode* node) { return node->name == nullptr ? "" : Chars(node->name); }

std::string_view NamespaceUri(const xmlNode* node) {
  return node->ns == nullptr || node->ns->href == nullptr ? "" : Chars(node->ns->href);
}

bool Is(const xmlNode* node, std::string_view ns, std::string_view local) {
  return node != nullptr && node->type == XML_ELEMENT_NODE && NamespaceUri(node) == ns &&
         LocalName(node) == local;
}

bool GetAttribute(const xmlNode* node, std::string_view ns, std::string_view local, std::string* value) {
  for (const xmlAttr* a = node->properties; a != nullptr; a = a->next) {
    std::string_view a_ns = a->ns == nullptr || a->ns->href == nullptr ? "" : Chars(a->ns->href);
    if (a_ns != ns || a->name == nullptr || Chars(a->name) != local) continue;
    xmlChar* v = xmlNodeListGetString(node->doc, a->children, 1);
    *value = v == nullptr ? "" : Chars(v);
    xmlFree(v);
    return true;
  }
  return false;
}

std::string TextContent(const xmlNode* node) {
  xmlChar* v = xmlNodeGetContent(node);
  std::string out = v == nullptr ? "" : Chars(v);
  xmlFree(v);
  return out;
}

const xmlNode* FirstChildElement(const xmlNode* node) {
  const xmlNode* c = node->children;
  while (c != nullptr && c->type != XML_ELEMENT_NODE) c = c->next;
  return c;
}

const xmlNode* NextElement(const xmlNode* node) {
  const xmlNode* c = node->next;
  while (c != nullptr && c->type != XML_ELEMENT_NODE) c = c->next;
  return c;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\r':
        out += "&#13;";
        break;  // kept through attribute/line-end normalisation
      case '\t':
        out += "&#9;";
        break;
      case '\n':
        out += "&#10;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool IsXmlSafeText(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
      ++i;
      continue;
    }
    int extra = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (extra < 0 || i + extra >= text.size()) return false;
    uint32_t cp = c & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates, beyond U+10FFFF, and U+FFFE/U+FFFF.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF || cp == 0xFFFE || cp == 0xFFFF) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace soma::formats::internal
