// Publishing Python distributions through the neutral index: the wheel and sdist rules,
// and the service's shared behaviour (immutability, scopes, yanks, pages) as Python sees it.
#include "python/publish.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "catalog/factory.h"
#include "core/sha256.h"
#include "index/index.h"
#include "python/python_format.h"
#include "storage/factory.h"
#include "testing/dist_builder.h"

namespace pipy::python {
namespace {

using index::Index;
using index::IndexOptions;
using index::CachedPage;
using index::MakeEtag;
using index::PageCache;
using pipy::testing::MakeSdist;
using pipy::testing::MakeWheel;
using pipy::testing::ReadFile;
using pipy::testing::TempDir;

class PublishTest : public ::testing::Test {
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
    index_ = std::make_unique<Index>(*blobs_, *catalog_);
    uploader_.anonymous = false;
    uploader_.token_name = "ci";
    uploader_.scopes = {"upload:acme-*"};
    std::filesystem::create_directories(dist_dir());
  }

  std::filesystem::path dist_dir() const { return tmp_.path() / "dist"; }

  DistributionUpload UploadOf(const std::filesystem::path& file) const {
    DistributionUpload upload;
    upload.file = file;
    upload.filename = file.filename().string();
    upload.uploader = "ci";
    return upload;
  }

  // How many blobs the store holds: after a refused upload it must not have grown.
  std::size_t BlobCount() {
    std::size_t n = 0;
    EXPECT_TRUE(blobs_->List([&](const storage::BlobInfo&) {
                  ++n;
                  return Status::Ok();
                }).ok());
    return n;
  }

  // Expects `upload` to fail with `code` and a message containing `needle`, storing no blob;
  // unless `filename_taken`, its filename must not be in the catalog either.
  void ExpectRefused(const DistributionUpload& upload, StatusCode code, std::string_view needle,
                     bool filename_taken = false) {
    std::size_t before = BlobCount();
    auto result = PublishDistribution(*index_, uploader_, upload);
    ASSERT_FALSE(result) << upload.filename;
    EXPECT_EQ(result.error().code(), code) << result.error().ToString();
    EXPECT_NE(result.error().message().find(needle), std::string::npos)
        << result.error().message();
    EXPECT_EQ(BlobCount(), before) << "a refused upload stored a blob";
    auto found = catalog::FindFileAnywhere(*catalog_, upload.filename);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->has_value(), filename_taken) << "a refused upload reached the catalog";
  }

  TempDir tmp_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<Index> index_;
  auth::Principal uploader_;
};

TEST_F(PublishTest, PublishesAWheelWithItsMetadataBlob) {
  auto wheel = MakeWheel(dist_dir(), "Acme.Logger", "1.0");
  DistributionUpload upload = UploadOf(wheel);
  upload.declared_name = "Acme.Logger";
  upload.declared_version = "1.0";
  upload.declared_sha256 = Sha256Hex(ReadFile(wheel));
  auto result = PublishDistribution(*index_, uploader_, upload);
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->outcome, catalog::AddFileOutcome::kCreated);
  EXPECT_EQ(result->file.project, "acme-logger");
  EXPECT_EQ(result->file.version, "1.0");
  EXPECT_EQ(std::string(catalog::AttributeOf(result->file.attributes, "packagetype")), "bdist_wheel");
  EXPECT_EQ(result->file.sha256, upload.declared_sha256);
  ASSERT_FALSE(std::string(catalog::AttributeOf(result->file.attributes, "metadata_sha256")).empty());

  auto metadata = storage::ReadAll(*blobs_, std::string(catalog::AttributeOf(result->file.attributes, "metadata_sha256")), 1 << 20);
  ASSERT_TRUE(metadata);
  EXPECT_NE(metadata->find("Name: Acme.Logger"), std::string::npos);
  auto bytes = storage::ReadAll(*blobs_, result->file.sha256, 1 << 20);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, ReadFile(wheel));

  auto view = index_->GetProject(PythonFormat(), "acme-logger");
  ASSERT_TRUE(view) << view.error().ToString();
  EXPECT_EQ((*view)->project.display_name, "Acme.Logger");
  ASSERT_EQ((*view)->files.size(), 1u);
  ASSERT_EQ((*view)->releases.size(), 1u);
  EXPECT_EQ((*view)->releases[0].metadata.summary, "A test package");
}

