// The conformance suite, continued: what every format shares — projects per format, files
// per project, release identity by version key (and its race), attributes, tags,
// deprecation, takedowns and tombstones. A made-up format "toy" proves that a format the
// catalog has never heard of needs nothing from the shared schema.
#include <atomic>
#include <thread>

#include "catalog/catalog_conformance.h"
#include "core/sha256.h"

namespace pipy::catalog {
namespace {

FileRecord ToyFile(const std::string& project, const std::string& version,
                   const std::string& filename, const std::string& tag = "a") {
  FileRecord f;
  f.format = "toy";
  f.project = project;
  f.version = version;
  f.filename = filename;
  f.size = 42;
  f.sha256 = Sha256Hex(project + "/" + filename + "/" + tag);
  f.attributes = {{"arch", "any"}, {"abi", "toy1"}};
  f.upload_time_ms = 1'700'000'000'000;
  f.uploader = "toy-token";
  return f;
}

ReleaseMetadata ToyMeta() {
  ReleaseMetadata m;
  m.display_name = "Toy";
  m.summary = "a toy";
  m.manifest_sha256 = Sha256Hex("manifest");
  m.attributes = {{"toy_channel", "stable"}};
  return m;
}

std::int64_t Seq(Catalog& catalog) {
  auto seq = catalog.ChangeSequence();
  EXPECT_TRUE(seq.has_value()) << seq.status().ToString();
  return seq.value_or(-1);
}

TEST_P(CatalogConformanceTest, OneNameIsOneProjectPerFormat) {
  ASSERT_TRUE(catalog_->AddFile(TestFile("acme-logger", "1.0"), ReleaseMetadata{}).has_value());
  ASSERT_TRUE(catalog_->AddFile(ToyFile("acme-logger", "2.0.0", "acme-logger-2.0.0.toy"),
                                ToyMeta())
                  .has_value());
  auto python = catalog_->ListProjects("python");
  auto toy = catalog_->ListProjects("toy");
  ASSERT_TRUE(python.has_value() && toy.has_value());
  ASSERT_EQ(python->size(), 1u);
  ASSERT_EQ(toy->size(), 1u);
  EXPECT_EQ((*python)[0].format, "python");
  EXPECT_EQ((*toy)[0].format, "toy");
  auto python_files = catalog_->ListFiles("python", "acme-logger");
  auto toy_files = catalog_->ListFiles("toy", "acme-logger");
  ASSERT_TRUE(python_files.has_value() && toy_files.has_value());
  ASSERT_EQ(python_files->size(), 1u);
  ASSERT_EQ(toy_files->size(), 1u);
  EXPECT_EQ((*toy_files)[0].version, "2.0.0");
  EXPECT_EQ((*toy_files)[0].format, "toy");
  auto missing = catalog_->FindProject("npm", "acme-logger");
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
}

// npm's @a/logger and @b/logger both publish logger-1.0.0.tgz.
TEST_P(CatalogConformanceTest, OneFilenameMayExistInTwoProjects) {
  auto a = catalog_->AddFile(ToyFile("@a/logger", "1.0.0", "logger-1.0.0.tgz", "a"), ToyMeta());
  auto b = catalog_->AddFile(ToyFile("@b/logger", "1.0.0", "logger-1.0.0.tgz", "b"), ToyMeta());
  ASSERT_TRUE(a.has_value()) << a.status().ToString();
  ASSERT_TRUE(b.has_value()) << b.status().ToString();
  EXPECT_EQ(*b, AddFileOutcome::kCreated);
  auto found = catalog_->FindFile("toy", "@b/logger", "logger-1.0.0.tgz");
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->sha256, ToyFile("@b/logger", "1.0.0", "logger-1.0.0.tgz", "b").sha256);
  // Within one project the filename is still taken.
  auto again = catalog_->AddFile(ToyFile("@a/logger", "1.0.0", "logger-1.0.0.tgz", "c"), ToyMeta());
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists);
}

