// Users, groups, roles and API tokens. A token is "soma_<id>_<secret>": the
// id is public (it names the token in listings and revocations); only the
// SHA-256 of the secret is stored, compared in constant time.

#include <algorithm>

#include "repo/crypto.h"
#include "repo/json.h"
#include "repo/repository_impl.h"

namespace soma::repo {
using nlohmann::json;
namespace {

bool IsValidName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

Status NameCheck(const std::string& what, const std::string& s) {
  if (IsValidName(s)) return Status::Ok();
  return InvalidArgument(what + " '" + s + "': use 1-64 lowercase letters, digits, '-', '_' or '.'");
}

Status RequireAdmin(const Principal& p, const std::string& what) {
  if (p.anonymous()) return Unauthenticated("sign in to " + what);
  if (p.role != Role::kAdmin) return PermissionDenied("only admins may " + what);
  return Status::Ok();
}

Result<User> LoadUser(Database& db, const std::string& name) {
  SOMA_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT name, role, created_ms FROM users WHERE name = ?", {name}));
  if (rows.empty()) return NotFound("user '" + name + "' not found");
  User u;
  u.name = rows[0].Text(0);
  SOMA_ASSIGN_OR_RETURN(u.role, ParseRole(rows[0].Text(1)));
  u.created_ms = rows[0].Int(2);
  SOMA_ASSIGN_OR_RETURN(auto groups, db.Query("SELECT group_name FROM memberships WHERE user_name = ? ORDER BY group_name", {name}));
  for (const SqlRow& g : groups) u.groups.push_back(g.Text(0));
  return u;
}

Result<User> InsertUser(Database& db, const std::string& actor, const std::string& name, Role role) {
  SOMA_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT 1 FROM users WHERE name = ?", {name}));
  if (!rows.empty()) return AlreadyExists("user '" + name + "' already exists");
  User u{name, role, {}, NowMs()};
  SOMA_RETURN_IF_ERROR(db.Exec("INSERT INTO users (name, role, created_ms) VALUES (?, ?, ?)",
                               {name, std::string(ToString(role)), u.created_ms}));
  SOMA_RETURN_IF_ERROR(AppendAudit(db, actor, "user.create", "user:" + name,
                                   json{{"role", ToString(role)}}.dump()));
  return u;
}

}  // namespace

bool Repository::HasUsers() {
  auto db = impl_->pool.Acquire();
  if (!db.ok()) return false;
  auto rows = (*db)->Query("SELECT 1 FROM users LIMIT 1", {});
  return rows.ok() && !rows->empty();
}

Result<User> Repository::CreateInitialAdmin(const std::string& name) {
  SOMA_RETURN_IF_ERROR(NameCheck("user name", name));
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
  SOMA_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT 1 FROM users LIMIT 1", {}));
  if (!rows.empty()) return FailedPrecondition("users exist already; an admin must create new users");
  SOMA_ASSIGN_OR_RETURN(User u, InsertUser(*db, "", name, Role::kAdmin));
  SOMA_RETURN_IF_ERROR(tx.Commit());
  return u;
}

Result<User> Repository::CreateUser(const Principal& p, const std::string& name, Role role) {
  SOMA_RETURN_IF_ERROR(RequireAdmin(p, "create users"));
  SOMA_RETURN_IF_ERROR(NameCheck("user name", name));
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
  SOMA_ASSIGN_OR_RETURN(User u, InsertUser(*db, p.user, name, role));
  SOMA_RETURN_IF_ERROR(tx.Commit());
  return u;
}

Result<User> Repository::GetUser(const Principal& p, const std::string& name) {
  if (p.anonymous()) return Unauthenticated("sign in to read user records");
  if (p.role != Role::kAdmin && p.user != name) return PermissionDenied("users may read only their own record");
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  return LoadUser(*db, name);
}

Result<std::vector<User>> Repository::ListUsers(const Principal& p) {
  SOMA_RETURN_IF_ERROR(RequireAdmin(p, "list users"));
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT name FROM users ORDER BY name", {}));
  std::vector<User> out;
  for (const SqlRow& row : rows) {
    SOMA_ASSIGN_OR_RETURN(User u, LoadUser(*db, row.Text(0)));
    out.push_back(std::move(u));
  }
  return out;
}

Result<User> Repository::SetRole(const Principal& p, const std::string& name, Role role) {
  SOMA_RETURN_IF_ERROR(RequireAdmin(p, "change roles"));
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
  SOMA_ASSIGN_OR_RETURN(User u, LoadUser(*db, name));
  SOMA_RETURN_IF_ERROR(db->Exec("UPDATE users SET role = ? WHERE name = ?", {std::string(ToString(role)), name}));
  SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "user.role", "user:" + name, json{{"role", ToString(role)}}.dump()));
  SOMA_RETURN_IF_ERROR(tx.Commit());
  u.role = role;
  return u;
}

