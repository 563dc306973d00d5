// MakeBlobStore: the one place a configured backend name becomes a BlobStore.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/status.h"
#include "storage/blob_store.h"

namespace pipy::storage {

struct StorageOptions {
  // "filesystem" (the default). "s3" is added with the S3 implementation.
  std::string backend = "filesystem";
  // filesystem: the folder holding blobs/ and tmp/; created when missing.
  std::filesystem::path root;
  // S3 fields (endpoint, bucket, prefix, region, credentials) come with the S3 backend.
};

// Opens the configured store. kInvalidArgument naming the backend when it is unknown or its
// options are incomplete; kUnavailable when the store cannot be reached or created.
Result<std::unique_ptr<BlobStore>> MakeBlobStore(const StorageOptions& options);

}  // namespace pipy::storage
