#include "http/router.h"

#include <gtest/gtest.h>

namespace pipy::http {
namespace {

RouteOptions Opts(std::string name, std::uint64_t max_body_bytes = 64 * 1024) {
  RouteOptions o;
  o.name = std::move(name);
  o.max_body_bytes = max_body_bytes;
  return o;
}

Handler Named(std::string name) {
  return [name](Request&) { return TextResponse(200, name); };
}

std::string Call(const Router::Match& m) {
  Request r;
  Response resp = m.route->handler(r);
  return std::get<std::string>(resp.body);
}

TEST(RouterTest, LiteralAndCaptureSegments) {
  Router router;
  router.Add("GET", "/simple/", Opts("root"), Named("root"));
  router.Add("GET", "/simple/{name}/", Opts("project"), Named("project"));
  auto root = router.Find("GET", "/simple/");
  ASSERT_NE(root.route, nullptr);
  EXPECT_EQ(Call(root), "root");
  auto project = router.Find("GET", "/simple/Foo/");
  ASSERT_NE(project.route, nullptr);
  EXPECT_EQ(Call(project), "project");
  ASSERT_EQ(project.params.size(), 1u);
  EXPECT_EQ(project.params[0].first, "name");
  EXPECT_EQ(project.params[0].second, "Foo");
}

TEST(RouterTest, TrailingSlashIsSignificant) {
  Router router;
  router.Add("GET", "/simple/{name}/", {}, Named("project"));
  EXPECT_EQ(router.Find("GET", "/simple/foo").route, nullptr);
  EXPECT_EQ(router.Find("GET", "/simple/foo/extra/").route, nullptr);
  EXPECT_EQ(router.Find("GET", "/simple//").route, nullptr);  // {name} is non-empty
  EXPECT_NE(router.Find("GET", "/simple/foo/").route, nullptr);
}

TEST(RouterTest, RestCaptureTakesSlashes) {
  Router router;
  router.Add("GET", "/files/{sha}/{path...}", {}, Named("file"));
  auto m = router.Find("GET", "/files/abc/dir/x-1.0.tar.gz");
  ASSERT_NE(m.route, nullptr);
  Request r;
  r.params = m.params;
  EXPECT_EQ(r.param("sha"), "abc");
  EXPECT_EQ(r.param("path"), "dir/x-1.0.tar.gz");
  EXPECT_EQ(r.param("missing"), "");
  EXPECT_EQ(router.Find("GET", "/files/abc/").route, nullptr);
}

TEST(RouterTest, RoutesAreTriedInOrder) {
  Router router;
  router.Add("GET", "/a/special", {}, Named("special"));
  router.Add("GET", "/a/{x}", {}, Named("generic"));
  EXPECT_EQ(Call(router.Find("GET", "/a/special")), "special");
  EXPECT_EQ(Call(router.Find("GET", "/a/other")), "generic");
}

TEST(RouterTest, GetAnswersHeadAndMismatchListsAllow) {
  Router router;
  router.Add("GET", "/x", {}, Named("get"));
  router.Add("POST", "/x", {}, Named("post"));
  router.Add("DELETE", "/y/{id}", {}, Named("delete"));
  EXPECT_EQ(Call(router.Find("HEAD", "/x")), "get");
  EXPECT_EQ(Call(router.Find("POST", "/x")), "post");
  auto put = router.Find("PUT", "/x");
  EXPECT_EQ(put.route, nullptr);
  EXPECT_TRUE(put.method_mismatch);
  EXPECT_EQ(put.allow, "GET, HEAD, POST");
  auto head = router.Find("HEAD", "/y/1");
  EXPECT_EQ(head.route, nullptr);
  EXPECT_TRUE(head.method_mismatch);
  EXPECT_EQ(head.allow, "DELETE");
  auto none = router.Find("GET", "/nowhere");
  EXPECT_EQ(none.route, nullptr);
  EXPECT_FALSE(none.method_mismatch);
}

TEST(RouterTest, FailedCaptureDoesNotLeakParams) {
  Router router;
  router.Add("GET", "/p/{a}/q", {}, Named("first"));
  router.Add("GET", "/p/{b}/r", {}, Named("second"));
  auto m = router.Find("GET", "/p/1/r");
  ASSERT_NE(m.route, nullptr);
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "b");
}

}  // namespace
}  // namespace pipy::http
