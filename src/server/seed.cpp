#include "server/seed.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "repo/crypto.h"
#include "server/bundled_models.h"
#include "server/content_index.h"
#include "server/dossier.h"

namespace soma::server {

Status WriteSecretFile(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::path tmp = path;
  tmp += ".tmp-" + repo::RandomHex(4);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IoError(tmp.string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return IoError(tmp.string() + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return IoError(path.string() + ": " + std::strerror(err));
  }
  return Status::Ok();
}

namespace {

const BundledFile* FindEvidenceFile(std::string_view name) {
  for (const BundledFile& f : BundledEvidence()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string MediaTypeOf(std::string_view name) {
  if (name.ends_with(".json")) return "application/json";
  if (name.ends_with(".md")) return "text/markdown";
  if (name.ends_with(".png")) return "image/png";
  return "application/octet-stream";
}

// Publishes the dossier of model `model_id` with its evidence files as the
// public evidence resource "<model_id>-credibility"; returns its id.
Result<std::string> SeedDossier(repo::Repository& repo, const repo::Principal& admin, const Dossier& dossier,
                                const std::string& model_id, const std::string& model_title) {
  const std::string id = model_id + "-credibility";
  repo::Metadata m;
  m.title = "Credibility dossier: " + model_title;
  m.description = "Question of interest: " + dossier.question_of_interest + "\n\nModel risk (V&V 40): " +
                  ModelRiskLabel(dossier.model_risk) + ", from model influence " + dossier.model_influence +
                  " and decision consequence " + dossier.decision_consequence + ".";
  m.license = "CC-BY-4.0";
  m.keywords = {"credibility", "verification", "validation", "V&V 40"};
  m.context_of_use = dossier.context_of_use;
  m.credibility_level = dossier.credibility_level;
  repo::NewResource r;
  r.id = id;
  r.kind = repo::ResourceKind::kEvidence;
  r.visibility = repo::Visibility::kPublic;
  r.metadata = m;
  SOMA_RETURN_IF_ERROR(repo.CreateResource(admin, r).status());
  repo::NewVersion v;
  v.files.push_back({"dossier.json", dossier.document.dump(2) + "\n", "application/json"});
  for (const std::string& name : dossier.evidence) {
    const BundledFile* f = FindEvidenceFile(name);
    if (f == nullptr) return NotFound("dossier of '" + model_id + "': evidence file '" + name + "' is not bundled");
    v.files.push_back({name, std::string(f->bytes), MediaTypeOf(name)});
  }
  v.message = "Bundled with Soma";
  v.metadata = m;
  v.provenance.inputs = {model_id};
  v.index_text = dossier.question_of_interest;
  SOMA_RETURN_IF_ERROR(repo.PushVersion(admin, id, v).status());
  return id;
}

}  // namespace

Result<std::vector<std::string>> SeedBundledModels(repo::Repository& repo, const repo::Principal& admin) {
  std::vector<std::string> added;
  for (const BundledFile& file : BundledModels()) {
    std::string name(file.name);
    std::string id = name.substr(0, name.rfind('.'));
    if (repo.GetResource(admin, id).ok()) continue;
    auto metadata = MetadataFromSbml(file.bytes);
    if (!metadata.ok()) return metadata.status().WithContext("bundled model " + name);
    if (metadata->title.empty()) metadata->title = id;
    std::optional<Dossier> dossier;
    if (const BundledFile* d = FindEvidenceFile(id + ".json")) {
      auto parsed = ParseDossier(d->bytes);
      if (!parsed.ok()) return parsed.status().WithContext("dossier of bundled model " + name);
      if (parsed->model != id) return InvalidArgument("dossier " + id + ".json is about '" + parsed->model + "'");
      metadata->context_of_use = parsed->context_of_use;
      metadata->credibility_level = parsed->credibility_level;
      dossier = std::move(*parsed);
    }
    repo::NewResource r;
    r.id = id;
    r.kind = repo::ResourceKind::kModel;
    r.visibility = repo::Visibility::kPublic;
    r.metadata = *metadata;
    auto created = repo.CreateResource(admin, r);
    if (!created.ok()) return created.status().WithContext("bundled model " + name);
    repo::NewVersion v;
    v.files.push_back({name, std::string(file.bytes), "application/sbml+xml"});
    v.message = "Bundled with Soma";
    v.metadata = *metadata;
    if (dossier) {
      auto evidence = SeedDossier(repo, admin, *dossier, id, metadata->title);
      if (!evidence.ok()) return evidence.status().WithContext("bundled model " + name);
      v.provenance.validated_by = {*evidence};
      added.push_back(*evidence);
    }
    IndexContent(&v);
    auto pushed = repo.PushVersion(admin, id, v);
    if (!pushed.ok()) return pushed.status().WithContext("bundled model " + name);
    added.push_back(id);
  }
  return added;
}

Result<FirstStart> InitializeOnFirstStart(repo::Repository& repo, const std::filesystem::path& token_file) {
  FirstStart out;
  if (repo.HasUsers()) return out;
  SOMA_ASSIGN_OR_RETURN(auto admin_user, repo.CreateInitialAdmin("admin"));
  repo::Principal admin;
  admin.user = admin_user.name;
  admin.role = admin_user.role;
  SOMA_ASSIGN_OR_RETURN(auto issued, repo.CreateToken(admin, admin.user, "initial admin token"));
  SOMA_RETURN_IF_ERROR(WriteSecretFile(token_file, issued.token + "\n"));
  out.happened = true;
  out.token_file = token_file;
  SOMA_ASSIGN_OR_RETURN(out.seeded, SeedBundledModels(repo, admin));
  return out;
}

}  // namespace soma::server
