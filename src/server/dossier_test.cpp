// The bundled credibility dossiers parse, cite only bundled evidence, and are
// published with their models on first start.

#include "server/dossier.h"

#include <filesystem>
#include <set>

#include <unistd.h>

#include <gtest/gtest.h>

#include "server/bundled_models.h"
#include "server/seed.h"

namespace soma::server {
namespace {

TEST(DossierTest, EveryBundledDossierParsesAndCitesBundledEvidence) {
  std::set<std::string> files, models;
  for (const BundledFile& f : BundledEvidence()) files.insert(std::string(f.name));
  for (const BundledFile& f : BundledModels()) models.insert(std::string(f.name.substr(0, f.name.rfind('.'))));
  int dossiers = 0;
  for (const BundledFile& f : BundledEvidence()) {
    if (!f.name.ends_with(".json")) continue;
    ++dossiers;
    auto d = ParseDossier(f.bytes);
    ASSERT_TRUE(d.ok()) << f.name << ": " << d.status().ToString();
    EXPECT_EQ(d->model + ".json", f.name);
    EXPECT_TRUE(models.count(d->model)) << d->model << " is not a bundled model";
    for (const std::string& e : d->evidence) EXPECT_TRUE(files.count(e)) << f.name << " cites " << e;
    EXPECT_GE(d->model_risk, 1);
    EXPECT_LE(d->model_risk, 5);
  }
  EXPECT_GE(dossiers, 6);
}

TEST(DossierTest, ModelRiskFollowsTheRiskMapAndBadFieldsAreNamed) {
  auto text = [](const std::string& influence, const std::string& consequence) {
    return R"({"format": "soma.dossier/1", "model": "m", "question_of_interest": "q", "context_of_use": "c",
               "model_influence": ")" + influence + R"(", "decision_consequence": ")" + consequence +
           R"(", "credibility_level": "low", "evidence": ["r.md"]})";
  };
  EXPECT_EQ(ParseDossier(text("low", "low"))->model_risk, 1);
  EXPECT_EQ(ParseDossier(text("medium", "low"))->model_risk, 2);
  EXPECT_EQ(ParseDossier(text("high", "medium"))->model_risk, 4);
  EXPECT_EQ(ParseDossier(text("high", "high"))->model_risk, 5);
  EXPECT_EQ(ParseDossier(text("high", "high"))->document["model_risk"]["level"], 5);
  auto bad = ParseDossier(text("huge", "low"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("model_influence"), std::string::npos);
  EXPECT_FALSE(ParseDossier("{").ok());
  EXPECT_FALSE(ParseDossier(R"({"format": "other"})").ok());
}

TEST(DossierTest, FirstStartPublishesDossiersLinkedFromTheirModels) {
  const auto dir = std::filesystem::temp_directory_path() / ("soma-dossier-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  repo::RepositoryOptions options;
  options.data_dir = dir;
  auto repo = repo::Repository::Open(options);
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();
  auto first = InitializeOnFirstStart(**repo, dir / "admin-token");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const repo::Principal anyone = repo::Principal::Anonymous();
  auto evidence = (*repo)->GetResource(anyone, "t1d-uva-padova-credibility");
  ASSERT_TRUE(evidence.ok()) << evidence.status().ToString();
  EXPECT_EQ(evidence->kind, repo::ResourceKind::kEvidence);
  auto dossier = (*repo)->ReadFile(anyone, "t1d-uva-padova-credibility", "latest", "dossier.json");
  ASSERT_TRUE(dossier.ok()) << dossier.status().ToString();
  EXPECT_NE(dossier->find("\"model_risk\""), std::string::npos);
  auto report = (*repo)->ReadFile(anyone, "t1d-uva-padova-credibility", "latest", "t1d-uva-padova.md");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_NE(report->find("Reference patients"), std::string::npos);
  auto versions = (*repo)->ListVersions(anyone, "t1d-uva-padova");
  ASSERT_TRUE(versions.ok());
  ASSERT_FALSE(versions->empty());
  EXPECT_EQ(versions->back().provenance.validated_by, std::vector<std::string>{"t1d-uva-padova-credibility"});
  auto model = (*repo)->GetResource(anyone, "t1d-uva-padova");
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->metadata.credibility_level, "medium");
  EXPECT_FALSE(model->metadata.context_of_use.empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace soma::server
