// Publishing the builder's `npm pack` tarballs (PublishPackedTarball) through the neutral
// index: what is read from the tarball, the digests, provenance, the "latest" rules, and
// what is refused (with nothing stored).
#include "npm/publish.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>

#include <boost/json/parse.hpp>

#include "catalog/factory.h"
#include "core/digest.h"
#include "index/index.h"
#include "npm/npm_format.h"
#include "npm/packument.h"
#include "npm/tarball.h"
#include "storage/factory.h"
#include "testing/dist_builder.h"

namespace pipy::npm {
namespace {

namespace json = boost::json;
using pipy::testing::ArchiveMember;
using pipy::testing::ReadFile;
using pipy::testing::TempDir;
using pipy::testing::WriteArchive;

std::string PackageJson(const std::string& name, const std::string& version,
                        const std::string& extra = "") {
  return "{\"name\":\"" + name + "\",\"version\":\"" + version + "\"" + extra + "}";
}

catalog::Provenance BuildProvenance(std::int64_t build_id) {
  return catalog::Provenance{"mono", std::string(40, 'c'), "log", build_id, "passed"};
}

class PublishPackedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StorageOptions storage_options;
    storage_options.root = tmp_.path() / "data";
    auto blobs = storage::MakeBlobStore(storage_options);
    ASSERT_TRUE(blobs) << blobs.error().ToString();
    blobs_ = std::move(*blobs);
    catalog::CatalogOptions catalog_options;
    catalog_options.sqlite_path = tmp_.path() / "data" / "catalog.db";
    auto catalog = catalog::MakeCatalog(catalog_options);
    ASSERT_TRUE(catalog) << catalog.error().ToString();
    catalog_ = std::move(*catalog);
    index_ = std::make_unique<index::Index>(*blobs_, *catalog_);
    // The builder's principal, limited to its source's scope.
    builder_.anonymous = false;
    builder_.token_name = "builder:mono";
    builder_.scopes = {"upload:@acme/*"};
    admin_ = builder_;
    admin_.scopes = {"admin"};
    std::filesystem::create_directories(tmp_.path() / "packs");
  }

  // Writes `members` as a .tgz of its own (npm pack's layout: everything under package/).
  std::filesystem::path Pack(const std::vector<ArchiveMember>& members) {
    std::filesystem::path file =
        tmp_.path() / "packs" / ("pack-" + std::to_string(++packs_) + ".tgz");
    WriteArchive(file, /*zip=*/false, members);
    return file;
  }

  std::filesystem::path PackVersion(const std::string& name, const std::string& version,
                                    const std::string& salt = "") {
    return Pack({{"package/package.json", PackageJson(name, version)},
                 {"package/index.js", "module.exports = 1;" + salt + "\n"}});
  }

  Result<PublishOutcome> Publish(const std::filesystem::path& file,
                                 std::optional<catalog::Provenance> provenance = {}) {
    return PublishPackedTarball(*index_, builder_, PackedTarball{file, false, provenance});
  }

  std::string Latest(const std::string& name) {
    auto tags = index_->ListTags(NpmFormat(), name);
    EXPECT_TRUE(tags) << tags.error().ToString();
    if (!tags || !tags->contains("latest")) {
      return "";
    }
    return tags->at("latest");
  }

  std::size_t BlobCount() {
    std::size_t n = 0;
    EXPECT_TRUE(blobs_->List([&](const storage::BlobInfo&) {
                  ++n;
                  return Status::Ok();
                }).ok());
    return n;
  }

