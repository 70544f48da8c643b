#pragma once
// What the server learns from a model file's content: SBML documents among
// pushed files are read (formats::ExtractSbmlMetadata) so that search finds
// a model by the names and ids of its species, parameters, compartments and
// reactions, and its identifiers.org annotations are recorded.

#include <string_view>

#include "core/status.h"
#include "repo/repository.h"
#include "repo/types.h"

namespace soma::server {

// True when `bytes` is an XML document whose root element is <sbml> (the
// file name is not trusted; content decides).
bool LooksLikeSbml(std::string_view bytes);

// Appends the index text and annotations of every SBML file in v->files to
// v->index_text and v->annotations. A file that cannot be read as SBML is
// still stored, only not indexed: indexing never fails a push.
void IndexContent(repo::NewVersion* v);

// Metadata for a resource made from an SBML model: title (model name, else
// id), description (notes as text), creators, references and annotations
// from its RDF. The licence is "CC-BY-4.0" (SBML has no licence element).
// kParseError when the document cannot be read.
Result<repo::Metadata> MetadataFromSbml(std::string_view xml);

}  // namespace soma::server
