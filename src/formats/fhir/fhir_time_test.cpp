#include "formats/fhir/fhir_time.h"

#include <gtest/gtest.h>

namespace soma::formats {
namespace {

// 2024-05-02T06:15:00Z = 19845 days * 86400 + 22500 s (checked with
// Python's calendar.timegm).
constexpr std::int64_t k0615Z = 1714630500;

TEST(FhirTime, OffsetsNameTheSameInstant) {
  for (const char* text : {"2024-05-02T06:15:00Z", "2024-05-02T06:15:00+00:00", "2024-05-02T08:15:00+02:00",
                           "2024-05-02T01:15:00-05:00", "2024-05-01T20:15:00-10:00", "2024-05-02T11:45:00+05:30",
                           "2024-05-02T06:15:00.999Z"}) {
    auto t = ParseFhirDateTime(text);
    ASSERT_TRUE(t.ok()) << text << ": " << t.status().ToString();
    EXPECT_EQ(t->precision, DatePrecision::kSecond);
    EXPECT_EQ(t->unix_seconds, k0615Z) << text;
  }
  auto epoch = ParseFhirDateTime("1970-01-01T00:00:00Z");
  ASSERT_TRUE(epoch.ok());
  EXPECT_EQ(epoch->unix_seconds, 0);
  auto before = ParseFhirDateTime("1969-12-31T23:59:59Z");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->unix_seconds, -1);
  auto leap_day = ParseFhirDateTime("2024-02-29T00:00:00Z");
  ASSERT_TRUE(leap_day.ok());
  EXPECT_EQ(leap_day->unix_seconds, 1709164800);
}

TEST(FhirTime, PartialDates) {
  auto y = ParseFhirDateTime("1987");
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(y->precision, DatePrecision::kYear);
  EXPECT_EQ(y->year, 1987);
  auto m = ParseFhirDateTime("1987-03");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->precision, DatePrecision::kMonth);
  auto d = ParseFhirDateTime("1987-03-14");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->precision, DatePrecision::kDay);
  EXPECT_EQ(d->year, 1987);
}

TEST(FhirTime, Rejects) {
  for (const char* text : {"", "87", "1987-3", "1987-13", "1987-02-29", "2023-04-31", "2024-05-02T06:15Z",
                           "2024-05-02T06:15:00", "2024-05-02 06:15:00Z", "2024-05-02T24:00:00Z",
                           "2024-05-02T06:15:00+15:00", "2024-05-02T06:15:00+0200", "2024-05-02T06:15:00.Z",
                           "2024-05-02T06:15:00Zjunk", "0000-01-01", "2024-05-02T06:60:00Z", "2024-05-02T"}) {
    auto t = ParseFhirDateTime(text);
    EXPECT_FALSE(t.ok()) << "'" << text << "' parsed";
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), ErrorCode::kParseError);
    }
  }
}

}  // namespace
}  // namespace soma::formats
