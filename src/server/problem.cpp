#include "server/problem.h"

#include <array>
#include <cassert>
#include <utility>

namespace soma::server {

namespace {

constexpr std::array kCodes = {
    ErrorCode::kInvalidArgument, ErrorCode::kParseError,       ErrorCode::kInvalidModel,
    ErrorCode::kUnsupported,     ErrorCode::kNotFound,         ErrorCode::kSolverFailure,
    ErrorCode::kIoError,         ErrorCode::kInternal,         ErrorCode::kUnauthenticated,
    ErrorCode::kPermissionDenied, ErrorCode::kAlreadyExists,   ErrorCode::kFailedPrecondition,
    ErrorCode::kResourceExhausted, ErrorCode::kDataLoss,       ErrorCode::kUnavailable,
};

// Error code for a problem whose type we do not recognise: the closest
// code to the HTTP status.
ErrorCode CodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 400: return ErrorCode::kInvalidArgument;
    case 401: return ErrorCode::kUnauthenticated;
    case 403: return ErrorCode::kPermissionDenied;
    case 404: return ErrorCode::kNotFound;
    case 405: return ErrorCode::kInvalidArgument;
    case 409: return ErrorCode::kFailedPrecondition;
    case 413:
    case 429: return ErrorCode::kResourceExhausted;
    case 422: return ErrorCode::kInvalidModel;
    case 503: return ErrorCode::kUnavailable;
    default: return http_status >= 500 ? ErrorCode::kInternal : ErrorCode::kInvalidArgument;
  }
}

// "i/o error" -> "i-o-error": a URN-safe form of an ErrorCodeName.
std::string CodeSlug(ErrorCode code) {
  std::string s(ErrorCodeName(code));
  for (char& c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) c = '-';
  }
  return s;
}

}  // namespace

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kParseError: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition: return 409;
    case ErrorCode::kResourceExhausted: return 413;
    case ErrorCode::kInvalidModel:
    case ErrorCode::kUnsupported: return 422;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kDataLoss:
    case ErrorCode::kInternal:
    case ErrorCode::kIoError:
    case ErrorCode::kSolverFailure: return 500;
  }
  return 500;
}

std::string_view HttpReason(int s) {
  switch (s) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return s >= 500 ? "Server Error" : "Client Error";
  }
}

nlohmann::json Problem::ToJson() const {
  return {{"type", type}, {"title", title}, {"status", status}, {"detail", detail}};
}

Problem ProblemFromStatus(const Status& status) {
  assert(!status.ok());
  Problem p;
  p.status = HttpStatusFor(status.code());
  p.type = std::string(kProblemTypePrefix) + CodeSlug(status.code());
  p.title = std::string(HttpReason(p.status));
  p.detail = status.message();
  return p;
}

Problem HttpProblem(int http_status, std::string detail) {
  Problem p;
  p.status = http_status;
  p.type = "urn:soma:http:" + std::to_string(http_status);
  p.title = std::string(HttpReason(http_status));
  p.detail = std::move(detail);
  return p;
}

Status StatusFromProblem(int http_status, std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string detail = "HTTP " + std::to_string(http_status) + " " + std::string(HttpReason(http_status));
  ErrorCode code = CodeForHttpStatus(http_status);
  if (j.is_object()) {
    if (j.contains("detail") && j["detail"].is_string()) detail = j["detail"].get<std::string>();
    if (j.contains("type") && j["type"].is_string()) {
      std::string type = j["type"].get<std::string>();
      if (type.rfind(kProblemTypePrefix, 0) == 0) {
        std::string_view name = std::string_view(type).substr(kProblemTypePrefix.size());
        for (ErrorCode c : kCodes) {
          if (CodeSlug(c) == name) code = c;
        }
      }
    }
  }
  return Status(code, std::move(detail));
}

}  // namespace soma::server