  // `file` must be refused with `code` and a message containing `needle`, storing nothing.
  void ExpectRefused(const std::filesystem::path& file, StatusCode code,
                     std::string_view needle, const std::string& name = "@acme/log") {
    const std::size_t before = BlobCount();
    auto result = Publish(file, BuildProvenance(1));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), code) << result.error().ToString();
    EXPECT_NE(result.error().message().find(needle), std::string::npos)
        << result.error().message();
    EXPECT_EQ(BlobCount(), before) << "a refused publish stored a blob";
    auto exists = index_->HasProject(NpmFormat(), name);
    ASSERT_TRUE(exists) << exists.error().ToString();
    EXPECT_FALSE(*exists) << "a refused publish created the package";
  }

  TempDir tmp_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<index::Index> index_;
  auth::Principal builder_;
  auth::Principal admin_;
  int packs_ = 0;
};

TEST_F(PublishPackedTest, PublishesWhatTheTarballSays) {
  const std::string package_json = PackageJson(
      "@acme/log", "1.2.3",
      ",\"description\":\"Logging for acme\",\"dependencies\":{\"@acme/core\":\"^1.0.0\"},"
      "\"scripts\":{\"postinstall\":\"node setup.js\",\"test\":\"node test.js\"},"
      "\"readme\":\"not the README\",\"_provenance\":{\"source\":\"forged\"},"
      "\"dist\":{\"shasum\":\"forged\"}");
  std::filesystem::path file = Pack({{"package/package.json", package_json},
                                     {"package/README.md", "# acme log\n"},
                                     {"package/index.js", "module.exports = 1;\n"}});
  const std::string bytes = ReadFile(file);
  Digest sha1(Digest::Algorithm::kSha1);
  sha1.Update(bytes);
  Digest sha512(Digest::Algorithm::kSha512);
  sha512.Update(bytes);

  auto published = Publish(file, BuildProvenance(42));
  ASSERT_TRUE(published) << published.error().ToString();
  EXPECT_EQ(published->result.outcome, catalog::AddFileOutcome::kCreated);
  EXPECT_EQ(published->version, "1.2.3");

  auto row = index_->FindFile(NpmFormat(), "@acme/log", "log-1.2.3.tgz");
  ASSERT_TRUE(row) << row.error().ToString();
  EXPECT_EQ(row->version, "1.2.3");
  EXPECT_EQ(row->size, bytes.size());
  EXPECT_EQ(std::string(Shasum(*row)), sha1.Hex());
  EXPECT_EQ(std::string(Integrity(*row)), Sha512Integrity(sha512.Raw()));
  EXPECT_EQ(row->uploader, "builder:mono");
  ASSERT_TRUE(row->provenance.has_value());
  EXPECT_EQ(row->provenance->source, "mono");
  EXPECT_EQ(row->provenance->commit, std::string(40, 'c'));
  EXPECT_EQ(row->provenance->module, "log");
  EXPECT_EQ(row->provenance->build_id, 42);
  EXPECT_EQ(row->provenance->test_result, "passed");

  auto view = index_->GetProject(NpmFormat(), "@acme/log");
  ASSERT_TRUE(view) << view.error().ToString();
  ASSERT_EQ((*view)->releases.size(), 1u);
  const catalog::ReleaseMetadata& release = (*view)->releases[0].metadata;
  EXPECT_EQ(release.summary, "Logging for acme");
  EXPECT_EQ(release.description, "# acme log\n");
  ASSERT_FALSE(release.manifest_sha256.empty());
  auto manifest_text = index_->ReadBlob(release.manifest_sha256, kMaxManifestBytes);
  ASSERT_TRUE(manifest_text) << manifest_text.error().ToString();
  json::object manifest = json::parse(*manifest_text).as_object();
  EXPECT_EQ(manifest.at("name").as_string(), "@acme/log");
  EXPECT_EQ(manifest.at("version").as_string(), "1.2.3");
  EXPECT_EQ(manifest.at("description").as_string(), "Logging for acme");
  EXPECT_EQ(manifest.at("dependencies").at("@acme/core").as_string(), "^1.0.0");
  EXPECT_EQ(manifest.at("scripts").at("postinstall").as_string(), "node setup.js");
  // What the registry owns is not taken from the package.json.
  EXPECT_FALSE(manifest.contains("readme"));
  EXPECT_FALSE(manifest.contains("_provenance"));
  EXPECT_FALSE(manifest.contains("dist"));

  EXPECT_EQ(Latest("@acme/log"), "1.2.3");
}

