#include "server/query_params.h"

#include <charconv>

namespace soma::server {

namespace {

Result<int> ParseIntParam(std::string_view name, const std::string& text, int lo, int hi) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < lo || v > hi) {
    return InvalidArgument(std::string(name) + " = '" + text + "': must be an integer in [" +
                           std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return v;
}

}  // namespace

std::optional<std::string> GetParam(const Params& params, std::string_view name) {
  std::optional<std::string> out;
  auto [b, e] = params.equal_range(std::string(name));
  for (auto it = b; it != e; ++it) out = it->second;
  return out;
}

std::vector<std::string> GetParamList(const Params& params, std::string_view name) {
  std::vector<std::string> out;
  auto [b, e] = params.equal_range(std::string(name));
  for (auto it = b; it != e; ++it) {
    std::string_view v = it->second;
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view part = v.substr(0, comma);
      if (!part.empty()) out.emplace_back(part);
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return out;
}

Status CheckKnownParams(const Params& params, const std::vector<std::string_view>& known) {
  for (const auto& [name, value] : params) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || k == name;
    if (!ok) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return InvalidArgument("unknown query parameter '" + name + "' (expected one of: " + list + ")");
    }
  }
  return Status::Ok();
}

Result<PageParams> ParsePageParams(const Params& params, int default_limit, int max_limit) {
  PageParams page;
  page.limit = default_limit;
  if (auto v = GetParam(params, "limit")) {
    SOMA_ASSIGN_OR_RETURN(page.limit, ParseIntParam("limit", *v, 1, max_limit));
  }
  if (auto v = GetParam(params, "offset")) {
    SOMA_ASSIGN_OR_RETURN(page.offset, ParseIntParam("offset", *v, 0, 1 << 30));
  }
  return page;
}

}  // namespace soma::server