Result<Group> Repository::CreateGroup(const Principal& p, const std::string& name, const std::string& title) {
  SOMA_RETURN_IF_ERROR(RequireAdmin(p, "create groups"));
  SOMA_RETURN_IF_ERROR(NameCheck("group name", name));
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
  SOMA_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT 1 FROM user_groups WHERE name = ?", {name}));
  if (!rows.empty()) return AlreadyExists("group '" + name + "' already exists");
  SOMA_RETURN_IF_ERROR(db->Exec("INSERT INTO user_groups (name, title, created_ms) VALUES (?, ?, ?)",
                                {name, title.empty() ? name : title, NowMs()}));
  SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "group.create", "group:" + name, "{}"));
  SOMA_RETURN_IF_ERROR(tx.Commit());
  return Group{name, title.empty() ? name : title, {}};
}

Result<std::vector<Group>> Repository::ListGroups(const Principal& p) {
  if (p.anonymous()) return Unauthenticated("sign in to list groups");
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT name, title FROM user_groups ORDER BY name", {}));
  std::vector<Group> out;
  for (const SqlRow& row : rows) {
    Group g{row.Text(0), row.Text(1), {}};
    // Members are listed to admins and to the group's own members.
    bool member = std::find(p.groups.begin(), p.groups.end(), g.name) != p.groups.end();
    if (p.role != Role::kAdmin && !member) continue;
    SOMA_ASSIGN_OR_RETURN(auto m, db->Query("SELECT user_name FROM memberships WHERE group_name = ? ORDER BY user_name", {g.name}));
    for (const SqlRow& u : m) g.members.push_back(u.Text(0));
    out.push_back(std::move(g));
  }
  return out;
}

Status Repository::AddMember(const Principal& p, const std::string& group, const std::string& user) {
  SOMA_RETURN_IF_ERROR(RequireAdmin(p, "change group membership"));
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
  SOMA_ASSIGN_OR_RETURN(auto g, db->Query("SELECT 1 FROM user_groups WHERE name = ?", {group}));
  if (g.empty()) return NotFound("group '" + group + "' not found");
  SOMA_ASSIGN_OR_RETURN(User u, LoadUser(*db, user));
  if (std::find(u.groups.begin(), u.groups.end(), group) != u.groups.end()) return Status::Ok();
  SOMA_RETURN_IF_ERROR(db->Exec("INSERT INTO memberships (group_name, user_name) VALUES (?, ?)", {group, user}));
  SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "group.member.add", "group:" + group, json{{"user", user}}.dump()));
  return tx.Commit();
}

Status Repository::RemoveMember(const Principal& p, const std::string& group, const std::string& user) {
  SOMA_RETURN_IF_ERROR(RequireAdmin(p, "change group membership"));
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
  SOMA_ASSIGN_OR_RETURN(auto m, db->Query("SELECT 1 FROM memberships WHERE group_name = ? AND user_name = ?", {group, user}));
  if (m.empty()) return NotFound("user '" + user + "' is not a member of group '" + group + "'");
  SOMA_RETURN_IF_ERROR(db->Exec("DELETE FROM memberships WHERE group_name = ? AND user_name = ?", {group, user}));
  SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "group.member.remove", "group:" + group, json{{"user", user}}.dump()));
  return tx.Commit();
}

