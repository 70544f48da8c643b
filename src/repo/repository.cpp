#include "repo/repository.h"

#include <algorithm>
#include <cctype>

#include "repo/json.h"
#include "repo/migrations.h"
#include "repo/repository_impl.h"

namespace soma::repo {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool IsValidId(const std::string& id) {
  if (id.empty() || id.size() > 100) return false;
  if (!std::isalnum(static_cast<unsigned char>(id[0]))) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

std::string Slug(const std::string& title) {
  std::string s;
  for (char c : title) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      s += static_cast<char>(std::tolower(u));
    } else if (!s.empty() && s.back() != '-') {
      s += '-';
    }
    if (s.size() >= 60) break;
  }
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s.empty() ? "resource" : s;
}

std::string Detail(std::initializer_list<std::pair<const char*, json>> fields) {
  json j = json::object();
  for (const auto& [k, v] : fields) j[k] = v;
  return j.dump();
}

}  // namespace

Result<Resource> DecodeResource(const SqlRow& row) {
  Resource r;
  r.id = row.Text(0);
  SOMA_ASSIGN_OR_RETURN(r.kind, ParseResourceKind(row.Text(1)));
  r.owner = row.Text(2);
  SOMA_ASSIGN_OR_RETURN(r.visibility, ParseVisibility(row.Text(3)));
  r.group = row.Text(4);
  r.created_ms = row.Int(5);
  r.updated_ms = row.Int(6);
  r.version_count = static_cast<int>(row.Int(7));
  r.latest_version = row.Text(8);
  json meta = json::parse(row.Text(9), nullptr, false);
  if (meta.is_discarded()) return DataLoss("resource '" + r.id + "': stored metadata is not JSON");
  SOMA_ASSIGN_OR_RETURN(r.metadata, MetadataFromJson(meta));
  r.rating = row.IsNull(10) ? 0.0 : row.Real(10);
  r.review_count = static_cast<int>(row.Int(11));
  return r;
}

std::string VisibleCondition(const Principal& p, std::vector<SqlValue>& params) {
  if (p.role == Role::kAdmin && !p.anonymous()) return "1 = 1";
  if (p.anonymous()) return "r.visibility = 'public'";
  std::string c = "(r.visibility = 'public' OR r.owner = ?";
  params.emplace_back(p.user);
  if (p.role >= Role::kCurator) {
    c += " OR r.visibility = 'group'";
  } else if (!p.groups.empty()) {
    c += " OR (r.visibility = 'group' AND r.group_name IN (";
    for (size_t i = 0; i < p.groups.size(); ++i) {
      c += i ? ", ?" : "?";
      params.emplace_back(p.groups[i]);
    }
    c += "))";
  }
  return c + ")";
}

bool CanRead(const Principal& p, const Resource& r) {
  if (r.visibility == Visibility::kPublic) return true;
  if (p.anonymous()) return false;
  if (p.role == Role::kAdmin || r.owner == p.user) return true;
  if (r.visibility == Visibility::kGroup) {
    return p.role >= Role::kCurator ||
           std::find(p.groups.begin(), p.groups.end(), r.group) != p.groups.end();
  }
  return false;
}

bool CanWrite(const Principal& p, const Resource& r) {
  if (p.anonymous()) return false;
  if (p.role == Role::kAdmin) return true;
  if (p.role >= Role::kCurator) return CanRead(p, r);
  return p.role >= Role::kContributor && r.owner == p.user;
}

Result<Resource> Repository::Impl::LoadVisible(Database& db, const Principal& p,
                                               const std::string& id) {
  SOMA_ASSIGN_OR_RETURN(
      auto rows, db.Query(std::string("SELECT ") + kResourceColumns +
                              " FROM resources r WHERE r.id = ? AND r.deleted = 0",
                          {id}));
  if (rows.empty()) return NotFound("resource '" + id + "' not found");
  SOMA_ASSIGN_OR_RETURN(Resource r, DecodeResource(rows[0]));
  // Invisible and absent read the same, so ids cannot be probed.
  if (!CanRead(p, r)) return NotFound("resource '" + id + "' not found");
  return r;
}

