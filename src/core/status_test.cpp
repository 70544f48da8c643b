#include "core/status.h"

#include <gtest/gtest.h>

namespace soma {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("x = " + std::to_string(x) + "; must be even");
  return x / 2;
}

Result<int> Quarter(int x) {
  SOMA_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = Unsupported("csymbol delay");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kUnsupported);
  EXPECT_EQ(s.ToString(), "unsupported: csymbol delay");
  EXPECT_EQ(s.WithContext("reaction R1").message(), "reaction R1: csymbol delay");
  // The same context twice is said once; a longer or different one is added.
  EXPECT_EQ(s.WithContext("m.xml").WithContext("m.xml").message(), "m.xml: csymbol delay");
  EXPECT_EQ(s.WithContext("m.xml").WithContext("m").message(), "m: m.xml: csymbol delay");
  EXPECT_EQ(s.WithContext("m").WithContext("m.xml").message(), "m.xml: m: csymbol delay");
  EXPECT_EQ(Unsupported("m.xml:x").WithContext("m.xml").message(), "m.xml: m.xml:x");
}

TEST(ResultTest, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "x = 3; must be even");
}

}  // namespace
}  // namespace soma