Result<Repository::IssuedToken> Repository::CreateToken(const Principal& p, const std::string& user,
                                                          const std::string& label) {
  if (!p.anonymous() && p.role != Role::kAdmin && p.user != user) {
    return PermissionDenied("users may create tokens only for themselves");
  }
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
  SOMA_ASSIGN_OR_RETURN(User u, LoadUser(*db, user));
  if (p.anonymous()) {
    // Bootstrap: anonymous callers may only obtain the first token of the
    // initial admin, while that admin has no token yet.
    SOMA_ASSIGN_OR_RETURN(auto any, db->Query("SELECT 1 FROM tokens LIMIT 1", {}));
    if (u.role != Role::kAdmin || !any.empty()) return Unauthenticated("sign in to create tokens");
  }
  IssuedToken t;
  t.info.id = RandomHex(6);
  t.info.user = user;
  t.info.label = label;
  t.info.created_ms = NowMs();
  std::string secret = RandomHex(24);
  t.token = "soma_" + t.info.id + "_" + secret;
  SOMA_RETURN_IF_ERROR(db->Exec(
      "INSERT INTO tokens (id, user_name, secret_sha256, label, created_ms) VALUES (?, ?, ?, ?, ?)",
      {t.info.id, user, Sha256Hex(secret), label, t.info.created_ms}));
  SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "token.create", "user:" + user, json{{"token_id", t.info.id}, {"label", label}}.dump()));
  SOMA_RETURN_IF_ERROR(tx.Commit());
  return t;
}

Result<std::vector<TokenInfo>> Repository::ListTokens(const Principal& p, const std::string& user) {
  if (p.anonymous()) return Unauthenticated("sign in to list tokens");
  if (p.role != Role::kAdmin && p.user != user) return PermissionDenied("users may list only their own tokens");
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT id, user_name, label, created_ms, revoked FROM tokens WHERE user_name = ? ORDER BY created_ms", {user}));
  std::vector<TokenInfo> out;
  for (const SqlRow& r : rows) out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Int(3), r.Int(4) != 0});
  return out;
}

Status Repository::RevokeToken(const Principal& p, const std::string& token_id) {
  if (p.anonymous()) return Unauthenticated("sign in to revoke tokens");
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Write(*db));
  SOMA_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT user_name FROM tokens WHERE id = ?", {token_id}));
  if (rows.empty() || (p.role != Role::kAdmin && rows[0].Text(0) != p.user)) {
    return NotFound("token '" + token_id + "' not found");
  }
  SOMA_RETURN_IF_ERROR(db->Exec("UPDATE tokens SET revoked = 1 WHERE id = ?", {token_id}));
  SOMA_RETURN_IF_ERROR(AppendAudit(*db, p.user, "token.revoke", "user:" + rows[0].Text(0), json{{"token_id", token_id}}.dump()));
  return tx.Commit();
}

Result<Principal> Repository::Authenticate(const std::string& token) {
  // soma_<12 hex>_<48 hex>
  if (token.size() != 5 + 12 + 1 + 48 || token.rfind("soma_", 0) != 0 || token[17] != '_') {
    return Unauthenticated("malformed API token");
  }
  std::string id = token.substr(5, 12);
  std::string secret = token.substr(18);
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(auto rows, db->Query("SELECT user_name, secret_sha256, revoked FROM tokens WHERE id = ?", {id}));
  if (rows.empty() || !ConstantTimeEquals(rows[0].Text(1), Sha256Hex(secret)) || rows[0].Int(2) != 0) {
    return Unauthenticated("unknown or revoked API token");
  }
  SOMA_ASSIGN_OR_RETURN(User u, LoadUser(*db, rows[0].Text(0)));
  return Principal{u.name, u.role, u.groups};
}

Result<Principal> Repository::PrincipalForUser(const std::string& name) {
  SOMA_ASSIGN_OR_RETURN(auto db, impl_->pool.Acquire());
  SOMA_ASSIGN_OR_RETURN(User u, LoadUser(*db, name));
  return Principal{u.name, u.role, u.groups};
}

}  // namespace soma::repo
