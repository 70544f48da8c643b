#include "server/seed.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "repo/crypto.h"
#include "server/bundled_models.h"
#include "server/content_index.h"

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

Result<std::vector<std::string>> SeedBundledModels(repo::Repository& repo, const repo::Principal& admin) {
  std::vector<std::string> added;
  for (const BundledFile& file : BundledModels()) {
    std::string name(file.name);
    std::string id = name.substr(0, name.rfind('.'));
    if (repo.GetResource(admin, id).ok()) continue;
    auto metadata = MetadataFromSbml(file.bytes);
    if (!metadata.ok()) return metadata.status().WithContext("bundled model " + name);
    if (metadata->title.empty()) metadata->title = id;
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
