#pragma once
// Reading URL query parameters with errors that name the parameter.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace soma::server {

using Params = std::multimap<std::string, std::string>;

// The last value of `name`, if present.
std::optional<std::string> GetParam(const Params& params, std::string_view name);
// Every value of `name`, with comma-separated values split and empty ones
// dropped ("kind=model,dataset&kind=twin" -> model, dataset, twin).
std::vector<std::string> GetParamList(const Params& params, std::string_view name);
// kInvalidArgument naming the first parameter not in `known`.
Status CheckKnownParams(const Params& params, const std::vector<std::string_view>& known);

// limit (default `default_limit`, 1-`max_limit`) and offset (default 0, >= 0).
struct PageParams {
  int limit = 20;
  int offset = 0;
};
Result<PageParams> ParsePageParams(const Params& params, int default_limit = 20, int max_limit = 100);

}  // namespace soma::server
