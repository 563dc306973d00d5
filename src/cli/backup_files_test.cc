#include "cli/backup_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "core/sha256.h"
#include "testing/temp_dir.h"

namespace pipy::cli {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& path, std::string_view data) {
  std::ofstream(path, std::ios::binary) << data;
}

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string ShaOf(std::string_view data) {
  Sha256 hasher;
  hasher.Update(data);
  return hasher.HexDigest();
}

TEST(BackupFilesTest, EmptyDir) {
  testing::TempDir dir;
  EXPECT_TRUE(*IsMissingOrEmptyDir(dir.path() / "missing"));
  EXPECT_TRUE(*IsMissingOrEmptyDir(dir.path()));
  Write(dir.path() / "f", "x");
  EXPECT_FALSE(*IsMissingOrEmptyDir(dir.path()));
  EXPECT_FALSE(IsMissingOrEmptyDir(dir.path() / "f").has_value());
}

TEST(BackupFilesTest, LinksABlobOnTheSameFileSystem) {
  testing::TempDir dir;
  Write(dir.path() / "a", "blob bytes");
  auto size = LinkOrCopyBlob(dir.path() / "a", dir.path() / "b", ShaOf("blob bytes"));
  ASSERT_TRUE(size.has_value()) << size.error().message();
  EXPECT_EQ(*size, 10u);
  struct stat a {};
  struct stat b {};
  ASSERT_EQ(::stat((dir.path() / "a").c_str(), &a), 0);
  ASSERT_EQ(::stat((dir.path() / "b").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  // gc removing the live blob leaves the backup's name, and bytes, in place.
  fs::remove(dir.path() / "a");
  EXPECT_EQ(Read(dir.path() / "b"), "blob bytes");
}

TEST(BackupFilesTest, CopiesABlobAcrossFileSystems) {
  testing::TempDir dir;
  struct stat tmp {};
  struct stat shm {};
  if (::stat(dir.path().c_str(), &tmp) != 0 || ::stat("/dev/shm", &shm) != 0 ||
      tmp.st_dev == shm.st_dev) {
    GTEST_SKIP() << "needs /dev/shm on another file system than " << dir.path();
  }
  const fs::path other = fs::path("/dev/shm") / ("pipy-backup-test-" + std::to_string(::getpid()));
  fs::remove(other);
  Write(dir.path() / "a", "blob bytes");
  auto size = LinkOrCopyBlob(dir.path() / "a", other, ShaOf("blob bytes"));
  std::string copied = Read(other);
  struct stat b {};
  bool linked = ::stat(other.c_str(), &b) == 0 && b.st_dev == tmp.st_dev;
  fs::remove(other);
  ASSERT_TRUE(size.has_value()) << size.error().message();
  EXPECT_EQ(copied, "blob bytes");
  EXPECT_FALSE(linked);
}

TEST(BackupFilesTest, RefusesABlobWhoseBytesAreNotItsKey) {
  testing::TempDir dir;
  Write(dir.path() / "a", "rotten bytes");
  auto size = LinkOrCopyBlob(dir.path() / "a", dir.path() / "b", ShaOf("blob bytes"));
  ASSERT_FALSE(size.has_value());
  EXPECT_EQ(size.error().code(), StatusCode::kDataLoss);
  EXPECT_FALSE(fs::exists(dir.path() / "b"));
}

TEST(BackupFilesTest, AMissingBlobIsNotFound) {
  testing::TempDir dir;
  auto size = LinkOrCopyBlob(dir.path() / "a", dir.path() / "b", ShaOf(""));
  ASSERT_FALSE(size.has_value());
  EXPECT_EQ(size.error().code(), StatusCode::kNotFound);
}

TEST(BackupFilesTest, CopiesAndHashes) {
  testing::TempDir dir;
  Write(dir.path() / "a", "catalog");
  auto sha = CopyFileHashed(dir.path() / "a", dir.path() / "b");
  ASSERT_TRUE(sha.has_value()) << sha.error().message();
  EXPECT_EQ(*sha, ShaOf("catalog"));
  EXPECT_EQ(*HashFile(dir.path() / "b"), ShaOf("catalog"));
  EXPECT_EQ(Read(dir.path() / "b"), "catalog");
  // Never over an existing file.
  EXPECT_FALSE(CopyFileHashed(dir.path() / "a", dir.path() / "b").has_value());
}

TEST(BackupFilesTest, WritesAtomically) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.path() / "MANIFEST", "one").ok());
  ASSERT_TRUE(WriteFileAtomically(dir.path() / "MANIFEST", "two").ok());
  EXPECT_EQ(Read(dir.path() / "MANIFEST"), "two");
  EXPECT_FALSE(fs::exists(dir.path() / "MANIFEST.tmp"));
}

}  // namespace
}  // namespace pipy::cli
