// Versions: immutable, content-addressed snapshots of a resource's files,
// metadata and provenance. Blobs are written (atomically) before the
// transaction that lists them, so a crash at any point leaves either the
// whole version listed or nothing listed.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "repo/crypto.h"
#include "repo/json.h"
#include "repo/repository_impl.h"

namespace soma::repo {
using nlohmann::json;
namespace {

Status ValidatePath(const std::string& path) {
  if (path.empty() || path.size() > 255) return InvalidArgument("file path '" + path + "': must be 1-255 characters");
  if (path[0] == '/' || path.find('\\') != std::string::npos || path.find('\0') != std::string::npos) {
    return InvalidArgument("file path '" + path + "': must be relative and '/'-separated");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string seg = path.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") {
      return InvalidArgument("file path '" + path + "': empty, '.' or '..' segments are not allowed");
    }
    start = end + 1;
  }
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return InvalidArgument("file path '" + path + "': control characters are not allowed");
    }
  }
  return Status::Ok();
}

std::string GuessMediaType(const std::string& path) {
  auto ends = [&path](const char* ext) {
    std::string e(ext);
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".xml") || ends(".sbml")) return "application/sbml+xml";
  if (ends(".sedml")) return "application/sed-ml+xml";
  if (ends(".cellml")) return "application/cellml+xml";
  if (ends(".json")) return "application/json";
  if (ends(".csv")) return "text/csv";
  if (ends(".tsv")) return "text/tab-separated-values";
  if (ends(".md")) return "text/markdown";
  if (ends(".txt")) return "text/plain";
  if (ends(".yaml") || ends(".yml")) return "application/yaml";
  if (ends(".pdf")) return "application/pdf";
  if (ends(".png")) return "image/png";
  if (ends(".omex")) return "application/omex";
  if (ends(".rdf")) return "application/rdf+xml";
  return "application/octet-stream";
}

json ContentJson(const Metadata& m, const Provenance& p, const std::vector<FileEntry>& files) {
  json f = json::array();
  for (const FileEntry& e : files) f.push_back(ToJson(e));
  return {{"metadata", ToJson(m)}, {"provenance", ToJson(p)}, {"files", f}};
}

constexpr char kVersionColumns[] =
    "resource_id, hash, number, message, author, created_ms, metadata, provenance";

Result<Version> DecodeVersion(Database& db, const SqlRow& row) {
  Version v;
  v.resource_id = row.Text(0);
  v.hash = row.Text(1);
  v.number = static_cast<int>(row.Int(2));
  v.message = row.Text(3);
  v.author = row.Text(4);
  v.created_ms = row.Int(5);
  json m = json::parse(row.Text(6), nullptr, false);
  json p = json::parse(row.Text(7), nullptr, false);
  if (m.is_discarded() || p.is_discarded()) {
    return DataLoss("version " + v.resource_id + "@" + v.hash + ": stored JSON is corrupt");
  }
  SOMA_ASSIGN_OR_RETURN(v.metadata, MetadataFromJson(m));
  SOMA_ASSIGN_OR_RETURN(v.provenance, ProvenanceFromJson(p));
  SOMA_ASSIGN_OR_RETURN(
      auto files, db.Query("SELECT path, sha256, size, media_type FROM version_files WHERE "
                           "resource_id = ? AND version_hash = ? ORDER BY path",
                           {v.resource_id, v.hash}));
  for (const SqlRow& f : files) v.files.push_back({f.Text(0), f.Text(1), f.Int(2), f.Text(3)});
  return v;
}

Result<Version> FindVersion(Database& db, const std::string& id, const std::string& spec) {
  std::string sql = std::string("SELECT ") + kVersionColumns + " FROM versions WHERE resource_id = ? AND ";
  std::vector<SqlValue> params = {id};
  bool digits = !spec.empty() && spec.size() < 10 &&
                std::all_of(spec.begin(), spec.end(), [](char c) { return c >= '0' && c <= '9'; });
  bool hex = spec.size() >= 7 && spec.size() <= 64 &&
             std::all_of(spec.begin(), spec.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
             });
  if (spec == "latest" || spec.empty()) {
    sql += "number = (SELECT MAX(number) FROM versions WHERE resource_id = ?)";
    params.emplace_back(id);
  } else if (digits) {
    sql += "number = ?";
    params.emplace_back(std::int64_t{std::stoll(spec)});
  } else if (hex) {
    sql += "hash LIKE ?";
    params.emplace_back(spec + "%");
  } else {
    return InvalidArgument("version '" + spec +
                           "': expected 'latest', a number or a hash (at least 7 hex digits)");
  }
  SOMA_ASSIGN_OR_RETURN(auto rows, db.Query(sql + " LIMIT 2", params));
  if (rows.empty()) return NotFound("resource '" + id + "' has no version '" + spec + "'");
  if (rows.size() > 1) return InvalidArgument("version prefix '" + spec + "' is ambiguous");
  return DecodeVersion(db, rows[0]);
}

}  // namespace