Repository::Repository(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Repository::~Repository() = default;

Result<std::unique_ptr<Repository>> Repository::Open(const RepositoryOptions& options_in) {
  RepositoryOptions options = options_in;
  std::error_code ec;
  fs::create_directories(options.data_dir, ec);
  if (ec) {
    return IoError("cannot create data folder '" + options.data_dir.string() + "': " +
                   ec.message());
  }
  if (options.database_url.empty()) {
    options.database_url = "sqlite:" + (options.data_dir / "soma.db").string();
  }
  SOMA_ASSIGN_OR_RETURN(BlobStore blobs, BlobStore::Open(options.data_dir / "blobs"));
  SOMA_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenDatabase(options.database_url));
  SOMA_ASSIGN_OR_RETURN(int version, ApplyMigrations(*db));
  auto impl = std::make_unique<Impl>(options, std::move(blobs), version);
  return std::unique_ptr<Repository>(new Repository(std::move(impl)));
}

const RepositoryOptions& Repository::options() const { return impl_->options; }
int Repository::schema_version() const { return impl_->schema_version; }

bool Repository::Ready() {
  auto db = impl_->pool.Acquire();
  return db.ok() && (*db)->Ping() && impl_->blobs.Writable();
}

Result<Resource> Repository::CreateResource(const Principal& p, const NewResource& in) {
  if (p.anonymous()) return Unauthenticated("sign in to create resources");
  if (p.role < Role::kContributor) {
    return PermissionDenied("user '" + p.user + "' is a " + std::string(ToString(p.role)) +
                            "; creating resources needs the contributor role");
  }
  SOMA_RETURN_IF_ERROR(ValidateMetadata(in.metadata));
  if (!in.id.empty() && !IsValidId(in.id)) {
    return InvalidArgument("id '" + in.id +
                           "': use 1-100 lowercase letters, digits, '-', '_' or '.', starting "
                           "with a letter or digit");
  }
  if (in.visibility == Visibility::kPublic && in.metadata.license.empty()) {
    return FailedPrecondition("a public resource needs a licence (metadata.license, an SPDX id)");
  }
  if (in.visibility == Visibility::kGroup) {
    if (in.group.empty()) return InvalidArgument("group: required for visibility 'group'");
    if (p.role != Role::kAdmin &&
        std::find(p.groups.begin(), p.groups.end(), in.group) == p.groups.end()) {
      return PermissionDenied("user '" + p.user + "' is not a member of group '" + in.group + "'");
    }
  }
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
  if (in.visibility == Visibility::kGroup) {
    SOMA_ASSIGN_OR_RETURN(auto g, db->Query("SELECT 1 FROM user_groups WHERE name = ?", {in.group}));
    if (g.empty()) return NotFound("group '" + in.group + "' not found");
  }
  std::string id = in.id;
  if (id.empty()) {
    std::string base = Slug(in.metadata.title);
    id = base;
    for (int n = 2;; ++n) {
      SOMA_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT 1 FROM resources WHERE id = ?", {id}));
      if (rows.empty()) break;
      id = base + "-" + std::to_string(n);
    }
  } else {
    SOMA_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT 1 FROM resources WHERE id = ?", {id}));
    if (!rows.empty()) return AlreadyExists("resource id '" + id + "' is taken");
  }
  Resource r;
  r.id = id;
  r.kind = in.kind;
  r.owner = p.user;
  r.visibility = in.visibility;
  r.group = in.visibility == Visibility::kGroup ? in.group : "";
  r.created_ms = r.updated_ms = NowMs();
  r.metadata = in.metadata;
  SOMA_RETURN_IF_ERROR(db->Exec(
      "INSERT INTO resources (id, kind, owner, visibility, group_name, created_ms, updated_ms, "
      "title, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {r.id, std::string(ToString(r.kind)), r.owner, std::string(ToString(r.visibility)), r.group,
       r.created_ms, r.updated_ms, r.metadata.title, ToJson(r.metadata).dump()}));
  SOMA_RETURN_IF_ERROR(IndexResource(*db, r, ""));
  SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "resource.create", r.id,
                                   Detail({{"kind", ToString(r.kind)},
                                           {"visibility", ToString(r.visibility)},
                                           {"group", r.group}})));
  SOMA_RETURN_IF_ERROR(tx.Commit());
  return r;
}

