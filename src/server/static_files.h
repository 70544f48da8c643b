#pragma once
// Static files of the web UI (web/dist) served beside the API: what a GET
// outside /v1 resolves to, decided without touching httplib so it can be
// tested on its own.
//
// Rules:
//  * paths under /v1 (and /v1 itself), /healthz and /readyz are never served
//    from the folder: the API owns them, even when no route matches;
//  * a request path is resolved inside `root` only: any ".." or "." segment,
//    backslash, NUL or a resolved path (after following symlinks) outside
//    root is refused (kInvalidArgument, HTTP 400);
//  * an existing regular file is served with a content type from its
//    extension (unknown: application/octet-stream);
//  * a missing path whose last segment has no '.' (an SPA route such as
//    /resources/bergman-minimal) gets root/index.html; a missing file with
//    an extension (/assets/x.js) is kNotFound, so broken asset links show.
//
// Thread safety: stateless; safe from any thread.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace soma::server {

struct StaticFile {
  std::filesystem::path path;  // canonical, inside the root
  std::string content_type;
  // "no-cache" for index.html (so a new build is picked up), one year
  // "immutable" for content-hashed /assets/ files.
  std::string cache_control;
};

// True when `request_path` belongs to the API and must never be served
// from the web root.
bool IsApiPath(std::string_view request_path);

// The file for `request_path` (URL-decoded, starting with '/') under `root`
// (an existing folder). Errors: kInvalidArgument for traversal attempts and
// malformed paths, kNotFound when nothing (not even index.html) matches.
Result<StaticFile> ResolveStaticFile(const std::filesystem::path& root, std::string_view request_path);

// Content type for a file name by extension ("index.html" ->
// "text/html; charset=utf-8").
std::string ContentTypeFor(const std::filesystem::path& file);

}  // namespace soma::server