TEST_F(PublishTest, StoresTheBuildersProvenanceWithTheFile) {
  auto wheel = MakeWheel(dist_dir(), "acme-built", "1.0");
  DistributionUpload upload = UploadOf(wheel);
  upload.provenance = catalog::Provenance{"mono", std::string(40, 'f'), "built", 7, "passed"};
  auto result = PublishDistribution(*index_, uploader_, upload);
  ASSERT_TRUE(result) << result.error().ToString();
  auto row = catalog::FindFileAnywhere(*catalog_, upload.filename);
  ASSERT_TRUE(row && row->has_value());
  ASSERT_TRUE((*row)->provenance.has_value());
  EXPECT_EQ((*row)->provenance->commit, std::string(40, 'f'));
  EXPECT_EQ((*row)->provenance->build_id, 7);
}

TEST_F(PublishTest, PublishesAnSdist) {
  auto sdist = MakeSdist(dist_dir(), "acme-core", "2.0rc1");
  auto result = PublishDistribution(*index_, uploader_, UploadOf(sdist));
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(std::string(catalog::AttributeOf(result->file.attributes, "packagetype")), "sdist");
  EXPECT_EQ(result->file.version, "2.0rc1");
  EXPECT_TRUE(std::string(catalog::AttributeOf(result->file.attributes, "metadata_sha256")).empty());
}

TEST_F(PublishTest, IdenticalReuploadIsANoOpAndOtherBytesConflict) {
  auto wheel = MakeWheel(dist_dir(), "acme-x", "1.0");
  ASSERT_TRUE(PublishDistribution(*index_, uploader_, UploadOf(wheel)));
  auto again = PublishDistribution(*index_, uploader_, UploadOf(wheel));
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->outcome, catalog::AddFileOutcome::kIdenticalExists);

  std::string original = ReadFile(wheel);
  auto other_dir = tmp_.path() / "other";
  std::filesystem::create_directories(other_dir);
  auto different = MakeWheel(other_dir, "acme-x", "1.0", "", "salt");
  ASSERT_NE(ReadFile(different), original);
  ExpectRefused(UploadOf(different), StatusCode::kAlreadyExists, "already exists",
                /*filename_taken=*/true);
  auto served = FindDistributionFile(*index_, wheel.filename().string());
  ASSERT_TRUE(served);
  EXPECT_EQ(served->sha256, Sha256Hex(original));
}

TEST_F(PublishTest, FilesAreFoundByTheirFilenameAlone) {
  auto wheel = MakeWheel(dist_dir(), "Acme.Logger", "1.0");
  auto sdist = MakeSdist(dist_dir(), "acme-logger", "1.0");
  ASSERT_TRUE(PublishDistribution(*index_, uploader_, UploadOf(wheel)));
  ASSERT_TRUE(PublishDistribution(*index_, uploader_, UploadOf(sdist)));
  for (const auto& file : {wheel, sdist}) {
    auto found = FindDistributionFile(*index_, file.filename().string());
    ASSERT_TRUE(found) << file.filename() << ": " << found.error().ToString();
    EXPECT_EQ(found->project, "acme-logger");
    EXPECT_EQ(found->sha256, Sha256Hex(ReadFile(file)));
  }
  for (std::string_view missing : {"acme_logger-2.0-py3-none-any.whl", "acme_logger.whl",
                                   "-1.0-py3-none-any.whl", "acme-logger-2.0.tar.gz",
                                   "not-a-distribution.txt"}) {
    EXPECT_EQ(FindDistributionFile(*index_, missing).error().code(), StatusCode::kNotFound)
        << missing;
  }
}

TEST_F(PublishTest, DigestMismatchIsRefused) {
  auto upload = UploadOf(MakeWheel(dist_dir(), "acme-x", "1.0"));
  upload.declared_sha256 = std::string(64, 'a');
  ExpectRefused(upload, StatusCode::kInvalidArgument, "sha256_digest");
}

TEST_F(PublishTest, FormFilenameAndMetadataMustAgree) {
  auto wheel = MakeWheel(dist_dir(), "acme-x", "1.0");
  auto upload = UploadOf(wheel);
  upload.declared_name = "acme-y";
  ExpectRefused(upload, StatusCode::kInvalidArgument, "acme-y");
  upload = UploadOf(wheel);
  upload.declared_version = "1.1";
  ExpectRefused(upload, StatusCode::kInvalidArgument, "1.1");

  auto liar_dir = tmp_.path() / "liar";
  std::filesystem::create_directories(liar_dir);
  auto liar = MakeWheel(liar_dir, "acme-x", "2.0",
                        pipy::testing::CoreMetadataText("acme-other", "2.0"));
  ExpectRefused(UploadOf(liar), StatusCode::kInvalidArgument, "METADATA");
  auto wrong_version = MakeWheel(liar_dir, "acme-x", "3.0",
                                 pipy::testing::CoreMetadataText("acme-x", "3.1"));
  ExpectRefused(UploadOf(wrong_version), StatusCode::kInvalidArgument, "3.1");
}