TEST_P(CatalogConformanceTest, AttributesAndManifestAreStoredAsGiven) {
  ASSERT_TRUE(
      catalog_->AddFile(ToyFile("toy", "1.0.0", "toy-1.0.0.toy"), ToyMeta()).has_value());
  auto files = catalog_->ListFiles("toy", "toy");
  ASSERT_TRUE(files.has_value());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].attributes, (Attributes{{"abi", "toy1"}, {"arch", "any"}}));
  EXPECT_EQ(std::string(catalog::AttributeOf((*files)[0].attributes, "packagetype")), "");  // Python's fields stay empty for others
  auto releases = catalog_->ListReleases("toy", "toy");
  ASSERT_TRUE(releases.has_value());
  ASSERT_EQ(releases->size(), 1u);
  EXPECT_EQ((*releases)[0].metadata.manifest_sha256, Sha256Hex("manifest"));
  EXPECT_EQ((*releases)[0].metadata.attributes, (Attributes{{"toy_channel", "stable"}}));
  // Python's named fields round-trip through attributes too.
  ASSERT_TRUE(catalog_->AddFile(TestFile("py", "1.0"), ReleaseMetadata{}).has_value());
  auto py = catalog_->ListFiles("python", "py");
  ASSERT_TRUE(py.has_value());
  ASSERT_EQ(py->size(), 1u);
  EXPECT_EQ(std::string(catalog::AttributeOf((*py)[0].attributes, "packagetype")), "bdist_wheel");
  EXPECT_EQ(std::string(catalog::AttributeOf((*py)[0].attributes, "requires_python")), ">=3.8");
  EXPECT_EQ(std::string(catalog::AttributeOf((*py)[0].attributes, "metadata_sha256")), std::string(catalog::AttributeOf(TestFile("py", "1.0").attributes, "metadata_sha256")));
}

TEST_P(CatalogConformanceTest, EqualVersionKeysShareOneRelease) {
  FileRecord wheel = TestFile("x", "1.0");
  wheel.version_key = "1";
  FileRecord sdist = TestFile("x", "1.0.0");
  sdist.filename = "x-1.0.0.tar.gz";
  sdist.version_key = "1";
  ASSERT_TRUE(catalog_->AddFile(wheel, ReleaseMetadata{}).has_value());
  ASSERT_TRUE(catalog_->AddFile(sdist, ReleaseMetadata{}).has_value());
  auto releases = catalog_->ListReleases("python", "x");
  ASSERT_TRUE(releases.has_value());
  ASSERT_EQ(releases->size(), 1u);
  EXPECT_EQ((*releases)[0].version, "1.0");  // the first file's spelling
  EXPECT_EQ((*releases)[0].version_key, "1");
  auto files = catalog_->ListFiles("python", "x");
  ASSERT_TRUE(files.has_value());
  ASSERT_EQ(files->size(), 2u);
  for (const FileRecord& f : *files) {
    EXPECT_EQ(f.version, "1.0") << f.filename;
  }
}

// The release race: "x-1.0-py3-none-any.whl" and "x-1.0.0.tar.gz" uploaded at once must end
// in one release, however the commits interleave.
TEST_P(CatalogConformanceTest, ConcurrentUploadsOfEqualVersionsEndInOneRelease) {
  for (int round = 0; round < 20; ++round) {
    const std::string project = "race-" + std::to_string(round);
    std::atomic<bool> go{false};
    std::vector<Status> results(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        FileRecord f = TestFile(project, t % 2 == 0 ? "1.0" : "1.0.0", std::to_string(t));
        f.filename = project + "-" + std::to_string(t) + (t % 2 == 0 ? ".whl" : ".tar.gz");
        f.version_key = "1";
        while (!go.load()) {
          std::this_thread::yield();
        }
        results[t] = catalog_->AddFile(f, ReleaseMetadata{}).status();
      });
    }
    go.store(true);
    for (auto& th : threads) {
      th.join();
    }
    for (const Status& s : results) {
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    auto releases = catalog_->ListReleases("python", project);
    ASSERT_TRUE(releases.has_value());
    EXPECT_EQ(releases->size(), 1u) << project;
    auto files = catalog_->ListFiles("python", project);
    ASSERT_TRUE(files.has_value());
    EXPECT_EQ(files->size(), 4u) << project;
  }
}

