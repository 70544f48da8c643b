// `soma admin user|group|token ...` and `soma audit verify|list`:
// governance from the command line, against a server or a data folder.

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/model_loading.h"
#include "server/api_client.h"

namespace soma::cli {

namespace {

using server::EncodePath;
using server::Json;

// One admin request: method, path, optional JSON body; prints the JSON
// reply (or `text` of it).
struct AdminCall {
  server::ClientTarget target;
  bool json = false;
};

int Run(const AdminCall& c, const std::string& method, const std::string& path, const server::Params& query,
        const Json* body, const std::function<void(const Json&)>& text) {
  auto client = server::Connect(c.target);
  if (!client.ok()) return ReportError(client.status());
  auto r = (*client)->SendJson(method, path, query, body);
  if (!r.ok()) return ReportError(r.status());
  if (c.json) {
    std::cout << r->dump(1) << "\n";
  } else {
    text(*r);
  }
  return 0;
}

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string Joined(const Json& list) {
  std::string out;
  for (const Json& v : list) out += (out.empty() ? "" : ",") + v.get<std::string>();
  return out;
}

struct Args {
  AdminCall call;
  std::string a, b;  // positional arguments of the subcommand
  std::string role = "reader";
  std::string title, label, user;
};

CLI::App* Sub(CLI::App* parent, const std::string& name, const std::string& help, std::shared_ptr<Args> args) {
  CLI::App* c = parent->add_subcommand(name, help);
  c->add_flag("--json", args->call.json, "Print the API's JSON");
  AddConnectionOptions(c, &args->call.target);
  return c;
}

void AddUserCommands(CLI::App* admin) {
  CLI::App* user = admin->add_subcommand("user", "Users and roles");
  user->require_subcommand(1);
  auto add = std::make_shared<Args>();
  CLI::App* c = Sub(user, "add", "Create a user", add);
  c->add_option("name", add->a, "User name")->required();
  c->add_option("--role", add->role, "reader, contributor, curator or admin")->capture_default_str();
  c->callback([add] {
    Json body = {{"name", add->a}, {"role", add->role}};
    SetExitCode(Run(add->call, "POST", "/v1/users", {}, &body, [](const Json& u) {
      std::cout << "created user " << Str(u, "name") << " (" << Str(u, "role") << ")\n";
    }));
  });
  auto list = std::make_shared<Args>();
  c = Sub(user, "list", "List users", list);
  c->callback([list] {
    SetExitCode(Run(list->call, "GET", "/v1/users", {}, nullptr, [](const Json& r) {
      for (const Json& u : r["items"]) {
        std::cout << Str(u, "name") << "  " << Str(u, "role") << "  " << Joined(u["groups"]) << "\n";
      }
    }));
  });
  auto role = std::make_shared<Args>();
  c = Sub(user, "role", "Change a user's role", role);
  c->add_option("name", role->a, "User name")->required();
  c->add_option("role", role->b, "reader, contributor, curator or admin")->required();
  c->callback([role] {
    Json body = {{"role", role->b}};
    SetExitCode(Run(role->call, "PATCH", "/v1/users/" + EncodePath(role->a), {}, &body, [](const Json& u) {
      std::cout << Str(u, "name") << " is now " << Str(u, "role") << "\n";
    }));
  });
}

void AddGroupCommands(CLI::App* admin) {
  CLI::App* group = admin->add_subcommand("group", "Groups (consortia) and membership");
  group->require_subcommand(1);
  auto add = std::make_shared<Args>();
  CLI::App* c = Sub(group, "add", "Create a group", add);
  c->add_option("name", add->a, "Group name")->required();
  c->add_option("--title", add->title, "Display title");
  c->callback([add] {
    Json body = {{"name", add->a}, {"title", add->title}};
    SetExitCode(Run(add->call, "POST", "/v1/groups", {}, &body,
                    [](const Json& g) { std::cout << "created group " << Str(g, "name") << "\n"; }));
  });
  auto list = std::make_shared<Args>();
  c = Sub(group, "list", "List groups and members", list);
  c->callback([list] {
    SetExitCode(Run(list->call, "GET", "/v1/groups", {}, nullptr, [](const Json& r) {
      for (const Json& g : r["items"]) std::cout << Str(g, "name") << "  " << Joined(g["members"]) << "\n";
    }));
  });
  auto member = std::make_shared<Args>();
  c = Sub(group, "add-member", "Add a user to a group", member);
  c->add_option("group", member->a, "Group")->required();
  c->add_option("user", member->b, "User")->required();
  c->callback([member] {
    Json body = {{"user", member->b}};
    SetExitCode(Run(member->call, "POST", "/v1/groups/" + EncodePath(member->a) + "/members", {}, &body,
                    [member](const Json&) { std::cout << "added " << member->b << " to " << member->a << "\n"; }));
  });
  auto remove = std::make_shared<Args>();
  c = Sub(group, "remove-member", "Remove a user from a group", remove);
  c->add_option("group", remove->a, "Group")->required();
  c->add_option("user", remove->b, "User")->required();
  c->callback([remove] {
    SetExitCode(Run(remove->call, "DELETE",
                    "/v1/groups/" + EncodePath(remove->a) + "/members/" + EncodePath(remove->b), {}, nullptr,
                    [remove](const Json&) { std::cout << "removed " << remove->b << " from " << remove->a << "\n"; }));
  });
}

void AddTokenCommands(CLI::App* admin) {
  CLI::App* token = admin->add_subcommand("token", "API tokens");
  token->require_subcommand(1);
  auto create = std::make_shared<Args>();
  CLI::App* c = Sub(token, "create", "Issue a token (printed once; only its hash is stored)", create);
  c->add_option("--for", create->user, "User the token is for (default: the caller)");
  c->add_option("--label", create->label, "What the token is for");
  c->callback([create] {
    Json body = {{"label", create->label}};
    if (!create->user.empty()) body["user"] = create->user;
    SetExitCode(Run(create->call, "POST", "/v1/tokens", {}, &body,
                    [](const Json& t) { std::cout << Str(t, "token") << "\n"; }));
  });
  auto list = std::make_shared<Args>();
  c = Sub(token, "list", "List a user's tokens", list);
  c->add_option("--for", list->user, "Whose tokens (default: the caller)");
  c->callback([list] {
    server::Params q;
    if (!list->user.empty()) q.emplace("user", list->user);
    SetExitCode(Run(list->call, "GET", "/v1/tokens", q, nullptr, [](const Json& r) {
      for (const Json& t : r["items"]) {
        std::cout << Str(t, "id") << "  " << Str(t, "user") << "  " << Str(t, "label")
                  << (t.value("revoked", false) ? "  (revoked)" : "") << "\n";
      }
    }));
  });
  auto revoke = std::make_shared<Args>();
  c = Sub(token, "revoke", "Revoke a token by its id", revoke);
  c->add_option("id", revoke->a, "Token id")->required();
  c->callback([revoke] {
    SetExitCode(Run(revoke->call, "DELETE", "/v1/tokens/" + EncodePath(revoke->a), {}, nullptr,
                    [revoke](const Json&) { std::cout << "revoked " << revoke->a << "\n"; }));
  });
}

}  // namespace

void AddAdminCommand(CLI::App& app) {
  CLI::App* admin = app.add_subcommand("admin", "Users, groups and tokens of a repository");
  admin->require_subcommand(1);
  AddUserCommands(admin);
  AddGroupCommands(admin);
  AddTokenCommands(admin);
}

void AddAuditCommand(CLI::App& app) {
  CLI::App* audit = app.add_subcommand("audit", "The repository's hash-chained audit log");
  audit->require_subcommand(1);
  auto verify = std::make_shared<Args>();
  CLI::App* c = Sub(audit, "verify", "Recompute the chain; exit 1 naming the first bad entry", verify);
  c->callback([verify] {
    const server::ClientTarget& t = verify->call.target;
    if (t.server.empty() && t.database_url.empty() && !std::filesystem::exists(t.data_dir)) {
      SetExitCode(ReportError(NotFound("--data " + t.data_dir + ": no such repository")));
      return;
    }
    auto client = server::Connect(t);
    if (!client.ok()) {
      SetExitCode(ReportError(client.status()));
      return;
    }
    auto r = (*client)->SendJson("GET", "/v1/audit/verify");
    if (!r.ok()) {
      SetExitCode(ReportError(r.status()));
      return;
    }
    bool ok = r->value("ok", false);
    if (verify->call.json) {
      std::cout << r->dump(1) << "\n";
    } else if (ok) {
      std::cout << "audit log ok: " << r->value("entries", 0) << " entries, chain verified\n";
    } else {
      std::cout << "audit log TAMPERED: first bad entry seq " << r->value("first_bad_seq", 0) << ": "
                << Str(*r, "problem") << " (" << r->value("entries", 0) << " entries)\n";
    }
    SetExitCode(ok ? 0 : 1);
  });
  auto list = std::make_shared<Args>();
  c = Sub(audit, "list", "Print audit entries", list);
  c->add_option("--limit", list->a, "Entries (default 100)");
  c->add_option("--offset", list->b, "Entries to skip");
  c->callback([list] {
    server::Params q;
    if (!list->a.empty()) q.emplace("limit", list->a);
    if (!list->b.empty()) q.emplace("offset", list->b);
    SetExitCode(Run(list->call, "GET", "/v1/audit", q, nullptr, [](const Json& r) {
      for (const Json& e : r["items"]) {
        std::cout << e.value("seq", 0) << "  " << e.value("time_ms", std::int64_t{0}) << "  "
                  << (Str(e, "actor").empty() ? "(anonymous)" : Str(e, "actor")) << "  " << Str(e, "action")
                  << "  " << Str(e, "target") << "\n";
      }
    }));
  });
}

}  // namespace soma::cli