TEST_F(PublishTest, BadFilenamesAreRefused) {
  auto wheel = MakeWheel(dist_dir(), "acme-x", "1.0");
  for (const char* name : {"../../evil-1.0.tar.gz", "acme-x-1.0-py3-none-any.zip",
                           "x/../../acme_x-1.0-py3-none-any.whl", "acme_x.whl", ""}) {
    auto upload = UploadOf(wheel);
    upload.filename = name;
    ExpectRefused(upload, StatusCode::kInvalidArgument, "filename");
  }
}

TEST_F(PublishTest, CorruptArchivesAreRefused) {
  auto garbage = dist_dir() / "acme_x-1.0-py3-none-any.whl";
  {
    std::ofstream out(garbage, std::ios::binary);
    out << "this is not a zip file at all";
  }
  ExpectRefused(UploadOf(garbage), StatusCode::kInvalidArgument, "");

  auto no_metadata = dist_dir() / "acme_y-1.0-py3-none-any.whl";
  pipy::testing::WriteArchive(no_metadata, true, {{"acme_y/__init__.py", "x = 1\n"}});
  ExpectRefused(UploadOf(no_metadata), StatusCode::kInvalidArgument, "METADATA");
}

TEST_F(PublishTest, ScopesAreEnforced) {
  auto upload = UploadOf(MakeWheel(dist_dir(), "requests", "9.9"));
  ExpectRefused(upload, StatusCode::kPermissionDenied, "requests");
  auth::Principal admin;
  admin.anonymous = false;
  admin.scopes = {"admin"};
  EXPECT_TRUE(PublishDistribution(*index_, admin, upload));
}

TEST_F(PublishTest, YankNeedsRightsAndShowsOnTheProject) {
  ASSERT_TRUE(PublishDistribution(*index_, uploader_, UploadOf(MakeWheel(dist_dir(), "acme-x", "1.0"))));
  auth::Principal reader;
  reader.anonymous = false;
  reader.scopes = {"read"};
  EXPECT_EQ(index_->SetYanked(reader, PythonFormat(), "acme-x", "1.0", true, "broken").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(index_->SetYanked(uploader_, PythonFormat(), "acme-x", "9.0", true, "").code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(index_->SetYanked(uploader_, PythonFormat(), "Acme_X", "1.0.0", true, "broken").ok());
  auto view = index_->GetProject(PythonFormat(), "acme-x");
  ASSERT_TRUE(view);
  EXPECT_TRUE((*view)->files[0].yanked);
  EXPECT_EQ((*view)->files[0].yanked_reason, "broken");
  ASSERT_TRUE(index_->SetYanked(uploader_, PythonFormat(), "acme-x", "1.0", false, "").ok());
  view = index_->GetProject(PythonFormat(), "acme-x");
  ASSERT_TRUE(view);
  EXPECT_FALSE((*view)->files[0].yanked);
}

TEST_F(PublishTest, EqualVersionsSpelledDifferentlyShareOneRelease) {
  ASSERT_TRUE(PublishDistribution(*index_, uploader_, UploadOf(MakeSdist(dist_dir(), "acme-x", "1.0"))));
  auto wheel = PublishDistribution(*index_, uploader_, UploadOf(MakeWheel(dist_dir(), "acme-x", "1.0.0")));
  ASSERT_TRUE(wheel) << wheel.error().ToString();
  EXPECT_EQ(wheel->file.version, "1.0");
  auto view = index_->GetProject(PythonFormat(), "acme-x");
  ASSERT_TRUE(view);
  ASSERT_EQ((*view)->releases.size(), 1u);
  EXPECT_EQ((*view)->files.size(), 2u);
  // So a yank of either spelling covers both files.
  ASSERT_TRUE(index_->SetYanked(uploader_, PythonFormat(), "acme-x", "1.0.0", true, "bad").ok());
  view = index_->GetProject(PythonFormat(), "acme-x");
  ASSERT_TRUE(view);
  EXPECT_TRUE((*view)->files[0].yanked && (*view)->files[1].yanked);
}

TEST_F(PublishTest, ProjectViewIsNewestFirstByPep440) {
  for (const char* version : {"1.0", "1.10", "1.9", "1.10rc1", "2.0.dev1"}) {
    auto dir = tmp_.path() / version;
    std::filesystem::create_directories(dir);
    ASSERT_TRUE(PublishDistribution(*index_, uploader_, UploadOf(MakeWheel(dir, "acme-x", version))));
  }
  auto view = index_->GetProject(PythonFormat(), "acme-x");
  ASSERT_TRUE(view);
  std::vector<std::string> order;
  for (const auto& release : (*view)->releases) {
    order.push_back(release.version);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"2.0.dev1", "1.10", "1.10rc1", "1.9", "1.0"}));
  EXPECT_EQ(index_->GetProject(PythonFormat(), "nope").error().code(), StatusCode::kNotFound);
}

