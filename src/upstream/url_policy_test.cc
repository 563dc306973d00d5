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

// The policy reads URLs with curl's parser: what it checks is what curl fetches. Before,
// another parser took "127.0.0.1:8000:8001" for the host and wrapped port 73536 into 8000.
TEST(UrlPolicyTest, RefusesWhatCurlReadsDifferently) {
  UrlPolicy policy = MakePolicy();
  for (const char* url :
       {"http://127.0.0.1:8000:8001/x", "http://127.0.0.1:18820:18821/", "http://127.0.0.1:73536/x",
        "http://127.0.0.1:84356/", "http://127.0.0.1:-8000/x", "http://127.0.0.1:+8000/x",
        "http://127.0.0.1:8000\\@10.0.0.1/x", "http://127.0.0.1;8000/x"}) {
    EXPECT_EQ(policy.Check(url).code(), StatusCode::kPermissionDenied) << url;
  }
  // The reported shapes, against an upstream on port 18820 (84356 = 18820 + 65536).
  auto on_18820 = UrlPolicy::Create("http://127.0.0.1:18820/simple/", {});
  ASSERT_TRUE(on_18820.has_value());
  EXPECT_TRUE(on_18820->Check("http://127.0.0.1:18820/x").ok());
  EXPECT_FALSE(on_18820->Check("http://127.0.0.1:18820:18821/").ok());
  EXPECT_FALSE(on_18820->Check("http://127.0.0.1:84356/").ok());
}

TEST(UrlPolicyTest, RefusesUserInfoEmptyHostsZonesAndOtherSchemes) {
  UrlPolicy policy = MakePolicy();
  for (const char* url :
       {"http://@127.0.0.1:8000/x", "http://user@127.0.0.1:8000/x", "http://:pw@127.0.0.1:8000/x",
        "http:///x", "http://:8000/x", "http://", "https:///x", "http://[fe80::1%25eth0]:8000/x",
        "ftp://files.example.org/x", "gopher://files.example.org/x", "dict://files.example.org/",
        "file://files.example.org/etc/passwd", "http:files.example.org/x",
        "http://127.0.0.1:8000/a b"}) {
    EXPECT_EQ(policy.Check(url).code(), StatusCode::kPermissionDenied) << url;
  }
}

TEST(UrlPolicyTest, IPv6LiteralsAreComparedAsCurlNormalizesThem) {
  auto policy = UrlPolicy::Create("http://[::1]:8000/simple/", {"[2001:db8::7]"});
  ASSERT_TRUE(policy.has_value()) << policy.error().ToString();
  EXPECT_TRUE(policy->Check("http://[::1]:8000/x.whl").ok());
  EXPECT_FALSE(policy->Check("http://[::1]:8001/x.whl").ok());
  EXPECT_FALSE(policy->Check("http://[::2]:8000/x.whl").ok());
  EXPECT_TRUE(policy->Check("https://[2001:db8::7]/x.whl").ok());
  EXPECT_TRUE(policy->Check("https://[2001:DB8::7]/x.whl").ok());
  EXPECT_FALSE(policy->Check("https://[2001:db8::7]:444/x.whl").ok());
}

TEST(UrlPolicyTest, FetchesTheUrlAsCurlParsedIt) {
  UrlPolicy policy = MakePolicy();
  // Percent-encoded and hexadecimal IPv4 hosts are the same host to curl.
  for (const char* url : {"http://%31%32%37.0.0.1:8000/x.whl", "http://0x7f.1:8000/x.whl",
                          "HTTP://127.0.0.1:08000/x.whl"}) {
    auto allowed = policy.Allow(url);
    ASSERT_TRUE(allowed.has_value()) << url << ": " << allowed.error().ToString();
    EXPECT_EQ(allowed->url(), "http://127.0.0.1:8000/x.whl") << url;
    EXPECT_NE(allowed->handle(), nullptr);
  }
  EXPECT_EQ(policy.Allow("http://127.0.0.1:8001/x.whl").error().code(),
            StatusCode::kPermissionDenied);
}

TEST(UrlPolicyTest, RejectsBadConfiguration) {
  EXPECT_FALSE(UrlPolicy::Create("ftp://example.org/simple/", {}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("not a url", {}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("/simple/", {}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("https://pypi.org/simple/", {"a/b"}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("https://pypi.org/simple/", {"host:99999"}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("https://pypi.org/simple/", {"user@host"}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("https://pypi.org:84356/simple/", {}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("https://pypi.org:443:444/simple/", {}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("https://pypi.org:0/simple/", {}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("https:///simple/", {}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("https://pypi.org/simple/", {"a b"}).has_value());
  EXPECT_FALSE(UrlPolicy::Create("https://pypi.org/simple/", {"host:0"}).has_value());
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
