#pragma once
// FHIR R4 date and dateTime values (https://hl7.org/fhir/R4/datatypes.html#dateTime):
// "YYYY", "YYYY-MM", "YYYY-MM-DD" or "YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)".
// A time of day must carry a timezone offset, as FHIR requires.

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace soma::formats {

enum class DatePrecision { kYear, kMonth, kDay, kSecond };

struct FhirDateTime {
  DatePrecision precision = DatePrecision::kSecond;
  int year = 0;
  // Unix seconds (UTC) of the instant for kSecond precision (fractional
  // seconds truncated toward the past); for partial dates the UTC midnight of
  // their first day, which callers must not take for an instant.
  std::int64_t unix_seconds = 0;
};

// Parses `text`. kParseError says what is wrong without quoting `text` (so
// the message is safe to report even for a birth date or a misplaced field).
// Leap second ":60" is accepted and counts as the next second.
Result<FhirDateTime> ParseFhirDateTime(std::string_view text);

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil algorithm).
std::int64_t DaysFromCivil(int year, unsigned month, unsigned day);

}  // namespace soma::formats
