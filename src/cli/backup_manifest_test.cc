#include "cli/backup_manifest.h"

#include <gtest/gtest.h>

namespace pipy::cli {
namespace {

const std::string kSha(64, 'a');

TEST(BackupManifestTest, RoundTrips) {
  BackupManifest manifest;
  manifest.created_unix = 1764773000;
  manifest.files = 12;
  manifest.blobs = 20;
  manifest.blob_bytes = 123456;
  manifest.catalog_sha256 = kSha;
  auto parsed = ParseManifest(FormatManifest(manifest));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(parsed->format_version, kBackupFormatVersion);
  EXPECT_EQ(parsed->created_unix, 1764773000);
  EXPECT_EQ(parsed->files, 12u);
  EXPECT_EQ(parsed->blobs, 20u);
  EXPECT_EQ(parsed->blob_bytes, 123456u);
  EXPECT_EQ(parsed->catalog_sha256, kSha);
}

TEST(BackupManifestTest, IgnoresUnknownKeys) {
  auto parsed = ParseManifest(
      "pipy-backup 1\ncreated_unix 5\nfiles 1\nblobs 2\nblob_bytes 3\n"
      "future_field yes\ncatalog_sha256 " +
      kSha + "\n");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(parsed->blobs, 2u);
}

TEST(BackupManifestTest, RefusesWhatIsNotAManifest) {
  EXPECT_FALSE(ParseManifest("").has_value());
  EXPECT_FALSE(ParseManifest("SQLite format 3\n").has_value());
  // A truncated manifest: the fields after a crash mid-write would be missing.
  EXPECT_FALSE(ParseManifest("pipy-backup 1\ncreated_unix 5\nfiles 1\n").has_value());
  EXPECT_FALSE(ParseManifest("pipy-backup 1\ncreated_unix 5\nfiles x\nblobs 2\nblob_bytes 3\n"
                             "catalog_sha256 " +
                             kSha + "\n")
                   .has_value());
  EXPECT_FALSE(ParseManifest("pipy-backup 1\ncreated_unix 5\nfiles 1\nblobs 2\nblob_bytes 3\n"
                             "catalog_sha256 ../../etc\n")
                   .has_value());
}

TEST(BackupManifestTest, RefusesANewerFormat) {
  auto parsed = ParseManifest(
      "pipy-backup 2\ncreated_unix 5\nfiles 1\nblobs 2\nblob_bytes 3\n"
      "catalog_sha256 " +
      kSha + "\n");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().message().find("newer"), std::string::npos);
}

}  // namespace
}  // namespace pipy::cli
