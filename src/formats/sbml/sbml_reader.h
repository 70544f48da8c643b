#pragma once
// Internal: what every reader of SBML text in this library shares.

#include <mutex>
#include <string>
#include <string_view>

namespace soma::formats::internal {

// libSBML's extension and resolver registries are process-wide; one reader
// at a time keeps them consistent. Held while any libSBML document exists.
std::mutex& LibsbmlMutex();

// libSBML prepends an XML declaration plus a newline to text lacking one,
// which would shift every reported line by one; supply it on the same line.
// A UTF-8 byte order mark is dropped.
std::string WithXmlDeclaration(std::string_view xml);

}  // namespace soma::formats::internal
