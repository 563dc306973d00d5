#include "storage/filesystem_blob_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "storage/blob_store_conformance.h"
#include "storage/factory.h"
#include "storage/filesystem_layout.h"
#include "testing/temp_dir.h"

namespace pipy::storage {
namespace {

namespace fs = std::filesystem;

// A new subfolder of one temp folder for the whole binary, which is removed at exit; each
// store gets its own.
fs::path NewDir() {
  static const pipy::testing::TempDir root("pipy-blob-test");
  static std::atomic<int> counter{0};
  fs::path dir = root.path() / ("store" + std::to_string(counter.fetch_add(1)));
  fs::create_directories(dir);
  return dir;
}

std::unique_ptr<BlobStore> FreshFilesystemStore() {
  auto store = FilesystemBlobStore::OpenAt(NewDir() / "data");
  if (!store.has_value()) {
    ADD_FAILURE() << store.error().ToString();
    return nullptr;
  }
  return std::move(store).value();
}

INSTANTIATE_TEST_SUITE_P(Filesystem, BlobStoreConformanceTest,
                         ::testing::Values(BlobStoreConformanceParam{"filesystem",
                                                                     FreshFilesystemStore}),
                         BlobStoreConformanceName);

class FilesystemBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = NewDir() / "data";
    auto store = FilesystemBlobStore::OpenAt(root_);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(store).value();
  }

  static std::string Slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  fs::path root_;
  std::unique_ptr<FilesystemBlobStore> store_;
};

TEST_F(FilesystemBlobStoreTest, OpenCreatesTheLayout) {
  EXPECT_TRUE(fs::is_directory(BlobsDir(root_)));
  EXPECT_TRUE(fs::is_directory(TempDir(root_)));
}

