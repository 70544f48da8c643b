// `soma repo push|pull|search|show|versions|export|import`: the repository
// from the command line, against a server (--server URL) or a local data
// folder (--data DIR). Both go through the HTTP API's route table, so the
// JSON printed with --json is the API's response either way.

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/model_loading.h"
#include "cli/output.h"
#include "core/files.h"
#include "repo/crypto.h"
#include "server/api_client.h"
#include "server/content_index.h"
#include "server/problem.h"

namespace soma::cli {

namespace {

namespace fs = std::filesystem;
using server::EncodePath;
using server::Json;

// Files to push: each argument is a file (stored under its name) or a
// folder (its files, stored under their paths relative to the folder).
Result<std::vector<repo::NewFile>> CollectFiles(const std::vector<std::string>& args) {
  std::vector<repo::NewFile> files;
  for (const std::string& arg : args) {
    fs::path p(arg);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (it->is_regular_file()) found.push_back(it->path());
      }
      if (ec) return IoError(arg + ": " + ec.message());
      std::sort(found.begin(), found.end());
      for (const auto& f : found) {
        SOMA_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(f));
        files.push_back({fs::relative(f, p).generic_string(), std::move(bytes), ""});
      }
    } else {
      SOMA_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(p));
      files.push_back({p.filename().string(), std::move(bytes), ""});
    }
  }
  if (files.empty()) return InvalidArgument("no files to push");
  return files;
}

int Print(const Json& j, bool json, const std::function<void(const Json&)>& text) {
  if (json) {
    std::cout << j.dump(1) << "\n";
  } else {
    text(j);
  }
  return 0;
}

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

void PrintResource(const Json& r) {
  const Json& m = r["metadata"];
  std::cout << Str(r, "id") << "  (" << Str(r, "kind") << ", " << Str(r, "visibility")
            << (Str(r, "group").empty() ? "" : " to " + Str(r, "group")) << ", owner " << Str(r, "owner") << ")\n"
            << "  title:    " << Str(m, "title") << "\n"
            << "  licence:  " << Str(m, "license") << "\n"
            << "  versions: " << r.value("version_count", 0) << ", latest " << Str(r, "latest_version") << "\n";
  if (!Str(m, "description").empty()) std::cout << "  " << Str(m, "description") << "\n";
}

void PrintVersionLine(const Json& v) {
  std::cout << "  " << v.value("number", 0) << "  " << Str(v, "hash").substr(0, 12) << "  " << Str(v, "author")
            << "  " << Str(v, "message") << "  (" << v["files"].size() << " file(s))\n";
}

using ClientPtr = std::unique_ptr<server::ApiClient>;

Result<ClientPtr> ConnectOrReport(const server::ClientTarget& t) { return server::Connect(t); }

std::string ResourcePath(const std::string& id) { return "/v1/resources/" + EncodePath(id); }

// ---- push ----
struct PushArgs {
  server::ClientTarget target;
  std::string id;
  std::vector<std::string> files;
  std::string message = "Pushed with soma repo push";
  std::string kind = "model";
  std::string visibility = "private";
  std::string group;
  std::string title, license, metadata_file;
  bool json = false;
};

