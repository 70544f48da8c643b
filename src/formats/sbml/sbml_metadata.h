#pragma once
// What an SBML document says about itself, for the repository's catalogue
// and full-text search: title, notes, creators, publications, MIRIAM /
// identifiers.org annotations, the names of its elements and their counts.
// Reading only: nothing is converted, validated or simulated, so this also
// works for models the importer (sbml_import.h) cannot simulate, e.g. ones
// using the qual or distrib packages.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace soma::formats {

struct SbmlMetadata {
  std::string title;        // the model's name, or its id when it has no name
  std::string description;  // the model's <notes> as plain text: tags removed,
                            // whitespace runs collapsed to one space, trimmed
  // Creators from the model history (dcterms:creator in the model's RDF
  // annotation, vCard 3 or 4): ("Given Family", ORCID iD). The name is
  // vCard's formatted name when there is no structured one. The ORCID iD is
  // the bare "0000-0002-1825-0097" form, found in any identifiers.org/orcid
  // or orcid.org URI (resource or text) inside the creator's entry; empty
  // when there is none.
  std::vector<std::pair<std::string, std::string>> creators;
  // "doi:10..." / "pubmed:123" for every publication URI (identifiers.org,
  // doi.org, urn:miriam, ...; see formats/common/identifiers.h) among the
  // model's own CV terms, whatever the qualifier (bqmodel:isDescribedBy,
  // bqmodel:is, ...). Deduplicated, in document order.
  std::vector<std::string> references;
  // Every CV-term resource URI, as written, on the model, compartments,
  // species, reactions, parameters and events. Deduplicated, in document
  // order (model first).
  std::vector<std::string> annotations;
  // Ids and names of the model, compartments, species, parameters,
  // reactions and events, separated by single spaces; each distinct string
  // once. For full-text search.
  std::string index_text;
  // Element counts of the top-level model (comp submodels not included).
  int species = 0;
  int reactions = 0;
  int parameters = 0;
  int compartments = 0;
  int events = 0;
  // SBML Level and Version of the document as written.
  int level = 0;
  int version = 0;
};

// Reads `sbml_xml` with libSBML and extracts its metadata.
// Errors:
//   kParseError    the XML is not well formed or libSBML reports an error
//                  reading it; the message lists each error as "line N: ..."
//                  (unknown packages are not errors here).
//   kInvalidModel  the document has no <model>.
// Thread safety: may be called from any thread; libSBML use is serialised
// with the importer's. Never throws.
Result<SbmlMetadata> ExtractSbmlMetadata(std::string_view sbml_xml);

}  // namespace soma::formats
