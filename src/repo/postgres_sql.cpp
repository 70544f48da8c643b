#include "repo/postgres_sql.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>

namespace soma::repo::postgres {
namespace {

bool IsIdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

}  // namespace

RewrittenSql RewritePlaceholders(std::string_view sql) {
  RewrittenSql out;
  out.sql.reserve(sql.size() + 16);
  size_t i = 0;
  const size_t n = sql.size();
  // Copies sql[i] up to and including the character that closes the current
  // quote (`quote`), honouring doubled quotes and, for E-strings, backslashes.
  auto copy_quoted = [&](char quote, bool backslash_escapes) {
    out.sql += sql[i++];  // the opening quote
    while (i < n) {
      char c = sql[i];
      out.sql += c;
      ++i;
      if (backslash_escapes && c == '\\' && i < n) {
        out.sql += sql[i++];
      } else if (c == quote) {
        if (i < n && sql[i] == quote) {  // doubled: an escaped quote
          out.sql += sql[i++];
        } else {
          return;
        }
      }
    }
  };
  while (i < n) {
    char c = sql[i];
    if (c == '\'') {
      bool e_string =
          i >= 1 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && (i < 2 || !IsIdentifierChar(sql[i - 2]));
      copy_quoted('\'', e_string);
    } else if (c == '"') {
      copy_quoted('"', false);
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      if (end == std::string_view::npos) end = n;
      out.sql.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      // PostgreSQL block comments nest.
      int depth = 0;
      size_t start = i;
      while (i < n) {
        if (sql[i] == '/' && i + 1 < n && sql[i + 1] == '*') {
          ++depth;
          i += 2;
        } else if (sql[i] == '*' && i + 1 < n && sql[i + 1] == '/') {
          --depth;
          i += 2;
          if (depth == 0) break;
        } else {
          ++i;
        }
      }
      out.sql.append(sql.substr(start, i - start));
    } else if (c == '?') {
      out.sql += '$';
      out.sql += std::to_string(++out.parameter_count);
      ++i;
    } else {
      out.sql += c;
      ++i;
    }
  }
  return out;
}

std::string FormatDouble(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buffer[32];
  int len = std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return std::string(buffer, static_cast<size_t>(len));
}

std::string RedactUrl(std::string_view url) {
  std::string s(url);
  // URI user-info: scheme://user:password@host...
  if (size_t scheme = s.find("://"); scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t authority_end = s.find_first_of("/?", start);
    if (authority_end == std::string::npos) authority_end = s.size();
    size_t at = s.rfind('@', authority_end);
    if (at != std::string::npos && at >= start) {
      size_t colon = s.find(':', start);
      if (colon != std::string::npos && colon < at) s.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... as a URI query parameter or a key=value pair.
  for (size_t pos = s.find("password="); pos != std::string::npos; pos = s.find("password=", pos + 1)) {
    size_t value = pos + 9;
    size_t end = s.find_first_of("& ", value);
    if (end == std::string::npos) end = s.size();
    s.replace(value, end - value, "***");
  }
  return s;
}

}  // namespace soma::repo::postgres