TEST_F(PublishPackedTest, TheReadmeIsFoundCaseInsensitivelyAndCut) {
  // Markdown is preferred to a plain README; folders below package/ are not the package's
  // README.
  std::filesystem::path file =
      Pack({{"package/package.json", PackageJson("@acme/log", "1.0.0")},
            {"package/docs/README.md", "docs"},
            {"package/readme", "plain"},
            {"package/Readme.MD", "markdown"},
            {"package/README.markdown", "later"}});
  ASSERT_TRUE(Publish(file));
  auto view = index_->GetProject(NpmFormat(), "@acme/log");
  ASSERT_TRUE(view);
  EXPECT_EQ((*view)->releases[0].metadata.description, "markdown");

  std::filesystem::path plain = Pack({{"package/package.json", PackageJson("@acme/log", "1.0.1")},
                                      {"package/README", "plain only"}});
  ASSERT_TRUE(Publish(plain));

  // A README larger than the limit is cut, never split inside a UTF-8 sequence.
  std::string big = std::string(kMaxReadmeBytes - 1, 'x') + "\xC3\xA9" + "tail";
  std::filesystem::path large = Pack({{"package/package.json", PackageJson("@acme/log", "1.0.2")},
                                      {"package/readme.md", big}});
  ASSERT_TRUE(Publish(large));

  std::filesystem::path none = Pack({{"package/package.json", PackageJson("@acme/log", "1.0.3")}});
  ASSERT_TRUE(Publish(none));

  view = index_->GetProject(NpmFormat(), "@acme/log");
  ASSERT_TRUE(view);
  std::map<std::string, std::string> readmes;
  for (const catalog::ReleaseRecord& r : (*view)->releases) {
    readmes[r.version] = r.metadata.description;
  }
  EXPECT_EQ(readmes["1.0.1"], "plain only");
  EXPECT_EQ(readmes["1.0.2"], std::string(kMaxReadmeBytes - 1, 'x'));
  EXPECT_EQ(readmes["1.0.3"], "");
}

TEST_F(PublishPackedTest, LatestMovesOnlyToAHigherStableVersion) {
  ASSERT_TRUE(Publish(PackVersion("@acme/log", "1.0.0")));
  EXPECT_EQ(Latest("@acme/log"), "1.0.0");
  ASSERT_TRUE(Publish(PackVersion("@acme/log", "2.0.0")));
  EXPECT_EQ(Latest("@acme/log"), "2.0.0");
  ASSERT_TRUE(Publish(PackVersion("@acme/log", "1.5.0")));  // a backport
  EXPECT_EQ(Latest("@acme/log"), "2.0.0");
  ASSERT_TRUE(Publish(PackVersion("@acme/log", "3.0.0-rc.1")));
  EXPECT_EQ(Latest("@acme/log"), "2.0.0");
  // Precedence, not text: 2.0.10 > 2.0.9 > 2.0.0; build metadata is dropped.
  ASSERT_TRUE(Publish(PackVersion("@acme/log", "2.0.9+build.7")));
  EXPECT_EQ(Latest("@acme/log"), "2.0.9");
  ASSERT_TRUE(Publish(PackVersion("@acme/log", "2.0.10")));
  EXPECT_EQ(Latest("@acme/log"), "2.0.10");

  // A package's first version takes "latest" even when it is a prerelease.
  ASSERT_TRUE(Publish(PackVersion("@acme/next", "1.0.0-beta.1")));
  EXPECT_EQ(Latest("@acme/next"), "1.0.0-beta.1");
  ASSERT_TRUE(Publish(PackVersion("@acme/next", "1.0.0-beta.2")));
  EXPECT_EQ(Latest("@acme/next"), "1.0.0-beta.1");
  ASSERT_TRUE(Publish(PackVersion("@acme/next", "1.0.0")));
  EXPECT_EQ(Latest("@acme/next"), "1.0.0");
}