Result<Version> Repository::PushVersion(const Principal& p, const std::string& id,
                                        const NewVersion& in) {
  if (p.anonymous()) return Unauthenticated("sign in to push versions");
  if (in.files.empty()) return InvalidArgument("files: a version needs at least one file");
  if (std::all_of(in.message.begin(), in.message.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); })) {
    return InvalidArgument("message: must not be empty");
  }
  if (in.metadata) SOMA_RETURN_IF_ERROR(ValidateMetadata(*in.metadata));
  std::set<std::string> seen;
  for (const NewFile& f : in.files) {
    SOMA_RETURN_IF_ERROR(ValidatePath(f.path));
    if (!seen.insert(f.path).second) return InvalidArgument("file path '" + f.path + "' appears twice");
    if (static_cast<std::int64_t>(f.bytes.size()) > impl_->options.max_file_bytes) {
      return ResourceExhausted("file '" + f.path + "' is " + std::to_string(f.bytes.size()) +
                               " bytes; the limit is " + std::to_string(impl_->options.max_file_bytes));
    }
  }
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  {
    SOMA_ASSIGN_OR_RETURN(Resource r, impl_->LoadVisible(*db, p, id));
    if (!CanWrite(p, r)) return PermissionDenied("user '" + p.user + "' may not push versions of '" + id + "'");
  }
  // Blobs first: durable before any row refers to them.
  std::vector<FileEntry> files;
  for (const NewFile& f : in.files) {
    SOMA_ASSIGN_OR_RETURN(std::string sha, impl_->blobs.Put(f.bytes));
    files.push_back({f.path, sha, static_cast<std::int64_t>(f.bytes.size()),
                     f.media_type.empty() ? GuessMediaType(f.path) : f.media_type});
  }
  std::sort(files.begin(), files.end(), [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });

  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
  // Lock the resource row (PostgreSQL; SQLite's write lock is already
  // exclusive) so concurrent pushes take numbers one after another.
  SOMA_RETURN_IF_ERROR(db->Exec("UPDATE resources SET updated_ms = updated_ms WHERE id = ?", {id}));
  SOMA_ASSIGN_OR_RETURN(Resource r, impl_->LoadVisible(*db, p, id));
  if (!CanWrite(p, r)) return PermissionDenied("user '" + p.user + "' may not push versions of '" + id + "'");
  Metadata meta = in.metadata ? *in.metadata : r.metadata;
  for (const std::string& a : in.annotations) {
    if (std::find(meta.annotations.begin(), meta.annotations.end(), a) == meta.annotations.end()) {
      meta.annotations.push_back(a);
    }
  }
  if (r.visibility == Visibility::kPublic && meta.license.empty()) {
    return FailedPrecondition("resource '" + id + "' is public; its metadata must keep a licence");
  }
  Provenance prov = in.provenance;
  if (prov.software_version.empty()) prov.software_version = impl_->options.software_version;
  json content = ContentJson(meta, prov, files);
  if (r.version_count > 0) {
    SOMA_ASSIGN_OR_RETURN(Version latest, FindVersion(*db, id, "latest"));
    if (ContentJson(latest.metadata, latest.provenance, latest.files) == content) return latest;
  }
  // The address covers the content and the parent, like a commit: the same
  // content pushed again after a change is a new version with a new address.
  json addressed = content;
  addressed["parent"] = r.latest_version;
  addressed["resource_id"] = id;
  Version v;
  v.resource_id = id;
  v.hash = Sha256Hex(addressed.dump());
  v.number = r.version_count + 1;
  v.message = in.message;
  v.author = p.user;
  v.created_ms = NowMs();
  v.metadata = meta;
  v.provenance = prov;
  v.files = files;
  SOMA_RETURN_IF_ERROR(db->Exec(
      "INSERT INTO versions (resource_id, hash, number, parent, message, author, created_ms, "
      "metadata, provenance) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {id, v.hash, std::int64_t{v.number}, r.latest_version, v.message, v.author, v.created_ms,
       ToJson(meta).dump(), ToJson(prov).dump()}));
  for (const FileEntry& f : files) {
    SOMA_RETURN_IF_ERROR(db->Exec(
        "INSERT INTO version_files (resource_id, version_hash, path, sha256, size, media_type) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        {id, v.hash, f.path, f.sha256, f.size, f.media_type}));
  }
  r.metadata = meta;
  r.version_count = v.number;
  r.latest_version = v.hash;
  r.updated_ms = v.created_ms;
  SOMA_RETURN_IF_ERROR(db->Exec(
      "UPDATE resources SET version_count = ?, latest_version = ?, updated_ms = ?, title = ?, "
      "metadata = ?, index_text = ? WHERE id = ?",
      {std::int64_t{v.number}, v.hash, v.created_ms, meta.title, ToJson(meta).dump(),
       in.index_text, id}));
  SOMA_RETURN_IF_ERROR(IndexResource(*db, r, in.index_text));
  SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "version.push", id,
                                   json{{"version", v.hash}, {"number", v.number},
                                        {"files", files.size()}}.dump()));
  SOMA_RETURN_IF_ERROR(tx.Commit());
  return v;
}