int RunPush(const PushArgs& a) {
  auto client = ConnectOrReport(a.target);
  if (!client.ok()) return ReportError(client.status());
  auto files = CollectFiles(a.files);
  if (!files.ok()) return ReportError(files.status());

  std::optional<repo::Metadata> metadata;
  if (!a.metadata_file.empty()) {
    auto text = ReadWholeFile(a.metadata_file);
    if (!text.ok()) return ReportError(text.status());
    auto j = server::ParseJsonObject(*text, a.metadata_file);
    if (!j.ok()) return ReportError(j.status());
    auto md = server::MetadataFromJson(*j);
    if (!md.ok()) return ReportError(md.status().WithContext(a.metadata_file));
    metadata = *md;
  }
  if (!a.title.empty() || !a.license.empty()) {
    if (!metadata) {
      // Start from the resource's current metadata, else the model's own.
      auto current = (*client)->SendJson("GET", ResourcePath(a.id));
      if (current.ok()) {
        metadata = *server::MetadataFromJson((*current)["metadata"]);
      } else {
        metadata = repo::Metadata{};
      }
    }
    if (!a.title.empty()) metadata->title = a.title;
    if (!a.license.empty()) metadata->license = a.license;
  }

  auto existing = (*client)->SendJson("GET", ResourcePath(a.id));
  if (!existing.ok() && existing.status().code() != ErrorCode::kNotFound) return ReportError(existing.status());
  if (!existing.ok()) {
    repo::Metadata md;
    if (metadata) {
      md = *metadata;
    } else {
      for (const auto& f : *files) {
        if (!server::LooksLikeSbml(f.bytes)) continue;
        if (auto from_model = server::MetadataFromSbml(f.bytes); from_model.ok()) md = *from_model;
        break;
      }
    }
    if (md.title.empty()) md.title = a.id;
    Json body = {{"id", a.id}, {"kind", a.kind}, {"visibility", a.visibility}, {"metadata", server::ToJson(md)}};
    if (!a.group.empty()) body["group"] = a.group;
    auto created = (*client)->SendJson("POST", "/v1/resources", {}, &body);
    if (!created.ok()) return ReportError(created.status());
    if (!metadata) metadata = md;
  }
  server::PushRequest push;
  push.files = std::move(files).value();
  push.message = a.message;
  push.metadata = metadata;
  Json body = server::PushToJson(push);
  auto version = (*client)->SendJson("POST", ResourcePath(a.id) + "/versions", {}, &body);
  if (!version.ok()) return ReportError(version.status());
  return Print(*version, a.json, [&](const Json& v) {
    std::cout << "pushed " << a.id << " version " << v.value("number", 0) << " " << Str(v, "hash") << "\n";
  });
}

// ---- pull ----
struct PullArgs {
  server::ClientTarget target;
  std::string id;
  std::string version = "latest";
  std::string out;
  bool json = false;
};

int RunPull(const PullArgs& a) {
  auto client = ConnectOrReport(a.target);
  if (!client.ok()) return ReportError(client.status());
  std::string vpath = ResourcePath(a.id) + "/versions/" + EncodePath(a.version);
  auto v = (*client)->SendJson("GET", vpath);
  if (!v.ok()) return ReportError(v.status());
  fs::path out = a.out.empty() ? fs::path(a.id) : fs::path(a.out);
  for (const Json& f : (*v)["files"]) {
    std::string path = Str(f, "path");
    auto bytes = (*client)->SendBytes("GET", vpath + "/files/" + EncodePath(path, true));
    if (!bytes.ok()) return ReportError(bytes.status().WithContext(path));
    // Verify what arrived against the version's record before writing it.
    if (repo::Sha256Hex(*bytes) != Str(f, "sha256")) {
      return ReportError(DataLoss(path + ": downloaded bytes do not match the version's SHA-256"));
    }
    fs::path target = out / fs::path(path);
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (Status s = WriteOutput(target.string(), *bytes); !s.ok()) return ReportError(s);
  }
  return Print(*v, a.json, [&](const Json& j) {
    std::cout << "pulled " << a.id << " version " << j.value("number", 0) << " (" << j["files"].size()
              << " file(s), hashes verified) into " << out.string() << "\n";
  });
}

// ---- search ----
struct SearchArgs {
  server::ClientTarget target;
  std::string text;
  std::vector<std::string> filters;  // facet=value
  std::string sort;
  int limit = 20;
  int offset = 0;
  bool json = false;
};

int RunSearch(const SearchArgs& a) {
  auto client = ConnectOrReport(a.target);
  if (!client.ok()) return ReportError(client.status());
  server::Params q;
  if (!a.text.empty()) q.emplace("q", a.text);
  if (!a.sort.empty()) q.emplace("sort", a.sort);
  q.emplace("limit", std::to_string(a.limit));
  q.emplace("offset", std::to_string(a.offset));
  for (const std::string& f : a.filters) {
    size_t eq = f.find('=');
    if (eq == std::string::npos) return ReportError(InvalidArgument("--filter '" + f + "': expected FACET=VALUE"));
    q.emplace(f.substr(0, eq), f.substr(eq + 1));
  }
  auto result = (*client)->SendJson("GET", "/v1/search", q);
  if (!result.ok()) return ReportError(result.status());
  return Print(*result, a.json, [](const Json& r) {
    std::cout << r.value("total", 0) << " match(es)\n";
    for (const Json& item : r["items"]) {
      std::cout << "  " << Str(item, "id") << "  [" << Str(item, "kind") << ", " << Str(item, "visibility") << "]  "
                << Str(item["metadata"], "title") << "\n";
    }
    for (auto& [facet, counts] : r["facets"].items()) {
      if (counts.empty()) continue;
      std::cout << "  " << facet << ":";
      for (const Json& c : counts) std::cout << " " << Str(c, "value") << " (" << c.value("count", 0) << ")";
      std::cout << "\n";
    }
  });
}

