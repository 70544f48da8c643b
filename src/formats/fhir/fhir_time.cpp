#include "formats/fhir/fhir_time.h"

#include <string>

namespace soma::formats {
namespace {

bool Digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

std::int64_t DaysFromCivil(int year, unsigned month, unsigned day) {
  const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = (month + 9) % 12;
  const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Result<FhirDateTime> ParseFhirDateTime(std::string_view s) {
  auto bad = [&](std::string_view why) -> Status {
    // The value is not quoted: a misplaced field may hold identifying text.
    return ParseError("FHIR dateTime: " + std::string(why));
  };
  FhirDateTime out;
  int year = 0, month = 1, day = 1;
  if (!Digits(s, 0, 4, year)) return bad("expected a 4-digit year");
  if (year == 0) return bad("year 0000 is not valid");
  out.year = year;
  if (s.size() == 4) {
    out.precision = DatePrecision::kYear;
    out.unix_seconds = DaysFromCivil(year, 1, 1) * 86400;
    return out;
  }
  if (s[4] != '-' || !Digits(s, 5, 2, month) || month < 1 || month > 12) return bad("expected '-MM' with MM in 01..12");
  if (s.size() == 7) {
    out.precision = DatePrecision::kMonth;
    out.unix_seconds = DaysFromCivil(year, month, 1) * 86400;
    return out;
  }
  if (s[7] != '-' || !Digits(s, 8, 2, day) || day < 1 || day > DaysInMonth(year, month)) {
    return bad("expected '-DD' with a day that exists in that month");
  }
  const std::int64_t days = DaysFromCivil(year, month, day);
  if (s.size() == 10) {
    out.precision = DatePrecision::kDay;
    out.unix_seconds = days * 86400;
    return out;
  }
  int hh = 0, mm = 0, ss = 0;
  if (s[10] != 'T' || !Digits(s, 11, 2, hh) || s.size() < 19 || s[13] != ':' || !Digits(s, 14, 2, mm) ||
      s[16] != ':' || !Digits(s, 17, 2, ss)) {
    return bad("expected 'Thh:mm:ss' after the date");
  }
  if (hh > 23 || mm > 59 || ss > 60) return bad("time of day out of range");
  std::size_t at = 19;
  if (at < s.size() && s[at] == '.') {
    ++at;
    const std::size_t first = at;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') ++at;
    if (at == first || at - first > 9) return bad("expected 1 to 9 digits of fractional seconds");
  }
  if (at == s.size()) return bad("a time of day needs a timezone offset ('Z' or '+hh:mm')");
  int offset_seconds = 0;
  if (s[at] == 'Z') {
    ++at;
  } else if (s[at] == '+' || s[at] == '-') {
    int oh = 0, om = 0;
    if (!Digits(s, at + 1, 2, oh) || at + 3 >= s.size() || s[at + 3] != ':' || !Digits(s, at + 4, 2, om)) {
      return bad("expected a timezone offset '+hh:mm'");
    }
    if (om > 59 || oh > 14 || (oh == 14 && om != 0)) return bad("timezone offset out of range (-14:00..+14:00)");
    offset_seconds = (oh * 3600 + om * 60) * (s[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return bad("expected a timezone offset ('Z' or '+hh:mm')");
  }
  if (at != s.size()) return bad("unexpected text after the timezone");
  out.precision = DatePrecision::kSecond;
  // Local time minus its offset from UTC is UTC.
  out.unix_seconds = days * 86400 + hh * 3600 + mm * 60 + ss - offset_seconds;
  return out;
}

}  // namespace soma::formats
