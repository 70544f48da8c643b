// The OpenAPI document served at /v1/openapi.json against the routes the
// server really answers: every documented operation exists (its request
// reaches a handler instead of the "no route" problem), every other method
// on a documented path is refused with 405, undocumented paths give 404,
// and the document matches the library's route table.

#include <set>

#include <gtest/gtest.h>

#include "repo/repository.h"
#include "server/routes.h"
#include "server_process.h"

namespace soma::apitest {
namespace {

bool IsNoRoute(const Response& r) {
  Json j = r.json();
  return j.is_object() && j.value("type", "") == "urn:soma:http:404";
}

std::string Concrete(std::string path) {
  for (size_t at = path.find('{'); at != std::string::npos; at = path.find('{')) {
    path.replace(at, path.find('}', at) - at + 1, "probe");
  }
  return path;
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("openapi");
    server_ = ServerProcess::Start(dir_->path() / "data", {.extra_args = {"--rate-limit", "0"}});
    ASSERT_NE(server_, nullptr);
    Response r = Client(server_->url()).Get("/v1/openapi.json");
    ASSERT_EQ(r.status, 200);
    doc_ = r.json();
    ASSERT_TRUE(doc_.is_object());
  }
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ServerProcess> server_;
  Json doc_;
};

TEST_F(OpenApiTest, DocumentIsWellFormedOpenApi3) {
  EXPECT_EQ(doc_["openapi"].get<std::string>().substr(0, 2), "3.");
  EXPECT_TRUE(doc_["info"]["title"].is_string());
  EXPECT_TRUE(doc_["components"]["schemas"].contains("Problem"));
  std::set<std::string> ids;
  for (auto& [path, item] : doc_["paths"].items()) {
    EXPECT_EQ(path.front(), '/');
    for (auto& [method, op] : item.items()) {
      EXPECT_TRUE(ids.insert(op["operationId"].get<std::string>()).second) << "duplicate operationId";
      EXPECT_FALSE(op["responses"].empty()) << method << " " << path;
      // Every {param} of the path is declared as a path parameter.
      std::set<std::string> declared;
      for (const Json& p : op.value("parameters", Json::array())) {
        if (p["in"] == "path") declared.insert(p["name"].get<std::string>());
      }
      for (size_t at = path.find('{'); at != std::string::npos; at = path.find('{', at + 1)) {
        std::string name = path.substr(at + 1, path.find('}', at) - at - 1);
        EXPECT_TRUE(declared.count(name)) << method << " " << path << " does not declare " << name;
      }
    }
  }
  EXPECT_GE(ids.size(), 30u);
}

TEST_F(OpenApiTest, EveryDocumentedOperationIsARealRoute) {
  Client admin(server_->url(), server_->admin_token());
  int probed = 0;
  for (auto& [path, item] : doc_["paths"].items()) {
    for (auto& [method, op] : item.items()) {
      std::string m = method;
      for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      bool has_body = op.contains("requestBody");
      Response r = admin.Send(m, Concrete(path), has_body ? "{}" : "", has_body ? "application/json" : "");
      EXPECT_NE(r.status, 0) << m << " " << path;
      EXPECT_FALSE(IsNoRoute(r)) << m << " " << path << " is documented but not served: " << r.body;
      EXPECT_NE(r.status, 405) << m << " " << path;
      ++probed;
    }
  }
  EXPECT_GE(probed, 30);
}

TEST_F(OpenApiTest, NoUndocumentedMethodOrPathIsServed) {
  Client admin(server_->url(), server_->admin_token());
  for (auto& [path, item] : doc_["paths"].items()) {
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      std::string lower = method;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (item.contains(lower)) continue;
      Response r = admin.Send(method, Concrete(path), "{}", "application/json");
      EXPECT_EQ(r.status, 405) << method << " " << path << " answers although undocumented: " << r.body;
    }
  }
  for (const char* path : {"/", "/v1", "/v1/resource", "/v1/resources/x/y", "/v2/resources", "/v1/admin"}) {
    Response r = admin.Get(path);
    EXPECT_TRUE(IsNoRoute(r)) << path << ": " << r.status << " " << r.body;
  }
}

TEST_F(OpenApiTest, DocumentMatchesTheLibraryRouteTable) {
  TempDir scratch("openapi_table");
  repo::RepositoryOptions ro;
  ro.data_dir = scratch.path();
  auto repo = repo::Repository::Open(ro);
  ASSERT_TRUE(repo.ok());
  server::ApiService service(**repo);
  std::set<std::string> table, documented;
  for (const server::Route& r : server::ApiRoutes(service)) table.insert(r.method + " " + r.path);
  table.insert("GET /v1/openapi.json");
  for (auto& [path, item] : doc_["paths"].items()) {
    for (auto& [method, op] : item.items()) {
      std::string m = method;
      for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(m + " " + path);
    }
  }
  EXPECT_EQ(table, documented);
}

}  // namespace
}  // namespace soma::apitest