// ---- show / versions ----
struct IdArgs {
  server::ClientTarget target;
  std::string id;
  bool json = false;
};

int RunShow(const IdArgs& a) {
  auto client = ConnectOrReport(a.target);
  if (!client.ok()) return ReportError(client.status());
  auto r = (*client)->SendJson("GET", ResourcePath(a.id));
  if (!r.ok()) return ReportError(r.status());
  return Print(*r, a.json, PrintResource);
}

int RunVersions(const IdArgs& a) {
  auto client = ConnectOrReport(a.target);
  if (!client.ok()) return ReportError(client.status());
  auto r = (*client)->SendJson("GET", ResourcePath(a.id) + "/versions");
  if (!r.ok()) return ReportError(r.status());
  return Print(*r, a.json, [&](const Json& list) {
    std::cout << a.id << ": " << list["items"].size() << " version(s)\n";
    for (const Json& v : list["items"]) PrintVersionLine(v);
  });
}

// ---- export / import ----
struct ExportArgs {
  server::ClientTarget target;
  std::string id;
  std::string version = "latest";
  std::string output;
};

int RunExport(const ExportArgs& a) {
  auto client = ConnectOrReport(a.target);
  if (!client.ok()) return ReportError(client.status());
  auto zip = (*client)->SendBytes("GET", ResourcePath(a.id) + "/export", {{"version", a.version}});
  if (!zip.ok()) return ReportError(zip.status());
  std::string out = a.output.empty() ? a.id + ".omex" : a.output;
  if (Status s = WriteOutput(out, *zip); !s.ok()) return ReportError(s);
  if (out != "-") std::cerr << "exported " << a.id << " to " << out << " (" << zip->size() << " bytes)\n";
  return 0;
}

struct ImportArgs {
  server::ClientTarget target;
  std::string file;
  std::string id, kind, visibility, group;
  bool json = false;
};

int RunImport(const ImportArgs& a) {
  auto client = ConnectOrReport(a.target);
  if (!client.ok()) return ReportError(client.status());
  auto bytes = ReadWholeFile(a.file);
  if (!bytes.ok()) return ReportError(bytes.status());
  server::Params q;
  if (!a.id.empty()) q.emplace("id", a.id);
  if (!a.kind.empty()) q.emplace("kind", a.kind);
  if (!a.visibility.empty()) q.emplace("visibility", a.visibility);
  if (!a.group.empty()) q.emplace("group", a.group);
  auto res = (*client)->Send("POST", "/v1/import", q, *bytes, "application/zip");
  if (!res.ok()) return ReportError(res.status());
  if (res->status != 201) return ReportError(server::StatusFromProblem(res->status, res->body));
  Json j = Json::parse(res->body, nullptr, false);
  if (j.is_discarded()) return ReportError(ParseError("import: response is not JSON"));
  return Print(j, a.json, [](const Json& r) {
    std::cout << "imported " << Str(r["resource"], "id") << " version " << Str(r["version"], "hash") << "\n";
  });
}

}  // namespace

void AddConnectionOptions(CLI::App* cmd, server::ClientTarget* t) {
  if (const char* token = std::getenv("SOMA_TOKEN")) t->token = token;
  cmd->add_option("--server", t->server, "Server URL (http://host:port); default: the local --data folder");
  cmd->add_option("--token", t->token, "API token for --server (default: $SOMA_TOKEN)");
  cmd->add_option("--ca-cert", t->ca_cert, "PEM CA certificate to trust for an https --server");
  cmd->add_option("--data", t->data_dir, "Local data folder (when no --server)")->capture_default_str();
  cmd->add_option("--db", t->database_url, "Local database URL (when no --server); default SQLite in --data");
  cmd->add_option("--user", t->user, "Local mode: act as this user (default admin)");
}

