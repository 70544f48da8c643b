#pragma once
// The one place where Soma error codes become HTTP statuses, and back.
//
// Errors leave the server as RFC 7807 `application/problem+json` documents:
//   {"type": "urn:soma:error:not-found", "title": "Not Found",
//    "status": 404, "detail": "resource 'x' not found"}
// (the code name with non-alphanumerics as '-', e.g. "urn:soma:error:i-o-error")
// `type` carries the ErrorCode's stable name so clients can map a problem
// back to the same code (StatusFromProblem) and the CLI behaves the same
// against a server as against a local data folder.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace soma::server {

inline constexpr std::string_view kProblemJson = "application/problem+json";
inline constexpr std::string_view kProblemTypePrefix = "urn:soma:error:";

// HTTP status for a non-OK code:
//   kInvalidArgument, kParseError            400
//   kUnauthenticated                         401
//   kPermissionDenied                        403
//   kNotFound                                404
//   kAlreadyExists, kFailedPrecondition      409
//   kResourceExhausted                       413 (size limits; rate limits use RateLimited)
//   kInvalidModel, kUnsupported              422
//   kUnavailable                             503
//   kDataLoss, kInternal, kIoError, others   500
int HttpStatusFor(ErrorCode code);

// Reason phrase for an HTTP status ("Not Found").
std::string_view HttpReason(int http_status);

struct Problem {
  int status = 500;
  std::string type;   // "urn:soma:error:<code name>" or "urn:soma:http:<status>"
  std::string title;  // the reason phrase
  std::string detail; // the Status message
  nlohmann::json ToJson() const;
};

// The problem document for a failed Status (must not be OK).
Problem ProblemFromStatus(const Status& status);
// A problem produced by the HTTP layer itself (no route, method not
// allowed, payload too large, rate limited): type "urn:soma:http:<status>".
Problem HttpProblem(int http_status, std::string detail);

// Inverse mapping for clients: a problem document (or, failing that, the
// bare HTTP status) back to a Status. 2xx/3xx statuses are not errors and
// must not be passed.
Status StatusFromProblem(int http_status, std::string_view body);

}  // namespace soma::server
