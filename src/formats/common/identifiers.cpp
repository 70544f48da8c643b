#include "formats/common/identifiers.h"

#include <algorithm>
#include <cctype>

namespace soma::formats {
namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

// Removes the first matching prefix; true if one matched.
bool ConsumePrefix(std::string_view* s, std::initializer_list<std::string_view> prefixes) {
  for (std::string_view p : prefixes) {
    if (StartsWithNoCase(*s, p)) {
      s->remove_prefix(p.size());
      return true;
    }
  }
  return false;
}

// Drops "http://", "https://" and a leading "www.".
std::string_view StripScheme(std::string_view s) {
  ConsumePrefix(&s, {"https://", "http://"});
  ConsumePrefix(&s, {"www."});
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// MIRIAM URNs percent-encode '/' and ':' in DOIs.
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string_view TrimTrailingSlash(std::string_view s) {
  while (!s.empty() && (s.back() == '/' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

std::optional<std::string> PubmedId(std::string_view id) {
  id = TrimTrailingSlash(id);
  if (id.empty() || !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return "pubmed:" + std::string(id);
}

std::optional<std::string> Doi(std::string_view id) {
  std::string decoded = PercentDecode(id);
  std::string_view d = TrimTrailingSlash(decoded);
  if (d.size() < 4 || d.substr(0, 3) != "10.") return std::nullopt;
  if (std::any_of(d.begin(), d.end(), [](unsigned char c) { return std::isspace(c); })) return std::nullopt;
  return "doi:" + std::string(d);
}

}  // namespace

std::optional<std::string> ReferenceFromUri(std::string_view uri) {
  while (!uri.empty() && std::isspace(static_cast<unsigned char>(uri.front()))) uri.remove_prefix(1);
  while (!uri.empty() && std::isspace(static_cast<unsigned char>(uri.back()))) uri.remove_suffix(1);
  std::string_view s = uri;
  if (ConsumePrefix(&s, {"urn:miriam:pubmed:", "pubmed:", "pmid:"})) return PubmedId(s);
  if (ConsumePrefix(&s, {"urn:miriam:doi:", "doi:"})) return Doi(s);
  s = StripScheme(uri);
  if (ConsumePrefix(&s, {"identifiers.org/pubmed:", "identifiers.org/pubmed/", "pubmed.ncbi.nlm.nih.gov/",
                         "ncbi.nlm.nih.gov/pubmed/"})) {
    return PubmedId(s);
  }
  if (ConsumePrefix(&s, {"identifiers.org/doi:", "identifiers.org/doi/", "doi.org/", "dx.doi.org/"})) {
    return Doi(s);
  }
  return std::nullopt;
}

std::string ReferenceToUri(std::string_view reference) {
  if (StartsWithNoCase(reference, "doi:") || StartsWithNoCase(reference, "pubmed:")) {
    if (std::optional<std::string> canonical = ReferenceFromUri(reference)) {
      return "https://identifiers.org/" + *canonical;
    }
  }
  return std::string(reference);
}

std::optional<std::string> OrcidFromUri(std::string_view uri) {
  std::string_view s = StripScheme(uri);
  ConsumePrefix(&s, {"orcid.org/", "identifiers.org/orcid/", "identifiers.org/orcid:", "orcid:"});
  s = TrimTrailingSlash(s);
  // Four groups of four, the last character may be the checksum 'X'.
  if (s.size() != 19) return std::nullopt;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (i % 5 == 4)
                  ? c == '-'
                  : (std::isdigit(static_cast<unsigned char>(c)) || (i == 18 && (c == 'X' || c == 'x')));
    if (!ok) return std::nullopt;
  }
  std::string id(s);
  if (id.back() == 'x') id.back() = 'X';
  return id;
}

std::string OrcidToUri(std::string_view orcid) { return "https://orcid.org/" + std::string(orcid); }

}  // namespace soma::formats
