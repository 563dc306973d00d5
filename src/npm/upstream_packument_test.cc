#include "npm/upstream_packument.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace pipy::npm {
namespace {

namespace json = boost::json;

const char* kUpstream = R"({
  "name": "left-pad", "_rev": "7-abc", "readme": "# left-pad",
  "dist-tags": {"latest": "1.3.0", "old": "0.0.1", "weird": "../x"},
  "time": {"created": "2016-01-01T00:00:00.000Z", "modified": "2018-04-09T00:00:00.000Z",
           "1.3.0": "2018-04-09T00:00:00.000Z"},
  "versions": {
    "1.3.0": {"name": "left-pad", "version": "1.3.0", "scripts": {"install": "x"},
              "dist": {"tarball": "https://registry.example/left-pad/-/left-pad-1.3.0.tgz",
                       "integrity": "sha512-AAAA sha1-BBBB", "shasum": "0123456789abcdef0123456789abcdef01234567"}},
    "1.2.0": {"name": "left-pad", "version": "1.2.0",
              "dist": {"tarball": "https://registry.example/left-pad/-/left-pad-1.2.0.tgz",
                       "shasum": "89abcdef0123456789abcdef0123456789abcdef"}},
    "1.1.0": {"name": "left-pad", "version": "1.1.0",
              "dist": {"tarball": "https://elsewhere.example/left-pad-1.1.0.tgz",
                       "integrity": "sha512-CCCC"}},
    "1.0.0": {"name": "left-pad", "version": "1.0.0",
              "dist": {"tarball": "https://registry.example/left-pad/-/left-pad-1.0.0.tgz"}},
    "0.0.1": {"name": "left-pad", "version": "0.0.1",
              "dist": {"tarball": "https://registry.example/left-pad/-/%3Cscript%3E.tgz",
                       "integrity": "sha512-DDDD"}},
    "../x": {"name": "left-pad", "version": "../x",
             "dist": {"tarball": "https://registry.example/x.tgz", "integrity": "sha512-EEEE"}}
  }})";

bool OnlyRegistryHost(const std::string& url) {
  return url.starts_with("https://registry.example/");
}

TEST(UpstreamPackumentTest, KeepsWhatCanBeVerifiedAndPointsItAtPipy) {
  auto p = ReadUpstreamPackument(kUpstream, "left-pad", "http://pipy:8080/npm/", OnlyRegistryHost);
  ASSERT_TRUE(p) << p.error().ToString();
  const json::object& versions = p->full.at("versions").as_object();
  // 1.1.0: a host the proxy may not fetch; 1.0.0: no digest; 0.0.1: a file name that is no
  // tarball name; "../x": no version.
  EXPECT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions.at("1.3.0").at("dist").at("tarball").as_string(),
            "http://pipy:8080/npm/left-pad/-/left-pad-1.3.0.tgz");
  EXPECT_EQ(versions.at("1.2.0").at("dist").at("shasum").as_string(),
            "89abcdef0123456789abcdef0123456789abcdef");
  ASSERT_EQ(p->tarballs.size(), 2u);
  const UpstreamTarball& t = p->tarballs.at("left-pad-1.3.0.tgz");
  EXPECT_EQ(t.url, "https://registry.example/left-pad/-/left-pad-1.3.0.tgz");
  EXPECT_EQ(t.integrity, "sha512-AAAA");
  EXPECT_TRUE(p->tarballs.at("left-pad-1.2.0.tgz").integrity.empty());
  // Tags of dropped versions go with them.
  const json::object& tags = p->full.at("dist-tags").as_object();
  EXPECT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags.at("latest").as_string(), "1.3.0");
  EXPECT_EQ(p->full.at("readme").as_string(), "# left-pad");
}

TEST(UpstreamPackumentTest, RendersEveryKind) {
  auto p = ReadUpstreamPackument(kUpstream, "left-pad", "http://pipy/npm/", OnlyRegistryHost);
  ASSERT_TRUE(p);
  json::object abbreviated = json::parse(RenderUpstream(*p, "abbreviated").value()).as_object();
  EXPECT_EQ(abbreviated.at("modified").as_string(), "2018-04-09T00:00:00.000Z");
  EXPECT_TRUE(abbreviated.at("time").as_object().contains("1.3.0"));
  EXPECT_FALSE(abbreviated.contains("readme"));
  const json::object& v = abbreviated.at("versions").at("1.3.0").as_object();
  EXPECT_TRUE(v.at("hasInstallScript").as_bool());
  EXPECT_FALSE(v.contains("scripts"));
  json::object latest = json::parse(RenderUpstream(*p, "v:latest").value()).as_object();
  EXPECT_EQ(latest.at("version").as_string(), "1.3.0");
  EXPECT_EQ(RenderUpstream(*p, "v:1.1.0").error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(json::parse(RenderUpstream(*p, "full").value()).is_object());
}

TEST(UpstreamPackumentTest, AnswersThatAreNoPackumentOfTheNameAreBadGateway) {
  for (const char* body : {"not json", "[1]", R"({"name": "other"})",
                           R"({"name": "left-pad", "versions": {}, "x": 1e400})"}) {
    auto p = ReadUpstreamPackument(body, "left-pad", "http://pipy/npm/", OnlyRegistryHost);
    ASSERT_FALSE(p) << body;
    EXPECT_EQ(p.error().code(), StatusCode::kBadGateway) << body;
  }
}

}  // namespace
}  // namespace pipy::npm

namespace pipy::npm {
namespace {

TEST(UpstreamPackumentTest, TwoVersionsNamingOneFileKeepOnlyTheFirst) {
  const char* body = R"({"name": "left-pad", "versions": {
    "1.0.0": {"dist": {"tarball": "https://registry.example/left-pad/-/left-pad-1.0.0.tgz",
                       "integrity": "sha512-AAAA"}},
    "1.0.1": {"dist": {"tarball": "https://registry.example/other/left-pad-1.0.0.tgz",
                       "integrity": "sha512-BBBB"}}}})";
  auto p = ReadUpstreamPackument(body, "left-pad", "http://pipy/npm/", OnlyRegistryHost);
  ASSERT_TRUE(p) << p.error().ToString();
  ASSERT_EQ(p->tarballs.size(), 1u);
  const UpstreamTarball& kept = p->tarballs.at("left-pad-1.0.0.tgz");
  const json::object& versions = p->full.at("versions").as_object();
  ASSERT_EQ(versions.size(), 1u);
  // The version kept is the one whose digest the file is checked against.
  const std::string version(versions.begin()->key());
  EXPECT_EQ(kept.integrity, version == "1.0.0" ? "sha512-AAAA" : "sha512-BBBB");
}

}  // namespace
}  // namespace pipy::npm
