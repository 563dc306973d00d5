// MakeBlobStore: the one place a configured backend name becomes a BlobStore.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/status.h"
#include "storage/blob_store.h"

namespace pipy::storage {

struct StorageOptions {
  // "filesystem" (the default) or "s3".
  std::string backend = "filesystem";
  // filesystem: the folder holding blobs/ and tmp/; created when missing.
  // s3: the local folder for spool files only (its tmp/ is used).
  std::filesystem::path root;

  // S3 (see s3_blob_store.h). The bucket must exist; Pipy never creates buckets.
  std::string endpoint;  // "http(s)://host[:port]"
  std::string bucket;
  std::string region = "us-east-1";
  std::string prefix;     // every object key starts with it
  bool path_style = true; // false: virtual-host URLs (bucket.host)
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional
  bool redirect_downloads = false;  // DirectUrl gives presigned GET URLs
  std::uint64_t multipart_threshold = 64ull << 20;
  std::uint64_t part_size = 16ull << 20;
  std::chrono::milliseconds timeout{30'000};  // per request
  int max_attempts = 4;                       // per request, retries included
  // s3: a read-through cache of blobs on local disk under root/cache (0 = none).
  std::uint64_t cache_bytes = 1ull << 30;
};

// Opens the configured store. kInvalidArgument naming the backend when it is unknown or its
// options are incomplete; kUnavailable when the store cannot be reached or created. An S3
// store is probed (S3BlobStore::CheckAccess): a missing bucket is kNotFound and refused
// credentials kPermissionDenied, each message naming the bucket.
Result<std::unique_ptr<BlobStore>> MakeBlobStore(const StorageOptions& options);

}  // namespace pipy::storage
