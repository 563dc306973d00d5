// The neutral publish path with a format Pipy does not have: "toy" (test code only), with
// lowercase names and integer versions ("7" and "007" are one version). Publishing,
// listing, tags, deprecation, yanks, takedowns and tombstones all work for it through
// Index without any change to the shared schema; a Python project of the same name is not
// touched.
#include <gtest/gtest.h>

#include <fstream>

#include "catalog/factory.h"
#include "core/test_util.h"
#include "index/index.h"
#include "storage/factory.h"
#include "testing/dist_builder.h"

namespace pipy::index {
namespace {

class ToyFormat final : public Format {
 public:
  std::string_view name() const override { return "toy"; }
  Result<std::string> NormalizeName(std::string_view name) const override {
    if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") != name.npos) {
      return InvalidArgument("invalid toy name '" + std::string(name) + "'");
    }
    return std::string(name);
  }
  Result<FormatVersion> ParseVersion(std::string_view version) const override {
    if (version.empty() || version.find_first_not_of("0123456789") != version.npos ||
        version.size() > 9) {
      return InvalidArgument("invalid toy version '" + std::string(version) + "'");
    }
    return FormatVersion{std::string(version), std::to_string(std::stoul(std::string(version)))};
  }
  bool Newer(std::string_view a, std::string_view b) const override {
    return std::stoul(std::string(a)) > std::stoul(std::string(b));
  }
};

class IndexFormatsTest : public ::testing::Test {
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
    uploader_.token_name = "toy-ci";
    uploader_.scopes = {"upload:acme-*"};
    admin_.anonymous = false;
    admin_.token_name = "root";
    admin_.scopes = {"admin"};
  }

  PublishRequest Request(const std::string& project, const std::string& version,
                         const std::string& filename, const std::string& bytes) {
    std::filesystem::path file = tmp_.path() / ("f" + std::to_string(++counter_));
    std::ofstream(file, std::ios::binary) << bytes;
    PublishRequest r;
    r.project = project;
    r.version = version;
    r.filename = filename;
    r.file = file;
    r.attributes = {{"arch", "any"}};
    r.release.summary = "a toy";
    r.manifest = "{\"name\": \"" + project + "\"}";
    r.uploader = "toy-ci";
    return r;
  }

  pipy::testing::TempDir tmp_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<Index> index_;
  auth::Principal uploader_;
  auth::Principal admin_;
  ToyFormat toy_;
  int counter_ = 0;
};

