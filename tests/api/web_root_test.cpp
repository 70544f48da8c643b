// `soma serve --web-root DIR` over real HTTP: the web UI's files with their
// content types and cache headers, client-side routes answered with
// index.html, the API never shadowed (unknown /v1 paths stay problem+json),
// and path traversal refused however it is spelled on the wire (raw request
// lines, so no client normalises the path first).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "server_process.h"

namespace soma::apitest {
namespace {

// Sends `GET <raw_path> HTTP/1.1` as given and returns the status code and the response.
std::pair<int, std::string> RawGet(int port, const std::string& raw_path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return {0, ""};
  }
  std::string req = "GET " + raw_path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  int status = out.size() > 12 ? std::atoi(out.substr(9, 3).c_str()) : 0;
  return {status, out};
}

class WebRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("web_root");
    root_ = dir_->path() / "dist";
    fs::create_directories(root_ / "assets");
    std::ofstream(root_ / "index.html") << "<!doctype html><title>soma ui</title>";
    std::ofstream(root_ / "assets" / "app-1234.js") << "console.log('ui')";
    std::ofstream(root_ / "assets" / "app-1234.css") << "body{}";
    std::ofstream(dir_->path() / "secret.txt") << "SECRET-OUTSIDE-THE-ROOT";
    server_ = ServerProcess::Start(dir_->path() / "data",
                                   {.extra_args = {"--rate-limit", "0", "--web-root", root_.string()}});
    ASSERT_NE(server_, nullptr);
  }
  std::unique_ptr<TempDir> dir_;
  fs::path root_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(WebRootTest, ServesTheUiWithContentTypes) {
  Client anon(server_->url());
  Response index = anon.Get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.header("Cache-Control"), "no-cache");
  EXPECT_NE(index.body.find("soma ui"), std::string::npos);
  Response js = anon.Get("/assets/app-1234.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.header("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(js.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(anon.Get("/assets/app-1234.css").header("Content-Type"), "text/css; charset=utf-8");
  Response route = anon.Get("/resources/bergman-minimal");
  EXPECT_EQ(route.status, 200);
  EXPECT_NE(route.body.find("soma ui"), std::string::npos);
  Response missing = anon.Get("/assets/missing-0000.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("Content-Type"), "application/problem+json");
  EXPECT_NE(server_->banner().find("web UI at"), std::string::npos) << server_->banner();
}

TEST_F(WebRootTest, NeverShadowsTheApi) {
  Client anon(server_->url());
  for (const char* path : {"/v1", "/v1/no-such-route", "/v1/resources/x/y"}) {
    Response r = anon.Get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.json().value("type", ""), "urn:soma:http:404") << path << ": " << r.body;
  }
  Response search = anon.Get("/v1/search");
  EXPECT_EQ(search.status, 200);
  EXPECT_TRUE(search.json().contains("facets"));
  EXPECT_EQ(anon.Get("/healthz").status, 200);
  // Non-GET methods outside /v1 are not served from the folder.
  EXPECT_EQ(anon.Send("POST", "/index.html", "{}", "application/json").status, 404);
}

TEST_F(WebRootTest, RefusesPathTraversal) {
  for (const char* raw : {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt",
                          "/assets/%2e%2e%2f%2e%2e%2fsecret.txt", "/..%2fsecret.txt", "/..%5csecret.txt",
                          "/%2e%2e/data/admin-token", "/assets/..%2f..%2fdata%2fadmin-token"}) {
    auto [status, response] = RawGet(server_->port(), raw);
    EXPECT_NE(status, 200) << raw;
    EXPECT_EQ(response.find("SECRET-OUTSIDE-THE-ROOT"), std::string::npos) << raw;
    EXPECT_EQ(response.find("soma_"), std::string::npos) << raw;  // no admin token
  }
}

}  // namespace
}  // namespace soma::apitest
