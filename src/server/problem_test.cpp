#include "server/problem.h"

#include <gtest/gtest.h>

namespace soma::server {
namespace {

TEST(Problem, MapsEveryCodeAsDocumented) {
  const std::pair<ErrorCode, int> table[] = {
      {ErrorCode::kInvalidArgument, 400},   {ErrorCode::kParseError, 400},
      {ErrorCode::kUnauthenticated, 401},   {ErrorCode::kPermissionDenied, 403},
      {ErrorCode::kNotFound, 404},          {ErrorCode::kAlreadyExists, 409},
      {ErrorCode::kFailedPrecondition, 409}, {ErrorCode::kResourceExhausted, 413},
      {ErrorCode::kInvalidModel, 422},      {ErrorCode::kUnsupported, 422},
      {ErrorCode::kDataLoss, 500},          {ErrorCode::kInternal, 500},
      {ErrorCode::kIoError, 500},           {ErrorCode::kSolverFailure, 500},
      {ErrorCode::kUnavailable, 503},
  };
  for (const auto& [code, http] : table) EXPECT_EQ(HttpStatusFor(code), http) << ErrorCodeName(code);
}

TEST(Problem, DocumentHasTheFourFields) {
  Problem p = ProblemFromStatus(NotFound("resource 'x' not found"));
  nlohmann::json j = p.ToJson();
  EXPECT_EQ(j["status"], 404);
  EXPECT_EQ(j["type"], "urn:soma:error:not-found");
  EXPECT_EQ(j["title"], "Not Found");
  EXPECT_EQ(j["detail"], "resource 'x' not found");
}

TEST(Problem, RoundTripsEveryCodeThroughTheWire) {
  for (ErrorCode code : {ErrorCode::kInvalidArgument, ErrorCode::kParseError, ErrorCode::kNotFound,
                         ErrorCode::kIoError, ErrorCode::kAlreadyExists, ErrorCode::kFailedPrecondition,
                         ErrorCode::kDataLoss, ErrorCode::kUnavailable, ErrorCode::kUnauthenticated}) {
    Problem p = ProblemFromStatus(Status(code, "why"));
    Status back = StatusFromProblem(p.status, p.ToJson().dump());
    EXPECT_EQ(back.code(), code) << ErrorCodeName(code);
    EXPECT_EQ(back.message(), "why");
  }
}

TEST(Problem, HttpOnlyProblemsFallBackToTheStatus) {
  Problem p = HttpProblem(429, "slow down");
  EXPECT_EQ(p.type, "urn:soma:http:429");
  EXPECT_EQ(StatusFromProblem(429, p.ToJson().dump()).code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(StatusFromProblem(502, "<html>bad gateway</html>").code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace soma::server