Result<Resource> Repository::GetResource(const Principal& p, const std::string& id) {
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Resource r, impl_->LoadVisible(*db, p, id));
  if (r.visibility != Visibility::kPublic) {
    SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
    SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "resource.read", id, "{}"));
    SOMA_RETURN_IF_ERROR(tx.Commit());
  }
  return r;
}

Result<Page<Resource>> Repository::ListResources(const Principal& p, const ListQuery& q) {
  SearchQuery sq;
  sq.sort = SortOrder::kUpdated;
  sq.limit = q.limit;
  sq.offset = q.offset;
  if (q.kind) sq.filters["kind"] = {std::string(ToString(*q.kind))};
  if (!q.owner.empty()) sq.filters["owner"] = {q.owner};
  SOMA_ASSIGN_OR_RETURN(SearchResult sr, Search(p, sq));
  return Page<Resource>{sr.total, std::move(sr.items)};
}

Result<Resource> Repository::SetVisibility(const Principal& p, const std::string& id,
                                           Visibility v, const std::string& group) {
  if (p.anonymous()) return Unauthenticated("sign in to change visibility");
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
  SOMA_ASSIGN_OR_RETURN(Resource r, impl_->LoadVisible(*db, p, id));
  if (!CanWrite(p, r)) {
    return PermissionDenied("user '" + p.user + "' may not change the visibility of '" + id + "'");
  }
  if (v == Visibility::kPublic && r.metadata.license.empty()) {
    return FailedPrecondition("resource '" + id +
                              "' has no licence; set metadata.license (an SPDX id) before "
                              "publishing it publicly");
  }
  std::string g = v == Visibility::kGroup ? (group.empty() ? r.group : group) : "";
  if (v == Visibility::kGroup) {
    if (g.empty()) return InvalidArgument("group: required for visibility 'group'");
    SOMA_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT 1 FROM user_groups WHERE name = ?", {g}));
    if (rows.empty()) return NotFound("group '" + g + "' not found");
  }
  r.visibility = v;
  r.group = g;
  r.updated_ms = NowMs();
  SOMA_RETURN_IF_ERROR(db->Exec(
      "UPDATE resources SET visibility = ?, group_name = ?, updated_ms = ? WHERE id = ?",
      {std::string(ToString(v)), g, r.updated_ms, id}));
  SOMA_ASSIGN_OR_RETURN(auto idx, db->Query("SELECT index_text FROM resources WHERE id = ?", {id}));
  SOMA_RETURN_IF_ERROR(IndexResource(*db, r, idx.empty() ? "" : idx[0].Text(0)));
  SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "resource.visibility", id,
                                   Detail({{"visibility", ToString(v)}, {"group", g}})));
  SOMA_RETURN_IF_ERROR(tx.Commit());
  return r;
}

Status Repository::DeleteResource(const Principal& p, const std::string& id) {
  if (p.anonymous()) return Unauthenticated("sign in to delete resources");
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
  SOMA_ASSIGN_OR_RETURN(Resource r, impl_->LoadVisible(*db, p, id));
  if (!(p.role == Role::kAdmin || (r.owner == p.user && p.role >= Role::kContributor))) {
    return PermissionDenied("only the owner or an admin may delete '" + id + "'");
  }
  SOMA_RETURN_IF_ERROR(db->Exec("UPDATE resources SET deleted = 1, updated_ms = ? WHERE id = ?",
                                {NowMs(), id}));
  SOMA_RETURN_IF_ERROR(db->Exec("DELETE FROM resource_facets WHERE resource_id = ?", {id}));
  SOMA_RETURN_IF_ERROR(db->Exec(db->dialect() == Dialect::kSqlite
                                    ? "DELETE FROM resources_fts WHERE rowid = (SELECT rowid FROM "
                                      "resources WHERE id = ?)"
                                    : "DELETE FROM resources_fts WHERE id = ?",
                                {id}));
  SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "resource.delete", id, "{}"));
  return tx.Commit();
}

}  // namespace soma::repo
