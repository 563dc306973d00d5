// The MANIFEST of a `pipy backup` folder. It is written last (atomically), so a folder
// without one is an interrupted backup, and it pins the catalog copy by its sha256.
//
// The text is one "key value" pair per line, the first line naming the format:
//
//   pipy-backup 1
//   created_unix 1764773000
//   files 12
//   blobs 20
//   blob_bytes 123456
//   catalog_sha256 <64 hex>
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pipy::cli {

// The backup format this Pipy writes and the newest it can restore.
inline constexpr int kBackupFormatVersion = 1;
// The file names inside a backup folder.
inline constexpr std::string_view kManifestName = "MANIFEST";
inline constexpr std::string_view kCatalogName = "catalog.db";

struct BackupManifest {
  int format_version = kBackupFormatVersion;
  std::int64_t created_unix = 0;  // when the catalog snapshot was taken
  std::uint64_t files = 0;        // catalog file rows in the snapshot
  std::uint64_t blobs = 0;        // distinct blobs the snapshot refers to, all in the backup
  std::uint64_t blob_bytes = 0;   // their total size
  std::string catalog_sha256;     // of catalog.db as written
};

std::string FormatManifest(const BackupManifest& manifest);

// Parses FormatManifest's text. kInvalidArgument for text that is not a manifest, a missing
// or malformed field, or a format version newer than kBackupFormatVersion. Unknown keys are
// ignored, so a later version may add fields.
Result<BackupManifest> ParseManifest(std::string_view text);

}  // namespace pipy::cli
