#pragma once
// Errors in Soma: one Status type with one table of codes, and Result<T> for
// values that may fail. Bad input is reported as a Status naming the element
// (SBML id, file, line, field) and what was expected; bugs are assertions.
// No exception crosses a library boundary.

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace soma {

// The one table of error codes. The server maps these to HTTP statuses in one
// place; the CLI maps every non-OK code to a non-zero exit status.
enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,   // a caller passed a value outside its documented range
  kParseError,        // a file or text could not be parsed (names file/line)
  kInvalidModel,      // the model parses but breaks a rule of its format
  kUnsupported,       // a valid construct Soma does not simulate (named)
  kNotFound,          // an id, file or symbol does not exist
  kSolverFailure,     // a numerical solver failed (code and time given)
  kIoError,           // reading or writing a file failed
  kInternal,          // a broken invariant: a bug in Soma
  kUnauthenticated,   // no or an unknown credential (HTTP 401)
  kPermissionDenied,  // the caller is known but may not do this (HTTP 403)
  kAlreadyExists,     // an id that must be new is taken (HTTP 409)
  kFailedPrecondition,  // the state forbids it, e.g. public without licence (HTTP 409)
  kResourceExhausted,   // a size or rate limit was exceeded (HTTP 413 / 429)
  kDataLoss,          // stored data fails its integrity check (hash mismatch)
  kUnavailable,       // a service (database, server) cannot be reached now (HTTP 503)
};

// Short stable name of a code, e.g. "unsupported".
std::string_view ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "unsupported: csymbol delay in reaction R1" style text.
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` + ": ", unless it
  // already starts with exactly that (two layers naming the same file).
  Status WithContext(std::string_view context) const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
inline Status ParseError(std::string m) { return {ErrorCode::kParseError, std::move(m)}; }
inline Status InvalidModel(std::string m) { return {ErrorCode::kInvalidModel, std::move(m)}; }
inline Status Unsupported(std::string m) { return {ErrorCode::kUnsupported, std::move(m)}; }
inline Status NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
inline Status SolverFailure(std::string m) { return {ErrorCode::kSolverFailure, std::move(m)}; }
inline Status IoError(std::string m) { return {ErrorCode::kIoError, std::move(m)}; }
inline Status Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {ErrorCode::kUnauthenticated, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {ErrorCode::kPermissionDenied, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {ErrorCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {ErrorCode::kFailedPrecondition, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {ErrorCode::kResourceExhausted, std::move(m)}; }
inline Status DataLoss(std::string m) { return {ErrorCode::kDataLoss, std::move(m)}; }
inline Status Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }

// A value of type T or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace soma

#define SOMA_CONCAT_INNER(a, b) a##b
#define SOMA_CONCAT(a, b) SOMA_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define SOMA_RETURN_IF_ERROR(expr)             \
  do {                                         \
    ::soma::Status soma_status_ = (expr);      \
    if (!soma_status_.ok()) return soma_status_; \
  } while (0)

// SOMA_ASSIGN_OR_RETURN(auto x, MakeX()); declares x or returns the error.
#define SOMA_ASSIGN_OR_RETURN(lhs, rexpr) \
  SOMA_ASSIGN_OR_RETURN_IMPL(SOMA_CONCAT(soma_result_, __LINE__), lhs, rexpr)
#define SOMA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                               \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
