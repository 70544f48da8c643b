#pragma once
// What a server does the first time it opens an empty repository: create the
// initial admin, issue its token (saved to a 0600 file, never logged) and
// publish the bundled models.

#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"
#include "repo/repository.h"

namespace soma::server {

struct FirstStart {
  bool happened = false;             // false: the repository already had users
  std::filesystem::path token_file;  // where the admin token was written
  std::vector<std::string> seeded;   // ids of the bundled models published
};

// If the repository has no users: creates user "admin", writes a new token
// for it to `token_file` (created with mode 0600, replaced atomically) and
// seeds the bundled models with their credibility dossiers. Otherwise does
// nothing.
// Errors: the repository's, or kIoError writing the token file.
Result<FirstStart> InitializeOnFirstStart(repo::Repository& repo, const std::filesystem::path& token_file);

// Publishes every bundled model not yet present, as a public model resource
// whose id is the file name without extension, with metadata read from the
// SBML (licence CC-BY-4.0 unless the model states one). A model with a
// bundled dossier (models/dossiers/<id>.json) also gets the public evidence
// resource "<id>-credibility" (dossier.json with the derived model risk, and
// the evidence files it cites); the model's version names it in
// provenance.validated_by and takes its context of use and credibility level.
// Returns the ids added (evidence before its model).
Result<std::vector<std::string>> SeedBundledModels(repo::Repository& repo, const repo::Principal& admin);

// Writes `text` to `path` with mode 0600 (temp file, fsync, rename).
Status WriteSecretFile(const std::filesystem::path& path, const std::string& text);

}  // namespace soma::server