TEST_F(IndexFormatsTest, PublishesListsTagsAndTombstonesAFormatTheSchemaNeverHeardOf) {
  auto first = index_->Publish(uploader_, toy_, Request("acme-toy", "7", "acme-toy-7.toy", "seven"));
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->outcome, catalog::AddFileOutcome::kCreated);
  EXPECT_EQ(first->file.format, "toy");
  EXPECT_EQ(first->file.attributes.at("arch"), "any");
  // "007" is version 7 in this scheme: one release, spelled as first published.
  auto equal = index_->Publish(uploader_, toy_, Request("acme-toy", "007", "acme-toy-7.src.toy", "x"));
  ASSERT_TRUE(equal) << equal.error().ToString();
  EXPECT_EQ(equal->file.version, "7");
  ASSERT_TRUE(index_->Publish(uploader_, toy_, Request("acme-toy", "12", "acme-toy-12.toy", "12")));

  auto view = index_->GetProject(toy_, "acme-toy");
  ASSERT_TRUE(view) << view.error().ToString();
  ASSERT_EQ((*view)->releases.size(), 2u);
  EXPECT_EQ((*view)->releases[0].version, "12");  // the format's order, not the text's
  EXPECT_FALSE((*view)->releases[0].metadata.manifest_sha256.empty());
  EXPECT_EQ((*view)->files.size(), 3u);
  auto projects = index_->ListProjects(toy_);
  ASSERT_TRUE(projects);
  ASSERT_EQ(projects->size(), 1u);
  auto python = catalog_->ListProjects(catalog::kPython);
  ASSERT_TRUE(python);
  EXPECT_TRUE(python->empty()) << "a toy project showed up among Python's";

  ASSERT_TRUE(index_->SetTag(uploader_, toy_, "acme-toy", "latest", "12").ok());
  ASSERT_TRUE(index_->SetTag(uploader_, toy_, "acme-toy", "stable", "0007").ok());
  auto tags = index_->ListTags(toy_, "acme-toy");
  ASSERT_TRUE(tags);
  EXPECT_EQ(*tags, (std::map<std::string, std::string>{{"latest", "12"}, {"stable", "7"}}));
  ASSERT_TRUE(index_->SetDeprecated(uploader_, toy_, "acme-toy", "7", "use 12").ok());
  ASSERT_TRUE(index_->SetYanked(uploader_, toy_, "acme-toy", "07", true, "bad").ok());
  view = index_->GetProject(toy_, "acme-toy");
  ASSERT_TRUE(view);
  EXPECT_EQ((*view)->releases[1].deprecated, "use 12");
  EXPECT_TRUE((*view)->releases[1].yanked);

  // Takedown: admin only; then the version never comes back, under any spelling or file.
  EXPECT_EQ(index_->RemoveRelease(uploader_, toy_, "acme-toy", "7").code(),
            StatusCode::kPermissionDenied);
  ASSERT_TRUE(index_->RemoveRelease(admin_, toy_, "acme-toy", "7").ok());
  for (auto [version, filename] : {std::pair{"7", "acme-toy-7.toy"}, {"0007", "acme-toy-new.toy"}}) {
    auto again = index_->Publish(uploader_, toy_, Request("acme-toy", version, filename, "seven"));
    ASSERT_FALSE(again) << filename;
    EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists) << filename;
  }
  ASSERT_TRUE(index_->RemoveFile(admin_, toy_, "acme-toy", "acme-toy-12.toy").ok());
  auto file_again = index_->Publish(uploader_, toy_, Request("acme-toy", "12", "acme-toy-12.toy", "12"));
  ASSERT_FALSE(file_again);
  EXPECT_EQ(file_again.error().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(index_->Publish(uploader_, toy_, Request("acme-toy", "13", "acme-toy-13.toy", "13")));
  tags = index_->ListTags(toy_, "acme-toy");
  ASSERT_TRUE(tags);
  EXPECT_EQ(tags->count("stable"), 0u) << "a removed release's tag stayed";
}

TEST_F(IndexFormatsTest, TheSharedChecksApplyToEveryFormat) {
  auth::Principal outsider = uploader_;
  outsider.scopes = {"upload:other-*"};
  auto denied = index_->Publish(outsider, toy_, Request("acme-toy", "1", "a-1.toy", "1"));
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), StatusCode::kPermissionDenied);
  auto bad_name = index_->Publish(uploader_, toy_, Request("Acme_Toy", "1", "a-1.toy", "1"));
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().code(), StatusCode::kInvalidArgument);
  auto bad_version = index_->Publish(uploader_, toy_, Request("acme-toy", "1.0", "a-1.toy", "1"));
  ASSERT_FALSE(bad_version);
  EXPECT_EQ(bad_version.error().code(), StatusCode::kInvalidArgument);
  PublishRequest wrong_hash = Request("acme-toy", "1", "a-1.toy", "1");
  wrong_hash.declared_sha256 = std::string(64, '0');
  auto mismatch = index_->Publish(uploader_, toy_, std::move(wrong_hash));
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code(), StatusCode::kInvalidArgument);
  // The new-project check sees the format.
  std::string checked;
  index_->SetNewProjectCheck([&](const auth::Principal&, std::string_view format,
                                 std::string_view project) {
    checked = std::string(format) + "/" + std::string(project);
    return AlreadyExists("exists upstream");
  });
  auto hijack = index_->Publish(uploader_, toy_, Request("acme-toy", "1", "a-1.toy", "1"));
  ASSERT_FALSE(hijack);
  EXPECT_EQ(checked, "toy/acme-toy");
  index_->SetNewProjectCheck(nullptr);
  ASSERT_TRUE(index_->Publish(uploader_, toy_, Request("acme-toy", "1", "a-1.toy", "1")));
  auto same = index_->Publish(uploader_, toy_, Request("acme-toy", "1", "a-1.toy", "1"));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->outcome, catalog::AddFileOutcome::kIdenticalExists);
  auto other = index_->Publish(uploader_, toy_, Request("acme-toy", "1", "a-1.toy", "2"));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), StatusCode::kAlreadyExists);
}

// The release race through the index: a wheel of 1.0 and an sdist of 1.0.0 published at
// once end in one release, every time.
}  // namespace
}  // namespace pipy::index
