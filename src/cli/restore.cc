// `pipy restore`: brings a `pipy backup` folder (backup.cc) back into an empty data folder.
// Everything is verified on the way: the MANIFEST, the catalog copy against the manifest's
// sha256, and every blob against its key as it is written into the blob store. The catalog
// is renamed into place last, so a failed restore never leaves a catalog pointing at blobs
// that are not there.
#include <iostream>
#include <system_error>

#include "catalog/factory.h"
#include "cli/backup_files.h"
#include "cli/backup_manifest.h"
#include "cli/blob_keys.h"
#include "cli/commands.h"
#include "storage/factory.h"
#include "storage/filesystem_layout.h"

namespace pipy::cli {

namespace {

Result<BackupManifest> ReadManifest(const std::filesystem::path& from) {
  const std::filesystem::path path = from / kManifestName;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFound(from.string() + " has no MANIFEST: not a complete pipy backup");
  }
  auto size = std::filesystem::file_size(path, ec);
  if (ec || size > 64 * 1024) {
    return InvalidArgument("cannot read " + path.string());
  }
  std::string text(size, '\0');
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return Unavailable("cannot open " + path.string());
  }
  std::size_t got = std::fread(text.data(), 1, text.size(), file);
  std::fclose(file);
  text.resize(got);
  auto manifest = ParseManifest(text);
  if (!manifest) {
    return manifest.error().WithContext(path.string());
  }
  return manifest;
}

// The blob keys of the catalog copy at `path`, with what refers to each.
Result<std::map<std::string, std::string>> KeysOf(const std::filesystem::path& path) {
  catalog::CatalogOptions options;
  options.backend = "sqlite";
  options.sqlite_path = path;
  PIPY_ASSIGN_OR_RETURN(auto catalog, catalog::MakeCatalog(options));
  return CatalogBlobKeys(*catalog);
}

}  // namespace

int Restore(const config::Config& config, const std::filesystem::path& from) {
  if (config.storage.backend != "filesystem" || config.catalog.backend != "sqlite") {
    std::cerr << "pipy restore: only the filesystem + SQLite repository is supported; see "
              << "README.md, \"Backups\", for the S3 + PostgreSQL procedure\n";
    return 2;
  }
  auto empty = IsMissingOrEmptyDir(config.data_dir);
  if (!empty) {
    std::cerr << "pipy restore: " << empty.error().message() << "\n";
    return 2;
  }
  if (!*empty) {
    std::cerr << "pipy restore: " << config.data_dir.string()
              << " is not empty; restore into a new or empty data folder\n";
    return 2;
  }
  auto manifest = ReadManifest(from);
  if (!manifest) {
    std::cerr << "pipy restore: " << manifest.error().message() << "\n";
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    std::cerr << "pipy restore: cannot create " << config.data_dir.string() << ": " << ec.message()
              << "\n";
    return 2;
  }
  const std::filesystem::path staged = config.data_dir / "catalog.db.restoring";
  auto catalog_sha = CopyFileHashed(from / kCatalogName, staged);
  if (!catalog_sha) {
    std::cerr << "pipy restore: " << catalog_sha.error().message() << "\n";
    return 2;
  }
  if (*catalog_sha != manifest->catalog_sha256) {
    std::filesystem::remove(staged, ec);
    std::cerr << "pipy restore: " << (from / kCatalogName).string() << " has sha256 "
              << *catalog_sha << ", the MANIFEST records " << manifest->catalog_sha256
              << "; the backup is damaged\n";
    return 1;
  }
  auto keys = KeysOf(staged);
  if (!keys) {
    std::filesystem::remove(staged, ec);
    std::cerr << "pipy restore: " << keys.error().message() << "\n";
    return 2;
  }
  storage::StorageOptions storage_options;
  storage_options.backend = "filesystem";
  storage_options.root = config.data_dir;
  auto blobs = storage::MakeBlobStore(storage_options);
  if (!blobs) {
    std::filesystem::remove(staged, ec);
    std::cerr << "pipy restore: " << blobs.error().message() << "\n";
    return 2;
  }
  std::size_t problems = 0;
  for (const auto& [key, referrer] : *keys) {
    // PutFile hashes while it writes and stores nothing when the bytes are not `key`'s.
    auto put = storage::PutFile(**blobs, storage::BlobPath(from, key), key);
    if (!put) {
      ++problems;
      std::cerr << "pipy restore: blob " << key << " (" << referrer
                << "): " << put.error().message() << "\n";
    }
  }
  if (problems == 0 && keys->size() != manifest->blobs) {
    ++problems;
    std::cerr << "pipy restore: the catalog refers to " << keys->size()
              << " blobs, the MANIFEST records " << manifest->blobs << "\n";
  }
  if (problems > 0) {
    std::filesystem::remove(staged, ec);
    std::cerr << "pipy restore: " << problems << " problems; nothing was restored into "
              << config.data_dir.string() << " but blobs (empty it before retrying)\n";
    return 1;
  }
  const std::filesystem::path catalog_path = config.data_dir / kCatalogName;
  std::filesystem::rename(staged, catalog_path, ec);
  Status synced = ec ? Unavailable("cannot rename " + staged.string() + ": " + ec.message())
                     : FsyncDir(config.data_dir);
  if (!synced.ok()) {
    std::cerr << "pipy restore: " << synced.message() << "\n";
    return 2;
  }
  std::cout << "restored " << manifest->files << " files (" << manifest->blobs << " blobs, "
            << manifest->blob_bytes << " bytes) into " << config.data_dir.string() << "\n";
  return 0;
}

}  // namespace pipy::cli
