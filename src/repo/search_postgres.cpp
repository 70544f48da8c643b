#include "repo/search_postgres.h"

#include <cctype>
#include <string>

namespace soma::repo {

std::string PostgresSearchText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_word = false;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80) {
      if (!in_word && !out.empty()) out += ' ';
      out += static_cast<char>(std::tolower(u));
      in_word = true;
    } else {
      in_word = false;
    }
  }
  return out;
}

}  // namespace soma::repo
