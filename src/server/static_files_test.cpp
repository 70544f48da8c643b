#include "server/static_files.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace soma::server {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("soma_static_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(base_);
    root_ = base_ / "dist";
    fs::create_directories(root_ / "assets");
    Write(root_ / "index.html", "<!doctype html>");
    Write(root_ / "assets" / "app-1234.js", "console.log(1)");
    Write(root_ / "assets" / "app-1234.css", "body{}");
    Write(base_ / "secret.txt", "outside");  // beside the root, must never be served
  }
  void TearDown() override { fs::remove_all(base_); }
  static void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  fs::path base_, root_;
};

TEST_F(StaticFilesTest, ServesFilesWithContentTypes) {
  auto js = ResolveStaticFile(root_, "/assets/app-1234.js");
  ASSERT_TRUE(js.ok()) << js.status().ToString();
  EXPECT_EQ(js->path, fs::canonical(root_ / "assets" / "app-1234.js"));
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js->cache_control, "public, max-age=31536000, immutable");
  auto css = ResolveStaticFile(root_, "/assets/app-1234.css");
  ASSERT_TRUE(css.ok());
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  auto index = ResolveStaticFile(root_, "/");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->path.filename(), "index.html");
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index->cache_control, "no-cache");
  EXPECT_EQ(ContentTypeFor("x.SVG"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("x.bin"), "application/octet-stream");
}

TEST_F(StaticFilesTest, SpaRoutesFallBackToIndexButMissingAssetsDoNot) {
  auto route = ResolveStaticFile(root_, "/resources/bergman-minimal");
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->path.filename(), "index.html");
  auto missing = ResolveStaticFile(root_, "/assets/gone-9999.js");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
}

TEST_F(StaticFilesTest, RefusesTraversal) {
  for (const char* p : {"/../secret.txt", "/assets/../../secret.txt", "/..", "/./index.html", "/assets/..\\..\\secret.txt",
                        "/a\\b", "/c:/windows"}) {
    auto r = ResolveStaticFile(root_, p);
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << p;
  }
  EXPECT_FALSE(ResolveStaticFile(root_, "assets/app-1234.js").ok());  // not absolute
}

TEST_F(StaticFilesTest, RefusesSymlinksLeadingOutside) {
  fs::create_symlink(base_ / "secret.txt", root_ / "link.txt");
  auto r = ResolveStaticFile(root_, "/link.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(StaticFilesTest, NeverShadowsTheApi) {
  fs::create_directories(root_ / "v1");
  Write(root_ / "v1" / "search", "shadow");
  Write(root_ / "healthz", "shadow");
  for (const char* p : {"/v1", "/v1/search", "/v1/no-such-route", "/healthz", "/readyz"}) {
    EXPECT_TRUE(IsApiPath(p)) << p;
    auto r = ResolveStaticFile(root_, p);
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.status().code(), ErrorCode::kNotFound) << p;
  }
  EXPECT_FALSE(IsApiPath("/v1x"));
  EXPECT_FALSE(IsApiPath("/twins/abc"));
}

}  // namespace
}  // namespace soma::server
