#include <filesystem>
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "server/routes.h"

namespace soma::server {
namespace {

// A real (empty) repository: the handlers are built, never called.
class RoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("soma_routes_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    repo::RepositoryOptions options;
    options.data_dir = dir_;
    auto repo = repo::Repository::Open(options);
    ASSERT_TRUE(repo.ok()) << repo.status().ToString();
    repo_ = std::move(repo).value();
    service_ = std::make_unique<ApiService>(*repo_);
  }
  void TearDown() override {
    service_.reset();
    repo_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<repo::Repository> repo_;
  std::unique_ptr<ApiService> service_;
};

TEST(PathRegex, OneSegmentPerParameterAndTheRestForPath) {
  std::regex r(PathRegex("/v1/resources/{id}/versions/{version}/files/{path}"));
  std::smatch m;
  std::string p = "/v1/resources/m1/versions/latest/files/data/a.csv";
  ASSERT_TRUE(std::regex_match(p, m, r));
  EXPECT_EQ(m[1], "m1");
  EXPECT_EQ(m[2], "latest");
  EXPECT_EQ(m[3], "data/a.csv");
  std::string q = "/v1/resources/a/b";
  EXPECT_FALSE(std::regex_match(q, std::regex(PathRegex("/v1/resources/{id}"))));
  std::string dot = "/v1/openapiXjson";
  EXPECT_FALSE(std::regex_match(dot, std::regex(PathRegex("/v1/openapi.json"))));
}

// The table itself is well formed: unique (method, path) and operation ids,
// and no two templates that one concrete path could match under one method.
TEST_F(RoutesTest, TableIsUnambiguous) {
  std::vector<Route> routes = ApiRoutes(*service_);
  std::set<std::string> ops, keys;
  for (const Route& r : routes) {
    EXPECT_TRUE(ops.insert(r.operation_id).second) << r.operation_id;
    EXPECT_TRUE(keys.insert(r.method + " " + r.path).second) << r.path;
    EXPECT_TRUE(r.handler) << r.path;
  }
  for (const Route& a : routes) {
    // A concrete path made from a's template.
    std::string concrete = std::regex_replace(a.path, std::regex("\\{[a-z]+\\}"), "x1");
    for (const Route& b : routes) {
      if (&a == &b || a.method != b.method) continue;
      EXPECT_FALSE(std::regex_match(concrete, std::regex(PathRegex(b.path))))
          << a.method << " " << a.path << " also matches " << b.path;
    }
  }
}

TEST_F(RoutesTest, OpenApiDocumentsEveryRoute) {
  std::vector<Route> routes = ApiRoutes(*service_);
  Json doc = OpenApiDocument(routes, "test");
  EXPECT_EQ(doc["openapi"], "3.0.3");
  size_t operations = 0;
  for (auto& [path, item] : doc["paths"].items()) operations += item.size();
  EXPECT_EQ(operations, routes.size());
  const Json& get = doc["paths"]["/v1/resources/{id}/versions/{version}/files/{path}"]["get"];
  ASSERT_TRUE(get.is_object());
  EXPECT_EQ(get["parameters"].size(), 4u);  // id, version, path, If-None-Match
  EXPECT_TRUE(get["responses"].contains("304"));
}

}  // namespace
}  // namespace soma::server
