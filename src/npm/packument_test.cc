#include "npm/packument.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "npm/npm_format.h"

namespace pipy::npm {
namespace {

namespace json = boost::json;

PackumentVersion Version(const std::string& v, std::int64_t at, std::string uploader,
                         json::object manifest = {}) {
  PackumentVersion out;
  out.release.format = "npm";
  out.release.project = "@acme/log";
  out.release.version = v;
  out.release.version_key = v;
  out.release.metadata.description = "# README of " + v;
  out.tarball.filename = "log-" + v + ".tgz";
  out.tarball.sha256 = std::string(64, v[0]);
  out.tarball.upload_time_ms = at;
  out.tarball.uploader = std::move(uploader);
  out.tarball.attributes = {{"shasum", "sha1-of-" + v}, {"integrity", "sha512-of-" + v}};
  manifest["name"] = "@acme/log";
  manifest["version"] = v;
  out.manifest = std::move(manifest);
  return out;
}

PackumentInput Input() {
  PackumentInput in;
  in.name = "@acme/log";
  in.registry_url = "http://h:8080/npm/";
  // Newest first, as the index hands them out.
  in.versions.push_back(Version("2.0.0-rc.1", 3000, "ci",
                                {{"dependencies", json::object{{"@acme/core", "^1.0.0"}}},
                                 {"scripts", json::object{{"postinstall", "node x.js"}}}}));
  in.versions.push_back(Version("1.1.0", 2000, "alice",
                                {{"description", "logging"}, {"keywords", json::array{"log"}},
                                 {"license", "MIT"}}));
  in.versions.push_back(Version("1.0.0", 1000, "ci"));
  in.versions.back().release.deprecated = "use 1.1";
  in.tags = {{"latest", "1.1.0"}, {"next", "2.0.0-rc.1"}};
  return in;
}

TEST(PackumentTest, TheFullDocument) {
  json::object doc = json::parse(RenderFull(Input())).as_object();
  EXPECT_EQ(doc.at("_id").as_string(), "@acme/log");
  EXPECT_EQ(doc.at("name").as_string(), "@acme/log");
  EXPECT_EQ(doc.at("_rev").as_string(), Revision(Input()));
  EXPECT_EQ(doc.at("dist-tags").at("latest").as_string(), "1.1.0");
  EXPECT_EQ(doc.at("dist-tags").at("next").as_string(), "2.0.0-rc.1");
  const json::object& versions = doc.at("versions").as_object();
  ASSERT_EQ(versions.size(), 3u);
  const json::object& v110 = versions.at("1.1.0").as_object();
  EXPECT_EQ(v110.at("_id").as_string(), "@acme/log@1.1.0");
  EXPECT_EQ(v110.at("dist").at("tarball").as_string(),
            "http://h:8080/npm/@acme/log/-/log-1.1.0.tgz");
  EXPECT_EQ(v110.at("dist").at("shasum").as_string(), "sha1-of-1.1.0");
  EXPECT_EQ(v110.at("dist").at("integrity").as_string(), "sha512-of-1.1.0");
  EXPECT_EQ(versions.at("1.0.0").at("deprecated").as_string(), "use 1.1");
  EXPECT_FALSE(v110.contains("deprecated"));
  EXPECT_TRUE(versions.at("2.0.0-rc.1").at("hasInstallScript").as_bool());
  // The latest tag's version gives the top-level fields and the README.
  EXPECT_EQ(doc.at("readme").as_string(), "# README of 1.1.0");
  EXPECT_EQ(doc.at("description").as_string(), "logging");
  EXPECT_EQ(doc.at("license").as_string(), "MIT");
  const json::object& time = doc.at("time").as_object();
  EXPECT_EQ(time.at("created").as_string(), "1970-01-01T00:00:01.000Z");
  EXPECT_EQ(time.at("modified").as_string(), "1970-01-01T00:00:03.000Z");
  EXPECT_EQ(time.at("1.1.0").as_string(), "1970-01-01T00:00:02.000Z");
  const json::array& maintainers = doc.at("maintainers").as_array();
  ASSERT_EQ(maintainers.size(), 2u);
  EXPECT_EQ(maintainers[0].at("name").as_string(), "alice");
  EXPECT_EQ(maintainers[1].at("name").as_string(), "ci");
}

TEST(PackumentTest, TheAbbreviatedDocumentHasWhatInstallsNeedAndTime) {
  json::object doc = json::parse(RenderAbbreviated(Input())).as_object();
  EXPECT_EQ(doc.at("name").as_string(), "@acme/log");
  EXPECT_EQ(doc.at("modified").as_string(), "1970-01-01T00:00:03.000Z");
  EXPECT_TRUE(doc.at("time").as_object().contains("2.0.0-rc.1"));
  EXPECT_FALSE(doc.contains("readme"));
  EXPECT_FALSE(doc.contains("_rev"));
  const json::object& rc = doc.at("versions").at("2.0.0-rc.1").as_object();
  EXPECT_EQ(rc.at("dependencies").at("@acme/core").as_string(), "^1.0.0");
  EXPECT_TRUE(rc.at("hasInstallScript").as_bool());
  EXPECT_FALSE(rc.contains("scripts"));
  EXPECT_FALSE(rc.contains("_id"));
  EXPECT_EQ(rc.at("dist").at("integrity").as_string(), "sha512-of-2.0.0-rc.1");
  EXPECT_EQ(doc.at("versions").at("1.0.0").at("deprecated").as_string(), "use 1.1");
  EXPECT_FALSE(doc.at("versions").at("1.1.0").as_object().contains("description"));
}

TEST(PackumentTest, TheRevisionFollowsEveryChangeButNotTheHost) {
  const std::string rev = Revision(Input());
  PackumentInput other_host = Input();
  other_host.registry_url = "https://pipy.internal/npm/";
  EXPECT_EQ(Revision(other_host), rev);
  PackumentInput tagged = Input();
  tagged.tags["beta"] = "1.0.0";
  EXPECT_NE(Revision(tagged), rev);
  PackumentInput deprecated = Input();
  deprecated.versions[1].release.deprecated = "no";
  EXPECT_NE(Revision(deprecated), rev);
  PackumentInput removed = Input();
  removed.versions.pop_back();
  EXPECT_NE(Revision(removed), rev);
  EXPECT_TRUE(rev.starts_with("1-"));
}

TEST(PackumentTest, VersionsByNumberOrTag) {
  PackumentInput in = Input();
  ASSERT_NE(FindVersion(in, "latest"), nullptr);
  EXPECT_EQ(FindVersion(in, "latest")->release.version, "1.1.0");
  EXPECT_EQ(FindVersion(in, "1.0.0")->release.version, "1.0.0");
  EXPECT_EQ(FindVersion(in, "3.0.0"), nullptr);
  json::object one = json::parse(RenderVersion(in, *FindVersion(in, "next"))).as_object();
  EXPECT_EQ(one.at("version").as_string(), "2.0.0-rc.1");
  EXPECT_EQ(one.at("dist").at("tarball").as_string(),
            "http://h:8080/npm/@acme/log/-/log-2.0.0-rc.1.tgz");
}

// A built version shows where it came from in the full documents (as the Python release
// API does), from its file's record only; installs never get it.
TEST(PackumentTest, ABuiltVersionCarriesItsProvenanceInTheFullDocuments) {
  PackumentInput in = Input();
  in.versions[1].tarball.provenance =
      catalog::Provenance{"mono", std::string(40, 'a'), "log", 42, "passed"};
  // A publisher's manifest may say anything: it must not pass for a build.
  in.versions[2].manifest["_provenance"] = json::object{{"source", "forged"}};

  json::object full = json::parse(RenderFull(in)).as_object();
  const json::value& p = full.at("versions").at("1.1.0").at("_provenance");
  EXPECT_EQ(p.at("source").as_string(), "mono");
  EXPECT_EQ(p.at("commit").as_string(), std::string(40, 'a'));
  EXPECT_EQ(p.at("module").as_string(), "log");
  EXPECT_EQ(p.at("build_id").as_int64(), 42);
  EXPECT_EQ(p.at("build_url").as_string(), "/api/builds/42");
  EXPECT_EQ(p.at("test_result").as_string(), "passed");
  EXPECT_EQ(p.as_object().size(), 6u);
  EXPECT_FALSE(full.at("versions").at("1.0.0").as_object().contains("_provenance"));
  EXPECT_FALSE(full.at("versions").at("2.0.0-rc.1").as_object().contains("_provenance"));

  json::object one = json::parse(RenderVersion(in, *FindVersion(in, "1.1.0"))).as_object();
  EXPECT_EQ(one.at("_provenance").at("build_id").as_int64(), 42);
  EXPECT_FALSE(json::parse(RenderVersion(in, *FindVersion(in, "1.0.0")))
                   .as_object()
                   .contains("_provenance"));

  json::object abbreviated = json::parse(RenderAbbreviated(in)).as_object();
  for (const auto& [version, doc] : abbreviated.at("versions").as_object()) {
    EXPECT_FALSE(doc.as_object().contains("_provenance")) << version;
  }
  EXPECT_NE(Revision(in), Revision(Input()));
}

TEST(NpmFormatTest, NamesAndVersions) {
  const index::Format& npm = NpmFormat();
  EXPECT_EQ(npm.name(), "npm");
  EXPECT_EQ(npm.NormalizeName("@acme/log").value(), "@acme/log");
  EXPECT_FALSE(npm.NormalizeName("Acme").has_value());
  EXPECT_FALSE(npm.NormalizeName("@acme/../x").has_value());
  // Build metadata is not part of the release (npm drops it).
  EXPECT_EQ(npm.ParseVersion("1.0.0+build.7").value().key, "1.0.0");
  EXPECT_EQ(npm.ParseVersion("1.0.0+build.7").value().spelling, "1.0.0");
  EXPECT_FALSE(npm.ParseVersion("1.0").has_value());
  EXPECT_FALSE(npm.ParseVersion("v1.0.0").has_value());
  EXPECT_TRUE(npm.Newer("1.10.0", "1.9.0"));
  EXPECT_TRUE(npm.Newer("1.0.0", "1.0.0-rc.1"));
  EXPECT_FALSE(npm.Newer("1.0.0-rc.1", "1.0.0"));
}

}  // namespace
}  // namespace pipy::npm

namespace pipy::npm {
namespace {

TEST(NpmFormatTest, TagNames) {
  for (std::string_view tag : {"latest", "beta", "next-2", "rc_1", "v-next", "canary.3"}) {
    EXPECT_TRUE(ValidateTagName(tag).ok()) << tag;
  }
  for (std::string_view tag : {"", "1.0.0", "1", "v2", "V2.1", "x/y", "a b", ".hidden", "^1",
                               "~1", ">=1", "1.x", "tag%2f"}) {
    EXPECT_FALSE(ValidateTagName(tag).ok()) << tag;
  }
  EXPECT_FALSE(ValidateTagName(std::string(129, 'a')).ok());
}

TEST(PackumentTest, AVersionIsNeverShadowedByATag) {
  PackumentInput in = Input();
  in.tags["1.0.0"] = "1.1.0";  // stored by an older server, say
  ASSERT_NE(FindVersion(in, "1.0.0"), nullptr);
  EXPECT_EQ(FindVersion(in, "1.0.0")->release.version, "1.0.0");
}

}  // namespace
}  // namespace pipy::npm
