#include "server/base64.h"

#include <gtest/gtest.h>

namespace soma::server {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64, BinaryRoundTrip) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  auto decoded = Base64Decode(Base64Encode(bytes));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, bytes);
}

TEST(Base64, AcceptsWhitespaceAndMissingPadding) {
  EXPECT_EQ(*Base64Decode("Zm9v\nYmE"), "fooba");
}

TEST(Base64, RejectsBadInput) {
  EXPECT_EQ(Base64Decode("Zm9v!").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Base64Decode("Z").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Base64Decode("Zg==Zg").status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace soma::server
