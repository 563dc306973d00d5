// BlobStore: where file bytes live. Content-addressed: a blob's key is the lowercase hex
// sha256 of its bytes, so writing is idempotent and a key never changes meaning.
//
// Every implementation passes the one conformance suite in blob_store_conformance.h. All
// methods are thread-safe. Implementations are reached through MakeBlobStore (factory.h).
// Every method taking a key returns kInvalidArgument, touching nothing, when the key is not
// valid (IsValidKey).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pipy::storage {

struct BlobInfo {
  std::string key;          // sha256 hex
  std::uint64_t size = 0;
  std::int64_t modified_unix = 0;  // seconds; used by gc's age threshold
};

// Streams bytes into a new blob. Nothing is visible under any key until Commit returns OK;
// a writer destroyed without Commit leaves nothing behind (best effort for remote stores).
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  // Appends bytes. Not thread-safe: one writer, one thread.
  virtual Status Write(std::string_view data) = 0;
  // Makes the blob durable (fsync or completed upload) and visible under the sha256 of
  // everything written. When `expected_sha256` is non-empty and differs, stores nothing and
  // returns kDataLoss. Committing bytes that already exist under their key is OK.
  virtual Result<BlobInfo> Commit(std::string_view expected_sha256 = {}) = 0;
};

// Reads one blob from the start or from an offset.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual std::uint64_t size() const = 0;
  // Reads up to `n` bytes into `buf`; returns 0 at the end.
  virtual Result<std::size_t> Read(char* buf, std::size_t n) = 0;
  // A file descriptor positioned nowhere in particular that holds exactly the blob's bytes,
  // for sendfile(2); -1 when the store is not local. Owned by the reader.
  virtual int native_fd() const { return -1; }
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Starts a new blob.
  virtual Result<std::unique_ptr<BlobWriter>> NewWriter() = 0;
  // Opens `key` for reading; kNotFound when absent.
  virtual Result<std::unique_ptr<BlobReader>> Open(std::string_view key) = 0;
  // Size and age of `key`; kNotFound when absent.
  virtual Result<BlobInfo> Stat(std::string_view key) = 0;
  // Removes `key`. Removing an absent key is OK.
  virtual Status Delete(std::string_view key) = 0;
  // Calls `fn` for every stored blob, in no particular order. Stops early, returning that
  // status, when `fn` returns non-OK.
  virtual Status List(const std::function<Status(const BlobInfo&)>& fn) = 0;
  // A URL the client may fetch `key` from directly (a presigned S3 URL), or nullopt when
  // the server should stream the bytes itself.
  virtual std::optional<std::string> DirectUrl(std::string_view key) { return std::nullopt; }
  // True when reads are local file reads (cheap, never a network round trip).
  virtual bool is_local() const { return false; }

  // Stores the local file at `path` as the blob `sha256`. Precondition: the caller
  // computed `sha256` from the file, and nothing else writes it. A store on the same file
  // system may take the file itself (a rename instead of a copy): then the file is gone
  // when this returns OK. The default copies it with PutFile, verifying the hash.
  virtual Result<BlobInfo> Adopt(const std::filesystem::path& path, std::string_view sha256);
};

// True when `key` is 64 lowercase hex characters: the only keys a store accepts, so a key
// can never name a path outside the store.
bool IsValidKey(std::string_view key);

// Convenience: streams the local file at `path` into a new blob.
Result<BlobInfo> PutFile(BlobStore& store, const std::filesystem::path& path,
                         std::string_view expected_sha256 = {});
// Convenience: stores `data` as a blob.
Result<BlobInfo> PutBytes(BlobStore& store, std::string_view data);
// Convenience: reads a whole blob into memory, refusing blobs larger than `max_bytes`.
Result<std::string> ReadAll(BlobStore& store, std::string_view key, std::uint64_t max_bytes);

}  // namespace pipy::storage