TEST_F(PublishPackedTest, AnIdenticalRepublishChangesNothing) {
  ASSERT_TRUE(Publish(PackVersion("@acme/log", "1.0.0"), BuildProvenance(1)));
  std::filesystem::path file = PackVersion("@acme/log", "2.0.0");
  auto first = Publish(file, BuildProvenance(2));
  ASSERT_TRUE(first) << first.error().ToString();
  // An admin moves "latest" back (a bad release, say): a re-run must not undo that.
  ASSERT_TRUE(index_->SetTag(admin_, NpmFormat(), "@acme/log", "latest", "1.0.0").ok());
  const std::size_t blobs = BlobCount();

  auto again = Publish(file, BuildProvenance(3));
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->result.outcome, catalog::AddFileOutcome::kIdenticalExists);
  EXPECT_EQ(again->version, "2.0.0");
  EXPECT_EQ(Latest("@acme/log"), "1.0.0");
  EXPECT_EQ(BlobCount(), blobs);
  auto row = index_->FindFile(NpmFormat(), "@acme/log", "log-2.0.0.tgz");
  ASSERT_TRUE(row && row->provenance);
  EXPECT_EQ(row->provenance->build_id, 2);
}

TEST_F(PublishPackedTest, OtherBytesUnderAnExistingVersionConflict) {
  ASSERT_TRUE(Publish(PackVersion("@acme/log", "1.0.0"), BuildProvenance(1)));
  const std::size_t blobs = BlobCount();
  auto other = Publish(PackVersion("@acme/log", "1.0.0", "different"), BuildProvenance(2));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), StatusCode::kAlreadyExists) << other.error().ToString();
  // The same release spelled with build metadata is the same version to npm.
  auto build = Publish(PackVersion("@acme/log", "1.0.0+other", "different"));
  ASSERT_FALSE(build);
  EXPECT_EQ(build.error().code(), StatusCode::kAlreadyExists) << build.error().ToString();
  EXPECT_EQ(BlobCount(), blobs);
  auto row = index_->FindFile(NpmFormat(), "@acme/log", "log-1.0.0.tgz");
  ASSERT_TRUE(row && row->provenance);
  EXPECT_EQ(row->provenance->build_id, 1);
}

TEST_F(PublishPackedTest, InvalidTarballsAreRefusedAndNothingIsStored) {
  ExpectRefused(PackVersion("@acme/Log", "1.0.0"), StatusCode::kInvalidArgument,
                "invalid name", "@acme/Log");
  ExpectRefused(Pack({{"package/package.json", "{\"version\":\"1.0.0\"}"}}),
                StatusCode::kInvalidArgument, "invalid name", "");
  ExpectRefused(PackVersion("@acme/log", "1.0"), StatusCode::kInvalidArgument,
                "invalid version");
  ExpectRefused(PackVersion("@acme/log", "v1.0.0"), StatusCode::kInvalidArgument,
                "invalid version");
  ExpectRefused(Pack({{"package/index.js", "module.exports = 1;\n"}}),
                StatusCode::kInvalidArgument, "no package/package.json");
  ExpectRefused(Pack({{"package.json", PackageJson("@acme/log", "1.0.0")}}),
                StatusCode::kInvalidArgument, "no package/package.json");
  ExpectRefused(Pack({{"package/package.json", "[1, 2]"}}), StatusCode::kInvalidArgument,
                "not a JSON object");
  ExpectRefused(Pack({{"package/package.json", PackageJson("@acme/log", "1.0.0")},
                      {"package/package.json", PackageJson("@acme/log", "1.0.0")}}),
                StatusCode::kInvalidArgument, "more than one package/package.json");
  ExpectRefused(Pack({{"package/package.json", PackageJson("@acme/log", "1.0.0")},
                      {"package/../../etc/cron.d/x", "* * * * * root sh\n"}}),
                StatusCode::kInvalidArgument, "invalid tarball");
  ExpectRefused(Pack({{"package/package.json", PackageJson("@acme/log", "1.0.0")},
                      {"/etc/passwd", "root::0:0::/:/bin/sh\n"}}),
                StatusCode::kInvalidArgument, "invalid tarball");
  ExpectRefused(Pack({{"package/package.json",
                       PackageJson("@acme/log", "1.0.0", ",\"private\":true")}}),
                StatusCode::kInvalidArgument, "private");
  // Boost.JSON reads 1e400 as infinity and 0e400 as NaN; stored, either would be written
  // back as text no client parses (found by fuzzing the publish body).
  ExpectRefused(Pack({{"package/package.json",
                       PackageJson("@acme/log", "1.0.0", ",\"x\":{\"n\":[1e400]}")}}),
                StatusCode::kInvalidArgument, "out of a double's range");
  std::filesystem::path not_gzip = tmp_.path() / "packs" / "plain.tgz";
  {
    std::ofstream out(not_gzip, std::ios::binary);
    out << PackageJson("@acme/log", "1.0.0");
  }
  ExpectRefused(not_gzip, StatusCode::kInvalidArgument, "invalid tarball");
}

