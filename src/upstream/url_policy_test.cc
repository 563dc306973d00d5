#include "upstream/url_policy.h"

#include <gtest/gtest.h>

namespace pipy::upstream {
namespace {

UrlPolicy MakePolicy() {
  auto policy = UrlPolicy::Create("http://127.0.0.1:8000/simple/",
                                  {"files.example.org", "cdn.example.org:8443"});
  EXPECT_TRUE(policy.has_value());
  return *policy;
}

TEST(UrlPolicyTest, AllowsTheUpstreamHostAndPortOnly) {
  UrlPolicy policy = MakePolicy();
  EXPECT_TRUE(policy.Check("http://127.0.0.1:8000/packages/a-1.0.tar.gz").ok());
  EXPECT_TRUE(policy.Check("http://127.0.0.1:8000/simple/other/").ok());
  // Same address, another port: another service (the foreign-host case of the e2e test).
  EXPECT_EQ(policy.Check("http://127.0.0.1:8001/a-1.0.tar.gz").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.Check("http://127.0.0.1/a-1.0.tar.gz").code(), StatusCode::kPermissionDenied);
}

TEST(UrlPolicyTest, AllowsFileHostsWithTheirPorts) {
  UrlPolicy policy = MakePolicy();
  EXPECT_TRUE(policy.Check("https://files.example.org/packages/x.whl").ok());
  EXPECT_TRUE(policy.Check("http://files.example.org/packages/x.whl").ok());
  EXPECT_TRUE(policy.Check("HTTPS://FILES.Example.ORG/x.whl").ok());
  EXPECT_TRUE(policy.Check("https://files.example.org:443/x.whl").ok());
  EXPECT_FALSE(policy.Check("https://files.example.org:444/x.whl").ok());
  EXPECT_TRUE(policy.Check("https://cdn.example.org:8443/x.whl").ok());
  EXPECT_FALSE(policy.Check("https://cdn.example.org/x.whl").ok());
  EXPECT_FALSE(policy.Check("https://evil.files.example.org/x.whl").ok());
  EXPECT_FALSE(policy.Check("https://files.example.org.evil.com/x.whl").ok());
}

TEST(UrlPolicyTest, RefusesServerSideRequestForgeryShapes) {
  UrlPolicy policy = MakePolicy();
  for (const char* url : {"http://169.254.169.254/latest/meta-data/", "file:///etc/passwd",
                          "ftp://127.0.0.1:8000/x", "gopher://127.0.0.1:8000/x",
                          "http://user:pw@127.0.0.1:8000/x", "http://files.example.org@10.0.0.1/x",
                          "/packages/x.whl", "//127.0.0.1:8000/x", "", "http://127.0.0.1:0/x"}) {
    Status s = policy.Check(url);
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << url;
  }
}

TEST(UrlPolicyTest, RejectsBadConfiguration) {
  EXPECT_FALSE(UrlPolicy::Create("ftp://example.org/simple/", {}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("not a url", {}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("/simple/", {}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("https://pypi.org/simple/", {"a/b"}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("https://pypi.org/simple/", {"host:99999"}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("https://pypi.org/simple/", {"user@host"}).has_value());
  EXPECT_TRUE(UrlPolicy::Create("https://pypi.org/simple/", {"files.pythonhosted.org"}));
}

TEST(ResolveUrlTest, ResolvesRelativeLinksAndDropsFragments) {
  auto r = ResolveUrl("https://pypi.org/simple/foo/", "../../packages/ab/foo-1.0.whl#sha256=00");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "https://pypi.org/packages/ab/foo-1.0.whl");
  r = ResolveUrl("https://pypi.org/simple/foo/", "https://files.example.org/x.whl#frag");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "https://files.example.org/x.whl");
  r = ResolveUrl("https://pypi.org/simple/foo/", "/x.whl");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "https://pypi.org/x.whl");
  EXPECT_FALSE(ResolveUrl("relative/base", "x").has_value());
}

TEST(ResolveUrlTest, FragmentIsWhatFollowsTheHash) {
  EXPECT_EQ(UrlFragment("x.whl#sha256=abc"), "sha256=abc");
  EXPECT_EQ(UrlFragment("x.whl"), "");
}

}  // namespace
}  // namespace pipy::upstream