TEST_P(CatalogConformanceTest, TagsPointAtReleasesAndMove) {
  ASSERT_TRUE(catalog_->AddFile(ToyFile("t", "1.0.0", "t-1.toy"), ToyMeta()).has_value());
  ASSERT_TRUE(catalog_->AddFile(ToyFile("t", "2.0.0", "t-2.toy"), ToyMeta()).has_value());
  std::int64_t before = Seq(*catalog_);
  ASSERT_TRUE(catalog_->SetTag("toy", "t", "latest", "1.0.0").ok());
  ASSERT_TRUE(catalog_->SetTag("toy", "t", "next", "2.0.0").ok());
  EXPECT_GT(Seq(*catalog_), before);
  ASSERT_TRUE(catalog_->SetTag("toy", "t", "latest", "2.0.0").ok());
  auto tags = catalog_->ListTags("toy", "t");
  ASSERT_TRUE(tags.has_value());
  EXPECT_EQ(*tags, (std::map<std::string, std::string>{{"latest", "2.0.0"}, {"next", "2.0.0"}}));
  std::int64_t same = Seq(*catalog_);
  ASSERT_TRUE(catalog_->SetTag("toy", "t", "latest", "2.0.0").ok());
  EXPECT_EQ(Seq(*catalog_), same) << "re-setting a tag to its version must not write";
  EXPECT_EQ(catalog_->SetTag("toy", "t", "beta", "9.9.9").code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->SetTag("toy", "nobody", "beta", "1.0.0").code(), StatusCode::kNotFound);
  ASSERT_TRUE(catalog_->RemoveTag("toy", "t", "next").ok());
  EXPECT_EQ(catalog_->RemoveTag("toy", "t", "next").code(), StatusCode::kNotFound);
  tags = catalog_->ListTags("toy", "t");
  ASSERT_TRUE(tags.has_value());
  EXPECT_EQ(*tags, (std::map<std::string, std::string>{{"latest", "2.0.0"}}));
  auto none = catalog_->ListTags("python", "t");  // another format's project of that name
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

// The tags a publish asks for commit with its file (one commit: never the version
// without them); a tag another release held moves, and an identical re-add sets nothing.
TEST_P(CatalogConformanceTest, TagsGivenToAddFileCommitWithTheFile) {
  ReleaseMetadata first = ToyMeta();
  first.tags = {"latest"};
  ASSERT_TRUE(catalog_->AddFile(ToyFile("g", "1.0.0", "g-1.toy"), first).has_value());
  ReleaseMetadata second = ToyMeta();
  second.tags = {"latest", "next"};
  ASSERT_EQ(catalog_->AddFile(ToyFile("g", "2.0.0", "g-2.toy"), second).value_or(
                AddFileOutcome::kIdenticalExists),
            AddFileOutcome::kCreated);
  auto tags = catalog_->ListTags("toy", "g");
  ASSERT_TRUE(tags.has_value());
  EXPECT_EQ(*tags, (std::map<std::string, std::string>{{"latest", "2.0.0"}, {"next", "2.0.0"}}));
  ReleaseMetadata again = ToyMeta();
  again.tags = {"latest"};
  ASSERT_TRUE(catalog_->SetTag("toy", "g", "latest", "1.0.0").ok());
  EXPECT_EQ(catalog_->AddFile(ToyFile("g", "2.0.0", "g-2.toy"), again).value_or(
                AddFileOutcome::kCreated),
            AddFileOutcome::kIdenticalExists);
  tags = catalog_->ListTags("toy", "g");
  ASSERT_TRUE(tags.has_value());
  EXPECT_EQ(tags->at("latest"), "1.0.0") << "an identical re-publish changes no tag";
}

TEST_P(CatalogConformanceTest, DeprecationIsSetAndCleared) {
  ASSERT_TRUE(catalog_->AddFile(ToyFile("d", "1.0.0", "d-1.toy"), ToyMeta()).has_value());
  ASSERT_TRUE(catalog_->SetDeprecated("toy", "d", "1.0.0", "use 2.x").ok());
  auto releases = catalog_->ListReleases("toy", "d");
  ASSERT_TRUE(releases.has_value());
  ASSERT_EQ(releases->size(), 1u);
  EXPECT_EQ((*releases)[0].deprecated, "use 2.x");
  std::int64_t same = Seq(*catalog_);
  ASSERT_TRUE(catalog_->SetDeprecated("toy", "d", "1.0.0", "use 2.x").ok());
  EXPECT_EQ(Seq(*catalog_), same);
  ASSERT_TRUE(catalog_->SetDeprecated("toy", "d", "1.0.0", "").ok());
  releases = catalog_->ListReleases("toy", "d");
  ASSERT_TRUE(releases.has_value());
  EXPECT_EQ((*releases)[0].deprecated, "");
  EXPECT_EQ(catalog_->SetDeprecated("toy", "d", "3.0.0", "x").code(), StatusCode::kNotFound);
}

TEST_P(CatalogConformanceTest, ARemovedReleaseIsGoneAndCanNeverComeBack) {
  ASSERT_TRUE(catalog_->AddFile(ToyFile("r", "1.0.0", "r-1.toy"), ToyMeta()).has_value());
  ASSERT_TRUE(catalog_->AddFile(ToyFile("r", "1.0.0", "r-1.src.toy"), ToyMeta()).has_value());
  ASSERT_TRUE(catalog_->AddFile(ToyFile("r", "2.0.0", "r-2.toy"), ToyMeta()).has_value());
  ASSERT_TRUE(catalog_->SetTag("toy", "r", "old", "1.0.0").ok());
  std::int64_t before = Seq(*catalog_);
  ASSERT_TRUE(catalog_->RemoveRelease("toy", "r", "1.0.0", "admin-1").ok());
  EXPECT_GT(Seq(*catalog_), before);
  auto releases = catalog_->ListReleases("toy", "r");
  ASSERT_TRUE(releases.has_value());
  ASSERT_EQ(releases->size(), 1u);
  EXPECT_EQ((*releases)[0].version, "2.0.0");
  auto files = catalog_->ListFiles("toy", "r");
  ASSERT_TRUE(files.has_value());
  EXPECT_EQ(files->size(), 1u);
  auto tags = catalog_->ListTags("toy", "r");
  ASSERT_TRUE(tags.has_value());
  EXPECT_TRUE(tags->empty());
  auto tombstones = catalog_->ListTombstones("toy", "r");
  ASSERT_TRUE(tombstones.has_value());
  EXPECT_EQ(tombstones->size(), 3u);  // the version and both filenames
  for (const Tombstone& t : *tombstones) {
    EXPECT_EQ(t.removed_by, "admin-1");
  }
  // Neither the same bytes, nor other bytes under a removed name, nor a new file of the
  // removed version may be published again.
  for (const FileRecord& f : {ToyFile("r", "1.0.0", "r-1.toy"), ToyFile("r", "1.0.0", "r-1.toy", "z"),
                              ToyFile("r", "1.0.0", "r-1.other.toy")}) {
    auto again = catalog_->AddFile(f, ToyMeta());
    ASSERT_FALSE(again.has_value()) << f.filename;
    EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists) << f.filename;
    EXPECT_NE(again.error().message().find("removed"), std::string::npos)
        << again.error().message();
  }
  EXPECT_TRUE(catalog_->AddFile(ToyFile("r", "3.0.0", "r-3.toy"), ToyMeta()).has_value());
  EXPECT_EQ(catalog_->RemoveRelease("toy", "r", "1.0.0", "admin-1").code(),
            StatusCode::kNotFound);
}