TEST_F(FilesystemBlobStoreTest, BlobFileIsCompleteAtItsPathAfterCommit) {
  const std::string data(100000, 'z');
  auto info = PutBytes(*store_, data);
  ASSERT_TRUE(info.has_value()) << info.status().ToString();
  fs::path path = BlobPath(root_, info->key);
  EXPECT_EQ(path, root_ / "blobs" / info->key.substr(0, 2) / info->key);
  EXPECT_EQ(Slurp(path), data);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(FilesystemBlobStoreTest, NoTempFileRemainsAfterCommitMismatchOrAbandon) {
  ASSERT_TRUE(PutBytes(*store_, "committed").has_value());
  ASSERT_TRUE(PutBytes(*store_, "committed").has_value());  // the idempotent path
  {
    auto w = store_->NewWriter();
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE((*w)->Write("mismatch").ok());
    ASSERT_FALSE((*w)->Commit(Sha256HexForTest("other")).has_value());
  }
  {
    auto w = store_->NewWriter();
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE((*w)->Write("abandoned").ok());
    EXPECT_FALSE(fs::is_empty(TempDir(root_))) << "the writer should stream into tmp/";
  }
  EXPECT_TRUE(fs::is_empty(TempDir(root_)));
}

TEST_F(FilesystemBlobStoreTest, ADamagedBlobOfAnotherSizeIsReplacedByTheNextCommit) {
  const std::string data(5000, 'd');
  auto info = PutBytes(*store_, data);
  ASSERT_TRUE(info.has_value()) << info.status().ToString();
  fs::path path = BlobPath(root_, info->key);
  fs::resize_file(path, 17);  // a blob damaged outside Pipy: its key names other bytes
  ASSERT_TRUE(PutBytes(*store_, data).has_value());
  EXPECT_EQ(Slurp(path), data);

  fs::resize_file(path, 0);
  fs::path upload = root_.parent_path() / "upload";
  { std::ofstream(upload, std::ios::binary) << data; }
  auto adopted = store_->Adopt(upload, info->key);
  ASSERT_TRUE(adopted.has_value()) << adopted.status().ToString();
  EXPECT_EQ(adopted->size, data.size());
  EXPECT_EQ(Slurp(path), data);
}

TEST_F(FilesystemBlobStoreTest, CommitSyncsTheFileAndItsFolders) {
  FilesystemSyncStats before = store_->sync_stats();
  auto info = PutBytes(*store_, "durable");
  ASSERT_TRUE(info.has_value());
  FilesystemSyncStats after = store_->sync_stats();
  EXPECT_EQ(after.file_syncs, before.file_syncs + 1);
  // Only the rename's folder: buckets exist from the start, so no folder is created.
  EXPECT_EQ(after.dir_syncs, before.dir_syncs + 1);

  // Identical bytes: nothing new to sync but the folder entry.
  ASSERT_TRUE(PutBytes(*store_, "durable").has_value());
  FilesystemSyncStats again = store_->sync_stats();
  EXPECT_EQ(again.file_syncs, after.file_syncs);
  EXPECT_EQ(again.dir_syncs, after.dir_syncs + 1);
}

TEST_F(FilesystemBlobStoreTest, AdoptRenamesAnUploadIntoPlaceWithoutCopying) {
  fs::path upload = root_ / "upload.tmp";  // same file system, as serve's uploads/ folder
  { std::ofstream(upload, std::ios::binary) << "uploaded wheel"; }
  fs::permissions(upload, fs::perms::owner_read | fs::perms::owner_write);
  struct stat before {};
  ASSERT_EQ(::stat(upload.c_str(), &before), 0);
  std::string key = Sha256HexForTest("uploaded wheel");
  FilesystemSyncStats syncs = store_->sync_stats();

  auto info = store_->Adopt(upload, key);
  ASSERT_TRUE(info.has_value()) << info.status().ToString();
  EXPECT_FALSE(fs::exists(upload)) << "the upload was copied, not moved";
  struct stat after {};
  ASSERT_EQ(::stat(BlobPath(root_, key).c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);          // the same file, renamed
  EXPECT_EQ(after.st_mode & 0777, 0644u);          // readable like every blob
  EXPECT_EQ(store_->sync_stats().file_syncs, syncs.file_syncs + 1);
  EXPECT_EQ(store_->sync_stats().dir_syncs, syncs.dir_syncs + 1);

  // Adopting bytes already stored leaves the caller's file alone.
  fs::path again = root_ / "again.tmp";
  { std::ofstream(again, std::ios::binary) << "uploaded wheel"; }
  ASSERT_TRUE(store_->Adopt(again, key).has_value());
  EXPECT_TRUE(fs::exists(again));
}

TEST_F(FilesystemBlobStoreTest, OpeningCreatesEveryBucket) {
  for (const std::string& bucket : BucketNames()) {
    EXPECT_TRUE(fs::is_directory(BlobsDir(root_) / bucket)) << bucket;
  }
  EXPECT_EQ(BucketNames().size(), 256u);
  EXPECT_EQ(BucketNames().front(), "00");
  EXPECT_EQ(BucketNames().back(), "ff");
}

TEST_F(FilesystemBlobStoreTest, ListSkipsTempAndStrayFiles) {
  std::string key = Sha256HexForTest("stray");
  std::ofstream(TempDir(root_) / key) << "stray";
  fs::create_directories(BlobDir(root_, key));
  std::ofstream(BlobDir(root_, key) / "not-a-key") << "x";
  std::string other = Sha256HexForTest("misplaced");
  std::ofstream(BlobDir(root_, key) / other) << "misplaced";  // in the wrong bucket
  std::ofstream(BlobsDir(root_) / "README") << "x";
  int calls = 0;
  ASSERT_TRUE(store_
                  ->List([&](const BlobInfo&) {
                    ++calls;
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(calls, 0);
}

TEST_F(FilesystemBlobStoreTest, TraversalKeyNeverReachesOutsideTheRoot) {
  // Where a naive path join of this key would land, relative to a deep root.
  fs::path deep = NewDir() / "a" / "b" / "c" / "d";
  auto store = FilesystemBlobStore::OpenAt(deep);
  ASSERT_TRUE(store.has_value());
  std::string key = "../../../../victim";
  fs::path naive =
      (fs::path(deep.string() + "/blobs/" + key.substr(0, 2) + "/" + key))
          .lexically_normal();
  fs::create_directories(naive.parent_path());
  std::ofstream(naive) << "precious";
  EXPECT_EQ((*store)->Delete(key).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*store)->Open(key).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Slurp(naive), "precious");
}

TEST_F(FilesystemBlobStoreTest, ReaderExposesItsFileDescriptor) {
  auto info = PutBytes(*store_, "sendfile me");
  ASSERT_TRUE(info.has_value());
  auto reader = store_->Open(info->key);
  ASSERT_TRUE(reader.has_value());
  int fd = (*reader)->native_fd();
  ASSERT_GE(fd, 0);
  char buf[32] = {};
  ASSERT_EQ(::pread(fd, buf, sizeof buf, 0), 11);
  EXPECT_EQ(std::string(buf, 11), "sendfile me");
}

TEST_F(FilesystemBlobStoreTest, PutFileStreamsALocalFile) {
  fs::path src = NewDir() / "upload.whl";
  std::ofstream(src, std::ios::binary) << "wheel bytes";
  auto info = PutFile(*store_, src, Sha256HexForTest("wheel bytes"));
  ASSERT_TRUE(info.has_value()) << info.status().ToString();
  EXPECT_EQ(Slurp(BlobPath(root_, info->key)), "wheel bytes");
  EXPECT_EQ(PutFile(*store_, src, Sha256HexForTest("nope")).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(PutFile(*store_, src.string() + ".missing").status().code(), StatusCode::kNotFound);
}

TEST_F(FilesystemBlobStoreTest, ReadAllRefusesBlobsOverTheLimit) {
  auto info = PutBytes(*store_, "0123456789");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(ReadAll(*store_, info->key, 10).value_or(""), "0123456789");
  EXPECT_EQ(ReadAll(*store_, info->key, 9).status().code(), StatusCode::kTooLarge);
}

TEST(BlobStoreFactoryTest, FilesystemBackendCreatesItsRoot) {
  fs::path root = NewDir() / "new" / "data";
  auto store = MakeBlobStore({.backend = "filesystem", .root = root});
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  EXPECT_TRUE(fs::is_directory(BlobsDir(root)));
  auto info = PutBytes(**store, "via factory");
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(fs::exists(BlobPath(root, info->key)));
}

TEST(BlobStoreFactoryTest, UnknownBackendIsNamed) {
  auto store = MakeBlobStore({.backend = "floppy", .root = NewDir()});
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(store.error().message().find("floppy"), std::string::npos);
}

TEST(BlobStoreFactoryTest, FilesystemWithoutRootIsRejected) {
  StorageOptions options;
  options.backend = "filesystem";
  auto store = MakeBlobStore(options);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pipy::storage