TEST_F(PublishTest, PageCacheDropsPagesWhenTheProjectChanges) {
  int builds = 0;
  auto build = [&]() -> Result<CachedPage> {
    ++builds;
    return CachedPage{std::make_shared<const std::string>("page"), "text/html", MakeEtag("page")};
  };
  ASSERT_TRUE(index_->pages().GetOrBuild("acme-x", "k", build));
  ASSERT_TRUE(index_->pages().GetOrBuild("acme-x", "k", build));
  EXPECT_EQ(builds, 1);
  ASSERT_TRUE(PublishDistribution(*index_, uploader_, UploadOf(MakeWheel(dist_dir(), "acme-x", "1.0"))));
  ASSERT_TRUE(index_->pages().GetOrBuild("acme-x", "k", build));
  EXPECT_EQ(builds, 2);
  // The root list is invalidated by any project's change.
  ASSERT_TRUE(index_->pages().GetOrBuild(PageCache::kRoot, "root", build));
  index_->pages().Invalidate("acme-y");
  ASSERT_TRUE(index_->pages().GetOrBuild(PageCache::kRoot, "root", build));
  EXPECT_EQ(builds, 4);
}

TEST_F(PublishTest, RevalidateSeesWritesFromAnotherProcess) {
  int builds = 0;
  auto build = [&]() -> Result<CachedPage> {
    ++builds;
    return CachedPage{std::make_shared<const std::string>("p"), "text/html", MakeEtag("p")};
  };
  std::int64_t now_ms = 1'700'000'000'000;
  IndexOptions index_options;
  index_options.clock = [&now_ms] { return now_ms; };
  Index index(*blobs_, *catalog_, index_options);
  index.Revalidate();
  ASSERT_TRUE(index.pages().GetOrBuild("acme-x", "k", build));
  // Another process (a second catalog handle on the same database) publishes.
  catalog::CatalogOptions options;
  options.sqlite_path = tmp_.path() / "data" / "catalog.db";
  auto other = catalog::MakeCatalog(options);
  ASSERT_TRUE(other);
  Index other_index(*blobs_, **other);
  ASSERT_TRUE(PublishDistribution(other_index, uploader_, UploadOf(MakeWheel(dist_dir(), "acme-x", "1.0"))));
  // Within the 250 ms period the change sequence is not read again...
  now_ms += 100;
  index.Revalidate();
  ASSERT_TRUE(index.pages().GetOrBuild("acme-x", "k", build));
  EXPECT_EQ(builds, 1);
  // ... after it, it is, and the page is rebuilt.
  now_ms += 200;
  index.Revalidate();
  ASSERT_TRUE(index.pages().GetOrBuild("acme-x", "k", build));
  EXPECT_EQ(builds, 2);
}

TEST_F(PublishTest, ConcurrentPythonUploadsOfEqualVersionsEndInOneRelease) {
  const std::filesystem::path dist = dist_dir();
  for (int round = 0; round < 10; ++round) {
    const std::string project = "acme-race" + std::string(1, static_cast<char>('a' + round));
    auto wheel = pipy::testing::MakeWheel(dist, project, "1.0");
    auto sdist = pipy::testing::MakeSdist(dist, project, "1.0.0");
    std::vector<Status> results(2);
    std::thread a([&] {
      DistributionUpload u;
      u.file = wheel;
      u.filename = wheel.filename().string();
      results[0] = PublishDistribution(*index_, uploader_, u).status();
    });
    std::thread b([&] {
      DistributionUpload u;
      u.file = sdist;
      u.filename = sdist.filename().string();
      results[1] = PublishDistribution(*index_, uploader_, u).status();
    });
    a.join();
    b.join();
    ASSERT_TRUE(results[0].ok()) << results[0].ToString();
    ASSERT_TRUE(results[1].ok()) << results[1].ToString();
    auto view = index_->GetProject(PythonFormat(), project);
    ASSERT_TRUE(view) << view.error().ToString();
    EXPECT_EQ((*view)->releases.size(), 1u) << project;
    EXPECT_EQ((*view)->files.size(), 2u) << project;
  }
}

}  // namespace
}  // namespace pipy::python
