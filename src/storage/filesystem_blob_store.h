// FilesystemBlobStore: blobs as files under a local folder (layout in filesystem_layout.h).
//
// Durability: a writer streams into tmp/ while hashing; Commit fsyncs the file, renames it to
// its content address and fsyncs the folder, so a committed blob survives a power loss and a
// crash at any point leaves at most a stray file in tmp/. Readers expose their file
// descriptor for sendfile(2).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "core/status.h"
#include "storage/blob_store.h"

namespace pipy::storage {

// Counters of the expensive system calls, for metrics and for tests that check the
// durability path really runs.
struct FilesystemSyncStats {
  std::uint64_t file_syncs = 0;  // fsync(2) of a blob's bytes
  std::uint64_t dir_syncs = 0;   // fsync(2) of a folder after a rename or mkdir
};

class FilesystemBlobStore final : public BlobStore {
 public:
  // Opens the store at `root`, creating root, blobs/ and tmp/ when missing.
  static Result<std::unique_ptr<FilesystemBlobStore>> OpenAt(const std::filesystem::path& root);

  Result<std::unique_ptr<BlobWriter>> NewWriter() override;
  Result<std::unique_ptr<BlobReader>> Open(std::string_view key) override;
  Result<BlobInfo> Stat(std::string_view key) override;
  Status Delete(std::string_view key) override;
  // Lists blobs/ only; files in tmp/ and names that are not keys are skipped.
  Status List(const std::function<Status(const BlobInfo&)>& fn) override;
  bool is_local() const override { return true; }
  // Renames `path` into place when it is on this store's file system (after fsync), so an
  // upload is not copied; falls back to copying otherwise.
  Result<BlobInfo> Adopt(const std::filesystem::path& path, std::string_view sha256) override;

  const std::filesystem::path& root() const { return root_; }
  FilesystemSyncStats sync_stats() const;

  // Internal, used by the writer: fsync(2) of `fd` (a file or a folder), counted.
  Status SyncFile(int fd, const std::filesystem::path& path);
  Status SyncDir(const std::filesystem::path& dir);

 private:
  explicit FilesystemBlobStore(std::filesystem::path root) : root_(std::move(root)) {}

  std::filesystem::path root_;
  std::atomic<std::uint64_t> file_syncs_{0};
  std::atomic<std::uint64_t> dir_syncs_{0};
};

}  // namespace pipy::storage
