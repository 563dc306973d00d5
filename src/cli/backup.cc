// `pipy backup` and `pipy restore` for the filesystem + SQLite default. A backup folder:
//
//   DEST/catalog.db              a consistent snapshot of the catalog (online backup API)
//   DEST/blobs/<k[0:2]>/<k>      every blob that snapshot refers to (storage layout)
//   DEST/MANIFEST                written last (backup_manifest.h): no MANIFEST, no backup
//
// The blobs are placed right after the snapshot. gc only removes blobs no file refers to,
// so a blob the snapshot refers to disappears only when its file was taken down since and
// the blob is older than gc's --min-age; then the backup fails naming it (run it again).
// S3 + PostgreSQL repositories are backed up with the databases' and bucket's own tools
// (README.md, "Backups").
#include <chrono>
#include <iostream>
#include <map>
#include <system_error>

#include "catalog/factory.h"
#include "cli/backup_files.h"
#include "cli/backup_manifest.h"
#include "cli/blob_keys.h"
#include "cli/commands.h"
#include "cli/online_backup.h"
#include "storage/factory.h"
#include "storage/filesystem_layout.h"

namespace pipy::cli {

namespace {

constexpr std::string_view kReadme =
    "see README.md, \"Backups\", for the S3 + PostgreSQL procedure (pg_dump and bucket "
    "versioning)";

bool IsDefaultBackends(const config::Config& config, std::string_view command) {
  if (config.storage.backend == "filesystem" && config.catalog.backend == "sqlite") {
    return true;
  }
  std::cerr << "pipy " << command << ": only the filesystem + SQLite repository is supported ("
            << "this one uses " << config.storage.backend << " + " << config.catalog.backend
            << "); " << kReadme << "\n";
  return false;
}

// What the catalog database at `path` refers to: its blob keys and its file count. Opens it
// as a Catalog, so the keys are exactly those check and gc use.
struct Snapshot {
  std::map<std::string, std::string> keys;  // blob key -> what refers to it
  std::uint64_t files = 0;
};

Result<Snapshot> ReadSnapshot(const std::filesystem::path& path) {
  catalog::CatalogOptions options;
  options.backend = "sqlite";
  options.sqlite_path = path;
  PIPY_ASSIGN_OR_RETURN(auto catalog, catalog::MakeCatalog(options));
  Snapshot snapshot;
  PIPY_ASSIGN_OR_RETURN(snapshot.keys, CatalogBlobKeys(*catalog));
  PIPY_RETURN_IF_ERROR(catalog->ForEachFile([&](const catalog::FileRecord&) {
    ++snapshot.files;
    return Status::Ok();
  }));
  catalog.reset();
  // Closing the last connection checkpoints the WAL into the file; a WAL left behind would
  // mean the file alone is not the whole snapshot.
  std::filesystem::path wal = path;
  wal += "-wal";
  std::error_code ec;
  if (std::filesystem::exists(wal, ec)) {
    return Internal(wal.string() + " was left behind; the catalog copy is incomplete");
  }
  return snapshot;
}

std::int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status CreateBuckets(const std::filesystem::path& root) {
  for (const std::string& bucket : storage::BucketNames()) {
    std::error_code ec;
    std::filesystem::create_directories(storage::BlobsDir(root) / bucket, ec);
    if (ec) {
      return Unavailable("cannot create " + (storage::BlobsDir(root) / bucket).string() + ": " +
                         ec.message());
    }
  }
  return Status::Ok();
}

Status FsyncBuckets(const std::filesystem::path& root) {
  for (const std::string& bucket : storage::BucketNames()) {
    PIPY_RETURN_IF_ERROR(FsyncDir(storage::BlobsDir(root) / bucket));
  }
  PIPY_RETURN_IF_ERROR(FsyncDir(storage::BlobsDir(root)));
  return FsyncDir(root);
}

}  // namespace

int Backup(const config::Config& config, const std::filesystem::path& dest) {
  if (!IsDefaultBackends(config, "backup")) {
    return 2;
  }
  auto empty = IsMissingOrEmptyDir(dest);
  if (!empty) {
    std::cerr << "pipy backup: " << empty.error().message() << "\n";
    return 2;
  }
  if (!*empty) {
    std::error_code ec;
    bool complete = std::filesystem::exists(dest / kManifestName, ec);
    std::cerr << "pipy backup: " << dest.string()
              << (complete ? " already holds a backup"
                           : " is not empty and holds no MANIFEST (an interrupted backup?)")
              << "; back up into a new or empty folder\n";
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(dest, ec);
  if (ec) {
    std::cerr << "pipy backup: cannot create " << dest.string() << ": " << ec.message() << "\n";
    return 2;
  }
  const std::filesystem::path catalog_copy = dest / kCatalogName;
  const std::int64_t taken = NowUnix();
  Status copied = OnlineBackup(config.data_dir / kCatalogName, catalog_copy);
  if (!copied.ok()) {
    std::cerr << "pipy backup: " << copied.message() << "\n";
    return 2;
  }
  auto snapshot = ReadSnapshot(catalog_copy);
  if (!snapshot) {
    std::cerr << "pipy backup: " << snapshot.error().message() << "\n";
    return 2;
  }
  Status buckets = CreateBuckets(dest);
  if (!buckets.ok()) {
    std::cerr << "pipy backup: " << buckets.message() << "\n";
    return 2;
  }
  BackupManifest manifest;
  manifest.created_unix = taken;
  manifest.files = snapshot->files;
  std::size_t problems = 0;
  for (const auto& [key, referrer] : snapshot->keys) {
    auto size =
        LinkOrCopyBlob(storage::BlobPath(config.data_dir, key), storage::BlobPath(dest, key), key);
    if (!size) {
      ++problems;
      std::cerr << "pipy backup: blob " << key << " (" << referrer << "): "
                << (size.error().code() == StatusCode::kNotFound ? "missing from the blob store"
                                                                 : size.error().message())
                << "\n";
      continue;
    }
    ++manifest.blobs;
    manifest.blob_bytes += *size;
  }
  if (problems > 0) {
    std::cerr << "pipy backup: " << problems << " blobs the catalog snapshot refers to could "
              << "not be copied; " << dest.string() << " is incomplete (no MANIFEST)\n";
    return 1;
  }
  Status synced = FsyncBuckets(dest);
  auto catalog_sha = HashFile(catalog_copy);
  if (!synced.ok() || !catalog_sha) {
    std::cerr << "pipy backup: " << (synced.ok() ? catalog_sha.error().message() : synced.message())
              << "\n";
    return 2;
  }
  manifest.catalog_sha256 = *catalog_sha;
  Status written = WriteFileAtomically(dest / kManifestName, FormatManifest(manifest));
  if (!written.ok()) {
    std::cerr << "pipy backup: " << written.message() << "\n";
    return 2;
  }
  std::cout << "backed up " << manifest.files << " files (" << manifest.blobs << " blobs, "
            << manifest.blob_bytes << " bytes) to " << dest.string() << "\n";
  return 0;
}

}  // namespace pipy::cli
