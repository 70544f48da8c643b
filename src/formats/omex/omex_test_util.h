#pragma once
// Test support: archives built file by file, bypassing WriteOmex's checks so
// that broken archives can be made.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "formats/omex/zip_io.h"

namespace soma::formats::testing {

inline constexpr std::string_view kSbmlL3V2 =
    "http://identifiers.org/combine.specifications/sbml.level-3.version-2";

// A manifest.xml listing (location, format) pairs after the archive itself.
inline std::string Manifest(const std::vector<std::pair<std::string, std::string>>& contents) {
  std::string out = R"(<?xml version="1.0" encoding="UTF-8"?>
<omexManifest xmlns="http://identifiers.org/combine.specifications/omex-manifest">
  <content location="." format="http://identifiers.org/combine.specifications/omex"/>
)";
  for (const auto& [location, format] : contents) {
    out += "  <content location=\"" + location + "\" format=\"" + format + "\"/>\n";
  }
  return out + "</omexManifest>\n";
}

// A zip of (name, bytes) pairs, names used verbatim.
inline std::string Zip(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<internal::ZipFile> list;
  for (const auto& [name, bytes] : files) list.push_back({name, bytes});
  Result<std::string> zip = internal::WriteZip(list);
  EXPECT_TRUE(zip.ok()) << zip.status().ToString();
  return zip.ok() ? *zip : std::string();
}

}  // namespace soma::formats::testing