TEST_F(PublishPackedTest, ThePrincipalNeedsTheScope) {
  ExpectRefused(PackVersion("@other/log", "1.0.0"), StatusCode::kPermissionDenied, "",
                "@other/log");
  ExpectRefused(PackVersion("acme-log", "1.0.0"), StatusCode::kPermissionDenied, "",
                "acme-log");
}

// The stored provenance reaches npm clients: in the full packument (and a version's
// document), never in the abbreviated one installs read.
TEST_F(PublishPackedTest, TheProvenanceShowsInTheFullPackumentOnly) {
  ASSERT_TRUE(Publish(PackVersion("@acme/log", "1.0.0")));  // uploaded without provenance
  ASSERT_TRUE(Publish(PackVersion("@acme/log", "1.1.0"), BuildProvenance(9)));
  auto view = index_->GetProject(NpmFormat(), "@acme/log");
  ASSERT_TRUE(view);
  PackumentInput input;
  input.name = "@acme/log";
  input.registry_url = "http://h/npm/";
  auto tags = index_->ListTags(NpmFormat(), "@acme/log");
  ASSERT_TRUE(tags);
  input.tags = *tags;
  for (const catalog::ReleaseRecord& release : (*view)->releases) {
    for (const catalog::FileRecord& f : (*view)->files) {
      if (f.version_key == release.version_key) {
        auto manifest = index_->ReadBlob(release.metadata.manifest_sha256, kMaxManifestBytes);
        ASSERT_TRUE(manifest);
        input.versions.push_back({release, f, json::parse(*manifest).as_object()});
      }
    }
  }
  ASSERT_EQ(input.versions.size(), 2u);

  json::object full = json::parse(RenderFull(input)).as_object();
  const json::object& built = full.at("versions").at("1.1.0").as_object();
  ASSERT_TRUE(built.contains("_provenance"));
  EXPECT_EQ(built.at("_provenance").at("build_id").as_int64(), 9);
  EXPECT_EQ(built.at("_provenance").at("build_url").as_string(), "/api/builds/9");
  EXPECT_EQ(built.at("_provenance").at("commit").as_string(), std::string(40, 'c'));
  EXPECT_FALSE(full.at("versions").at("1.0.0").as_object().contains("_provenance"));
  json::object abbreviated = json::parse(RenderAbbreviated(input)).as_object();
  EXPECT_FALSE(abbreviated.at("versions").at("1.1.0").as_object().contains("_provenance"));
}

}  // namespace
}  // namespace pipy::npm
