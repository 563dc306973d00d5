// S3BlobStore: blobs as objects in an S3-compatible bucket (AWS S3, MinIO, s3rver, ...),
// keyed as s3_layout.h says (<prefix>blobs/<sha256>).
//
// Writing: a writer spools to a local temp file while hashing, because the object key is
// the sha256, known only at Commit. Commit then uploads with one PUT streamed from the
// file (x-amz-content-sha256 = the blob's sha256, so S3 checks the bytes), or with a
// multipart upload above `multipart_threshold` (each part signed with its own hash; the
// upload is aborted on failure). Nothing is visible under the key until the PUT or the
// CompleteMultipartUpload succeeded, so readers never see a partial blob. An object that
// already exists with the same size and was written recently is not uploaded again.
//
// Reading: one streaming GET per reader (bounded memory); a connection that breaks
// mid-blob is resumed with a Range request. native_fd() is -1. DirectUrl returns a
// presigned GET URL (15 minutes) when `redirect_downloads` is set.
//
// Thread-safe, like every BlobStore.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "storage/blob_store.h"
#include "storage/s3_client.h"

namespace pipy::storage {

struct S3StoreOptions {
  S3ClientOptions client;
  std::string prefix;  // every object key starts with it, e.g. "pipy/" or ""
  // Local folder for spool files (created when missing); nothing else is kept locally.
  std::filesystem::path spool_dir;
  // Blobs larger than this go up as multipart uploads of `part_size` pieces.
  std::uint64_t multipart_threshold = 64ull << 20;
  std::uint64_t part_size = 16ull << 20;  // at least 5 MiB (S3's minimum part)
  bool redirect_downloads = false;
  std::chrono::seconds presign_expiry{900};
  int list_page_size = 1000;  // keys per ListObjectsV2 page (S3's maximum)
};

// Counters, for tests and metrics.
struct S3StoreStats {
  std::uint64_t single_puts = 0;
  std::uint64_t multipart_uploads = 0;
  std::uint64_t parts = 0;
  std::uint64_t skipped_uploads = 0;  // Commit found the blob already stored
  std::uint64_t resumed_reads = 0;    // Range requests after a broken download
};

class S3BlobStore final : public BlobStore {
 public:
  // Builds the store without touching the network. kInvalidArgument for unusable options.
  static Result<std::unique_ptr<S3BlobStore>> Create(S3StoreOptions options);

  // Checks that the bucket exists and the credentials work (one ListObjectsV2 of at most
  // one key under the prefix). kNotFound, kPermissionDenied or kUnavailable otherwise,
  // with a message naming the bucket and endpoint.
  Status CheckAccess();

  Result<std::unique_ptr<BlobWriter>> NewWriter() override;
  Result<std::unique_ptr<BlobReader>> Open(std::string_view key) override;
  Result<BlobInfo> Stat(std::string_view key) override;
  Status Delete(std::string_view key) override;
  // ListObjectsV2 under <prefix>blobs/, page by page; objects whose names are not keys
  // are skipped.
  Status List(const std::function<Status(const BlobInfo&)>& fn) override;
  std::optional<std::string> DirectUrl(std::string_view key) override;

  S3StoreStats stats() const;
  S3Client& client() { return *client_; }
  const S3StoreOptions& options() const { return options_; }

  // Internal, used by the writer: uploads `size` bytes of `fd` under `key`.
  // `part_hashes` holds the sha256 of each `part_size` piece (for multipart).
  Status Upload(int fd, std::uint64_t size, const std::string& key,
                const std::vector<std::string>& part_hashes);

 private:
  S3BlobStore(S3StoreOptions options, std::unique_ptr<S3Client> client);

  Status PutSingle(int fd, std::uint64_t size, const std::string& object_key,
                   const std::string& sha256);
  Status PutMultipart(int fd, std::uint64_t size, const std::string& object_key,
                      const std::vector<std::string>& part_hashes);

  S3StoreOptions options_;
  std::unique_ptr<S3Client> client_;
  std::atomic<std::uint64_t> single_puts_{0};
  std::atomic<std::uint64_t> multipart_uploads_{0};
  std::atomic<std::uint64_t> parts_{0};
  std::atomic<std::uint64_t> skipped_uploads_{0};
  std::atomic<std::uint64_t> resumed_reads_{0};
};

// Parses S3's timestamps: ISO 8601 from listings ("2024-05-01T12:00:00.000Z") and the
// HTTP date of Last-Modified ("Wed, 01 May 2024 12:00:00 GMT"). nullopt when neither.
std::optional<std::int64_t> ParseS3Time(std::string_view text);

}  // namespace pipy::storage
