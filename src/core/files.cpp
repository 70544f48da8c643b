#include "core/files.h"

#include <fstream>
#include <sstream>

namespace soma {

Result<std::string> ReadWholeFile(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  namespace fs = std::filesystem;
  const std::string name = "'" + path.string() + "'";
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) return NotFound(name + ": no such file");
  if (ec) return IoError(name + ": " + ec.message());
  if (st.type() == fs::file_type::directory) return IoError(name + ": is a directory, not a file");
  if (st.type() != fs::file_type::regular) return IoError(name + ": not a regular file");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > max_bytes) {
    return ResourceExhausted(name + ": " + std::to_string(size) + " bytes, more than the " +
                             std::to_string(max_bytes) + " read from an input file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(name + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError(name + ": read failed");
  return std::move(text).str();
}

}  // namespace soma
