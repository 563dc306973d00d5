// A read-through cache of a remote BlobStore (S3) on the node's local disk. Blobs are
// content-addressed and never change, so a cached copy is never stale and nodes need no
// coordination: each keeps what it served recently. Downloads of cached blobs are local
// files (sendfile), not a GET and a copy of every byte.
//
// Open() serves a cached blob from disk; a miss on a blob of at most `max_blob_bytes` is
// fetched whole into the cache first (verified against its key: a corrupt remote blob is
// never cached) and then served from disk; larger blobs stream from the remote store. The
// cache holds at most `budget_bytes`, dropping the least recently opened. Everything else
// (writes, Stat, List, Delete, DirectUrl) goes to the remote store; Delete also drops the
// cached copy. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "storage/blob_store.h"
#include "storage/filesystem_blob_store.h"

namespace pipy::storage {

struct BlobCacheOptions {
  std::filesystem::path dir;                       // a local folder of the node's own
  std::uint64_t budget_bytes = 1ull << 30;         // 1 GiB
  std::uint64_t max_blob_bytes = 64ull << 20;      // larger blobs are streamed
};

class CachingBlobStore final : public BlobStore {
 public:
  // Opens (or creates) the cache folder and indexes what it already holds.
  static Result<std::unique_ptr<CachingBlobStore>> Create(std::unique_ptr<BlobStore> remote,
                                                          BlobCacheOptions options);

  Result<std::unique_ptr<BlobWriter>> NewWriter() override { return remote_->NewWriter(); }
  Result<std::unique_ptr<BlobReader>> Open(std::string_view key) override;
  Result<BlobInfo> Stat(std::string_view key) override { return remote_->Stat(key); }
  Status Delete(std::string_view key) override;
  Status List(const std::function<Status(const BlobInfo&)>& fn) override {
    return remote_->List(fn);
  }
  std::optional<std::string> DirectUrl(std::string_view key) override {
    return remote_->DirectUrl(key);
  }
  Result<BlobInfo> Adopt(const std::filesystem::path& path, std::string_view sha256) override {
    return remote_->Adopt(path, sha256);
  }

  std::uint64_t cached_bytes() const;
  BlobStore& remote() { return *remote_; }

 private:
  CachingBlobStore(std::unique_ptr<BlobStore> remote, std::unique_ptr<FilesystemBlobStore> local,
                   BlobCacheOptions options)
      : remote_(std::move(remote)), local_(std::move(local)), options_(std::move(options)) {}

  // Marks `key` (of `size` bytes) most recently used; drops others over the budget.
  void Touch(const std::string& key, std::uint64_t size);
  Status Fill(std::string_view key, BlobReader& remote_reader);

  std::unique_ptr<BlobStore> remote_;
  std::unique_ptr<FilesystemBlobStore> local_;
  const BlobCacheOptions options_;

  mutable std::mutex mu_;
  std::list<std::string> lru_;  // most recently opened first
  struct Entry {
    std::uint64_t size;
    std::list<std::string>::iterator position;
  };
  std::unordered_map<std::string, Entry> entries_;
  std::uint64_t bytes_ = 0;
};

}  // namespace pipy::storage
