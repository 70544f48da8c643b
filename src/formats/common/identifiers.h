#pragma once
// Identifiers shared by the metadata readers of several formats (SBML
// annotations, COMBINE/OMEX metadata): publication references and ORCIDs,
// recognised in the URI spellings found in real files and turned into one
// short canonical form, and back.
//
// Pure functions on strings; thread safe; never fail (an unrecognised input
// gives std::nullopt or is returned unchanged, as documented per function).

#include <optional>
#include <string>
#include <string_view>

namespace soma::formats {

// "doi:10.1000/xyz" or "pubmed:12345" for a URI or CURIE that names a
// publication, nullopt for anything else. Recognised spellings (http or
// https, case-insensitive scheme and host):
//   identifiers.org/doi:10.1/x, identifiers.org/doi/10.1/x,
//   identifiers.org/pubmed:123, identifiers.org/pubmed/123,
//   doi.org/10.1/x, dx.doi.org/10.1/x,
//   pubmed.ncbi.nlm.nih.gov/123, www.ncbi.nlm.nih.gov/pubmed/123,
//   urn:miriam:doi:10.1/x, urn:miriam:pubmed:123 (percent escapes decoded),
//   doi:10.1/x, pubmed:123 (also PMID:123).
// A PubMed id must be all digits and a DOI must start with "10.".
std::optional<std::string> ReferenceFromUri(std::string_view uri);

// The resolvable URI for a reference: "doi:X" -> "https://identifiers.org/doi:X",
// "pubmed:N" -> "https://identifiers.org/pubmed:N"; any other text is returned
// unchanged (e.g. a URL that is already resolvable).
std::string ReferenceToUri(std::string_view reference);

// The bare ORCID iD ("0000-0002-1825-0097", last character a digit or X) in
// an orcid.org URL, an identifiers.org/orcid URI (either "/orcid/" or
// "/orcid:" form), "orcid:..." or a bare iD; nullopt for anything else.
std::optional<std::string> OrcidFromUri(std::string_view uri);

// "https://orcid.org/<id>" for a bare ORCID iD.
std::string OrcidToUri(std::string_view orcid);

}  // namespace soma::formats
