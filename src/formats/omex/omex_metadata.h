#pragma once
// Internal: archive-level RDF metadata (metadata.rdf).

#include <string>
#include <string_view>

#include "core/status.h"
#include "formats/omex/omex.h"

namespace soma::formats::internal {

// Merges what RDF/XML `bytes` states about the archive itself (subjects
// ".", "./", "" or a URI ending in ".omex") into `metadata`: fields already
// set are kept, lists are extended without duplicates, `modified` keeps the
// latest. Understands Dublin Core terms (dcterms: and dc:), vCard 3 and 4
// names, foaf:name, ORCID URIs, BioModels qualifiers and prism:keyword.
// `file_name` names the file in errors: kParseError for XML that is not
// well formed (with line) or whose root is not rdf:RDF.
Status ReadMetadataRdf(std::string_view bytes, std::string_view file_name, OmexMetadata* metadata);

// RDF/XML describing "." with the non-empty fields of `metadata`. Text must
// be XML-safe.
std::string WriteMetadataRdf(const OmexMetadata& metadata);

}  // namespace soma::formats::internal
