#include "formats/omex/omex.h"

#include <fstream>
#include <system_error>

namespace soma::formats {

namespace {

bool IsSbml(const OmexEntry& e) {
  const std::string_view format = e.format;
  return format == kSbmlFormat || format.starts_with(std::string(kSbmlFormat) + ".");
}

std::string Locations(const std::vector<const OmexEntry*>& entries) {
  std::string out;
  for (const OmexEntry* e : entries) out += (out.empty() ? "" : ", ") + e->location;
  return out;
}

}  // namespace

Result<const OmexEntry*> MainSbmlEntry(const OmexArchive& archive) {
  std::vector<const OmexEntry*> sbml, master;
  for (const OmexEntry& e : archive.entries) {
    if (!IsSbml(e)) continue;
    sbml.push_back(&e);
    if (e.master) master.push_back(&e);
  }
  if (master.size() == 1) return master[0];
  if (master.size() > 1) {
    return Unsupported("the archive marks several SBML files as master (" + Locations(master) +
                       "); unzip it and pick one");
  }
  if (sbml.size() == 1) return sbml[0];
  if (sbml.empty()) return InvalidArgument("the archive's manifest lists no SBML file");
  return Unsupported("the archive holds several SBML files and marks none as master (" + Locations(sbml) +
                     "); unzip it and pick one");
}

Result<std::filesystem::path> ExtractModelArchive(std::string_view zip_bytes, const std::filesystem::path& into) {
  SOMA_ASSIGN_OR_RETURN(OmexArchive archive, ReadOmex(zip_bytes));
  SOMA_ASSIGN_OR_RETURN(const OmexEntry* main, MainSbmlEntry(archive));
  std::filesystem::path main_path;
  for (const OmexEntry& e : archive.entries) {
    // ReadOmex gives "./relative/path" locations, never absolute or with "..".
    const std::filesystem::path target = into / std::filesystem::path(e.location.substr(2)).lexically_normal();
    std::error_code ec;
    std::filesystem::create_directories(target.parent_path(), ec);
    if (ec) return IoError("cannot create " + target.parent_path().string() + ": " + ec.message());
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out.write(e.bytes.data(), static_cast<std::streamsize>(e.bytes.size()));
    out.close();
    if (!out) return IoError("cannot write " + target.string());
    if (&e == main) main_path = target;
  }
  return main_path;
}

}  // namespace soma::formats
