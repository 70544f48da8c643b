#include "server/static_files.h"

#include <array>
#include <system_error>
#include <utility>

namespace soma::server {

namespace fs = std::filesystem;

namespace {

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Is `p` (canonical) equal to or below `root` (canonical)?
bool Inside(const fs::path& root, const fs::path& p) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (q == p.end() || *r != *q) return false;
  }
  return true;
}

Result<StaticFile> Serve(const fs::path& root, const fs::path& candidate) {
  std::error_code ec;
  fs::path canonical = fs::canonical(candidate, ec);
  if (ec) return NotFound("no such file in the web UI");
  if (!Inside(root, canonical)) return InvalidArgument("path resolves outside the web root");
  if (!fs::is_regular_file(canonical, ec)) return NotFound("no such file in the web UI");
  StaticFile f;
  f.content_type = ContentTypeFor(canonical);
  fs::path rel = canonical.lexically_relative(root);
  f.cache_control = (!rel.empty() && *rel.begin() == "assets") ? "public, max-age=31536000, immutable" : "no-cache";
  f.path = std::move(canonical);
  return f;
}

}  // namespace

bool IsApiPath(std::string_view p) {
  return p == "/v1" || StartsWith(p, "/v1/") || p == "/healthz" || p == "/readyz";
}

std::string ContentTypeFor(const fs::path& file) {
  static const std::array<std::pair<std::string_view, std::string_view>, 18> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
      {".webmanifest", "application/manifest+json"},
  }};
  std::string ext = file.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return std::string(type);
  }
  return "application/octet-stream";
}

Result<StaticFile> ResolveStaticFile(const fs::path& root_in, std::string_view request_path) {
  if (request_path.empty() || request_path.front() != '/') {
    return InvalidArgument("request path must start with '/'");
  }
  if (IsApiPath(request_path)) return NotFound("API paths are not served from the web root");
  std::error_code ec;
  fs::path root = fs::canonical(root_in, ec);
  if (ec || !fs::is_directory(root)) return NotFound("the web UI folder is missing");

  // Split into segments; refuse anything that could step outside.
  fs::path rel;
  std::string_view rest = request_path.substr(1);
  std::string last;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (seg.empty()) continue;  // "//" collapses
    if (seg == "." || seg == "..") return InvalidArgument("path segment '" + std::string(seg) + "' is not allowed");
    if (seg.find('\\') != std::string_view::npos || seg.find('\0') != std::string_view::npos ||
        seg.find(':') != std::string_view::npos) {
      return InvalidArgument("path segment contains '\\', ':' or NUL");
    }
    rel /= std::string(seg);
    last = std::string(seg);
  }
  if (rel.empty()) return Serve(root, root / "index.html");
  fs::path candidate = root / rel;
  if (fs::is_directory(candidate, ec)) candidate /= "index.html";
  auto file = Serve(root, candidate);
  if (file.ok() || file.status().code() != ErrorCode::kNotFound) return file;
  if (last.find('.') != std::string::npos) return file;  // a missing asset stays missing
  return Serve(root, root / "index.html");               // an SPA route
}

}  // namespace soma::server