TEST_P(CatalogConformanceTest, ARemovedFileIsGoneAndItsNameTombstoned) {
  ASSERT_TRUE(catalog_->AddFile(TestFile("f", "1.0"), ReleaseMetadata{}).has_value());
  FileRecord sdist = TestFile("f", "1.0");
  sdist.filename = "f-1.0.tar.gz";
  ASSERT_TRUE(catalog_->AddFile(sdist, ReleaseMetadata{}).has_value());
  ASSERT_TRUE(catalog_->RemoveFile("python", "f", sdist.filename, "admin-2").ok());
  auto files = catalog_->ListFiles("python", "f");
  ASSERT_TRUE(files.has_value());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].filename, TestFile("f", "1.0").filename);
  auto gone = catalog_->FindFile("python", "f", sdist.filename);
  ASSERT_TRUE(gone.has_value());
  EXPECT_FALSE(gone->has_value());
  auto again = catalog_->AddFile(sdist, ReleaseMetadata{});
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists);
  // The release itself was not removed: another file of it may still come.
  FileRecord other = TestFile("f", "1.0");
  other.filename = "f-1.0-cp312-none-any.whl";
  EXPECT_TRUE(catalog_->AddFile(other, ReleaseMetadata{}).has_value());
  EXPECT_EQ(catalog_->RemoveFile("python", "f", sdist.filename, "admin-2").code(),
            StatusCode::kNotFound);
  int seen = 0;
  ASSERT_TRUE(catalog_->ForEachFile([&](const FileRecord& file) {
    EXPECT_NE(file.filename, sdist.filename);
    ++seen;
    return Status::Ok();
  }).ok());
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace pipy::catalog