Result<std::vector<Version>> Repository::ListVersions(const Principal& p, const std::string& id) {
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Resource r, impl_->LoadVisible(*db, p, id));
  SOMA_ASSIGN_OR_RETURN(auto rows, db->Query(std::string("SELECT ") + kVersionColumns +
                                                 " FROM versions WHERE resource_id = ? ORDER BY number DESC",
                                             {id}));
  std::vector<Version> out;
  for (const SqlRow& row : rows) {
    SOMA_ASSIGN_OR_RETURN(Version v, DecodeVersion(*db, row));
    out.push_back(std::move(v));
  }
  if (r.visibility != Visibility::kPublic) {
    SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
    SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "version.list", id, "{}"));
    SOMA_RETURN_IF_ERROR(tx.Commit());
  }
  return out;
}

Result<Version> Repository::GetVersion(const Principal& p, const std::string& id,
                                       const std::string& version) {
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Resource r, impl_->LoadVisible(*db, p, id));
  SOMA_ASSIGN_OR_RETURN(Version v, FindVersion(*db, id, version));
  if (r.visibility != Visibility::kPublic) {
    SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
    SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "version.read", id, json{{"version", v.hash}}.dump()));
    SOMA_RETURN_IF_ERROR(tx.Commit());
  }
  return v;
}

Result<std::string> Repository::ReadFile(const Principal& p, const std::string& id,
                                         const std::string& version, const std::string& path) {
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Resource r, impl_->LoadVisible(*db, p, id));
  SOMA_ASSIGN_OR_RETURN(Version v, FindVersion(*db, id, version));
  auto it = std::find_if(v.files.begin(), v.files.end(), [&](const FileEntry& f) { return f.path == path; });
  if (it == v.files.end()) {
    return NotFound("version " + id + "@" + v.hash.substr(0, 12) + " has no file '" + path + "'");
  }
  SOMA_ASSIGN_OR_RETURN(std::string bytes, impl_->blobs.Get(it->sha256));
  if (r.visibility != Visibility::kPublic) {
    SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
    SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "file.read", id,
                                     json{{"version", v.hash}, {"path", path}}.dump()));
    SOMA_RETURN_IF_ERROR(tx.Commit());
  }
  return bytes;
}

Result<Repository::IntegrityReport> Repository::CheckIntegrity() {
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Read(*db));
  IntegrityReport report;
  SOMA_ASSIGN_OR_RETURN(auto versions, db->Query("SELECT COUNT(*) FROM versions", {}));
  report.versions = static_cast<int>(versions[0].Int(0));
  SOMA_ASSIGN_OR_RETURN(auto files, db->Query("SELECT resource_id, version_hash, path, sha256 FROM version_files", {}));
  for (const SqlRow& f : files) {
    ++report.files;
    auto bytes = impl_->blobs.Get(f.Text(3));
    if (!bytes.ok()) {
      report.problems.push_back(f.Text(0) + "@" + f.Text(1).substr(0, 12) + ": file " + f.Text(2) +
                                ": " + bytes.status().ToString());
    }
  }
  SOMA_ASSIGN_OR_RETURN(
      auto dangling, db->Query("SELECT r.id, r.latest_version FROM resources r WHERE r.version_count > 0 AND "
                               "NOT EXISTS (SELECT 1 FROM versions v WHERE v.resource_id = r.id AND "
                               "v.hash = r.latest_version)",
                               {}));
  for (const SqlRow& row : dangling) {
    report.problems.push_back(row.Text(0) + ": latest version " + row.Text(1) + " is not stored");
  }
  return report;
}

Result<int> Repository::CollectGarbage() {
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT DISTINCT sha256 FROM version_files", {}));
  std::set<std::string> referenced;
  for (const SqlRow& row : rows) referenced.insert(row.Text(0));
  SOMA_ASSIGN_OR_RETURN(std::vector<std::string> all, impl_->blobs.List());
  // A blob younger than this may belong to a push whose transaction has not
  // committed yet; leave it for a later collection.
  const auto kGrace = std::chrono::hours(1);
  int removed = 0;
  for (const std::string& h : all) {
    if (referenced.count(h)) continue;
    std::error_code ec;
    auto path = impl_->blobs.dir() / h.substr(0, 2) / h.substr(2);
    auto mtime = std::filesystem::last_write_time(path, ec);
    if (ec || std::filesystem::file_time_type::clock::now() - mtime < kGrace) continue;
    SOMA_RETURN_IF_ERROR(impl_->blobs.Remove(h));
    ++removed;
  }
  return removed;
}

}  // namespace soma::repo