void AddRepoCommand(CLI::App& app) {
  CLI::App* repo = app.add_subcommand("repo", "Publish, find and fetch models, data and evidence");
  repo->require_subcommand(1);

  auto push = std::make_shared<PushArgs>();
  CLI::App* c = repo->add_subcommand("push", "Push files as a new version (creating the resource if needed)");
  c->add_option("id", push->id, "Resource id")->required();
  c->add_option("files", push->files, "Files or folders")->required()->check(CLI::ExistingPath);
  c->add_option("-m,--message", push->message, "Version message")->capture_default_str();
  c->add_option("--kind", push->kind, "Kind of a new resource")->capture_default_str();
  c->add_option("--visibility", push->visibility, "Visibility of a new resource: public, group, private")
      ->capture_default_str();
  c->add_option("--group", push->group, "Group of a new group-visible resource");
  c->add_option("--title", push->title, "Title (default: the SBML model's name, else the id)");
  c->add_option("--license", push->license, "SPDX licence id (default for SBML: CC-BY-4.0)");
  c->add_option("--metadata", push->metadata_file, "JSON file with the full metadata")->check(CLI::ExistingFile);
  c->add_flag("--json", push->json, "Print the API's JSON");
  AddConnectionOptions(c, &push->target);
  c->callback([push] { SetExitCode(RunPush(*push)); });

  auto pull = std::make_shared<PullArgs>();
  c = repo->add_subcommand("pull", "Download a version's files (hashes verified)");
  c->add_option("id", pull->id, "Resource id")->required();
  c->add_option("--version", pull->version, "Hash, prefix, number or latest")->capture_default_str();
  c->add_option("-o,--out", pull->out, "Folder to write into (default: ./ID)");
  c->add_flag("--json", pull->json, "Print the version's JSON");
  AddConnectionOptions(c, &pull->target);
  c->callback([pull] { SetExitCode(RunPull(*pull)); });

  auto search = std::make_shared<SearchArgs>();
  c = repo->add_subcommand("search", "Full-text search with facets");
  c->add_option("text", search->text, "Search text (empty: everything visible)");
  c->add_option("-f,--filter", search->filters, "FACET=VALUE (kind, organ, disease, license, scale, credibility, visibility)");
  c->add_option("--sort", search->sort, "relevance, updated, title, created, rating");
  c->add_option("--limit", search->limit, "Page size (1-100)")->capture_default_str();
  c->add_option("--offset", search->offset, "Matches to skip")->capture_default_str();
  c->add_flag("--json", search->json, "Print the API's JSON");
  AddConnectionOptions(c, &search->target);
  c->callback([search] { SetExitCode(RunSearch(*search)); });

  auto show = std::make_shared<IdArgs>();
  c = repo->add_subcommand("show", "A resource and its latest metadata");
  c->add_option("id", show->id, "Resource id")->required();
  c->add_flag("--json", show->json, "Print the API's JSON");
  AddConnectionOptions(c, &show->target);
  c->callback([show] { SetExitCode(RunShow(*show)); });

  auto versions = std::make_shared<IdArgs>();
  c = repo->add_subcommand("versions", "A resource's versions");
  c->add_option("id", versions->id, "Resource id")->required();
  c->add_flag("--json", versions->json, "Print the API's JSON");
  AddConnectionOptions(c, &versions->target);
  c->callback([versions] { SetExitCode(RunVersions(*versions)); });

  auto exp = std::make_shared<ExportArgs>();
  c = repo->add_subcommand("export", "Write a version as a COMBINE/OMEX archive");
  c->add_option("id", exp->id, "Resource id")->required();
  c->add_option("--version", exp->version, "Hash, prefix, number or latest")->capture_default_str();
  c->add_option("-o,--output", exp->output, "Archive file (default ID.omex; - for stdout)");
  AddConnectionOptions(c, &exp->target);
  c->callback([exp] { SetExitCode(RunExport(*exp)); });

  auto imp = std::make_shared<ImportArgs>();
  c = repo->add_subcommand("import", "Create a resource from a COMBINE/OMEX archive");
  c->add_option("file", imp->file, "Archive (.omex)")->required()->check(CLI::ExistingFile);
  c->add_option("--id", imp->id, "Resource id (default: from the title)");
  c->add_option("--kind", imp->kind, "Resource kind (default: the archive's, else model)");
  c->add_option("--visibility", imp->visibility, "public, group or private (default private)");
  c->add_option("--group", imp->group, "Group for group visibility");
  c->add_flag("--json", imp->json, "Print the API's JSON");
  AddConnectionOptions(c, &imp->target);
  c->callback([imp] { SetExitCode(RunImport(*imp)); });
}

}  // namespace soma::cli
