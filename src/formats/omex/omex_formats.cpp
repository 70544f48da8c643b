// Format URIs and media types for archive entries.

#include <algorithm>
#include <array>
#include <cctype>

#include "formats/omex/omex.h"

namespace soma::formats {
namespace {

constexpr std::string_view kSpecPrefix = "http://identifiers.org/combine.specifications/";

struct Known {
  std::string_view extension;   // lower case, without the dot
  std::string_view media_type;  // what the file is served as
  std::string_view format;      // empty: media type under kMediaTypeFormatPrefix
};

// First match wins in both directions.
constexpr std::array kKnown = {
    Known{"xml", "application/sbml+xml", kSbmlFormat},
    Known{"sbml", "application/sbml+xml", kSbmlFormat},
    Known{"sedml", "application/sedml+xml", "http://identifiers.org/combine.specifications/sed-ml"},
    Known{"cellml", "application/cellml+xml", "http://identifiers.org/combine.specifications/cellml"},
    Known{"sbgn", "application/sbgn+xml", "http://identifiers.org/combine.specifications/sbgn"},
    Known{"rdf", "application/rdf+xml", kOmexMetadataFormat},
    Known{"omex", "application/omex", kOmexFormat},
    Known{"csv", "text/csv", ""},
    Known{"tsv", "text/tab-separated-values", ""},
    Known{"json", "application/json", ""},
    Known{"yaml", "application/x-yaml", ""},
    Known{"yml", "application/x-yaml", ""},
    Known{"md", "text/markdown", ""},
    Known{"txt", "text/plain", ""},
    Known{"html", "text/html", ""},
    Known{"pdf", "application/pdf", ""},
    Known{"png", "image/png", ""},
    Known{"jpg", "image/jpeg", ""},
    Known{"jpeg", "image/jpeg", ""},
    Known{"svg", "image/svg+xml", ""},
    Known{"zip", "application/zip", ""},
    Known{"h5", "application/x-hdf5", ""},
};

// Media types other tools use for the same formats.
struct Alias {
  std::string_view media_type;
  std::string_view format;
};
constexpr std::array kAliases = {
    Alias{"application/sed-ml+xml", "http://identifiers.org/combine.specifications/sed-ml"},
    Alias{"application/zip+omex", kOmexFormat},
    Alias{"application/vnd.combine.omex", kOmexFormat},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string FormatOf(const Known& k) {
  return k.format.empty() ? std::string(kMediaTypeFormatPrefix) + std::string(k.media_type)
                          : std::string(k.format);
}

}  // namespace

std::string FormatForPath(std::string_view path) {
  size_t slash = path.find_last_of("/\\");
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos) {
    std::string ext = Lower(name.substr(dot + 1));
    for (const Known& k : kKnown) {
      if (k.extension == ext) return FormatOf(k);
    }
  }
  return std::string(kMediaTypeFormatPrefix) + "application/octet-stream";
}

std::string FormatForMediaType(std::string_view media_type) {
  std::string type = Lower(Trim(media_type.substr(0, media_type.find(';'))));
  for (const Known& k : kKnown) {
    if (k.media_type == type) return FormatOf(k);
  }
  for (const Alias& a : kAliases) {
    if (a.media_type == type) return std::string(a.format);
  }
  return std::string(kMediaTypeFormatPrefix) + type;
}

std::string MediaTypeForFormat(std::string_view format) {
  for (std::string_view prefix :
       {kMediaTypeFormatPrefix, std::string_view("https://purl.org/NET/mediatypes/")}) {
    if (format.substr(0, prefix.size()) == prefix && format.size() > prefix.size()) {
      return Lower(format.substr(prefix.size()));
    }
  }
  // ".../sbml.level-3.version-2" is SBML like ".../sbml". The https form is
  // accepted too.
  std::string_view spec = format;
  for (std::string_view prefix :
       {kSpecPrefix, std::string_view("https://identifiers.org/combine.specifications/")}) {
    if (spec.substr(0, prefix.size()) == prefix) spec = spec.substr(prefix.size());
  }
  if (spec.size() != format.size()) {
    std::string_view family = spec.substr(0, spec.find('.'));
    for (const Known& k : kKnown) {
      if (!k.format.empty() && k.format.substr(kSpecPrefix.size()) == family)
        return std::string(k.media_type);
    }
    if (family == "omex-manifest") return "application/xml";
  }
  return "application/octet-stream";
}

std::string SbmlFormat(int level, int version) {
  return std::string(kSbmlFormat) + ".level-" + std::to_string(level) + ".version-" + std::to_string(version);
}

}  // namespace soma::formats
