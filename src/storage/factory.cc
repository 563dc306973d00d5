#include "storage/factory.h"

#include "storage/caching_blob_store.h"
#include "storage/filesystem_blob_store.h"
#include "storage/filesystem_layout.h"
#include "storage/s3_blob_store.h"

namespace pipy::storage {

Result<std::unique_ptr<BlobStore>> MakeBlobStore(const StorageOptions& options) {
  if (options.backend == "filesystem") {
    PIPY_ASSIGN_OR_RETURN(std::unique_ptr<FilesystemBlobStore> store,
                          FilesystemBlobStore::OpenAt(options.root));
    return std::unique_ptr<BlobStore>(std::move(store));
  }
  if (options.backend == "s3") {
    if (options.root.empty()) {
      return InvalidArgument("s3 blob store: no local data folder for spool files");
    }
    S3StoreOptions s3;
    s3.client.endpoint = options.endpoint;
    s3.client.bucket = options.bucket;
    s3.client.region = options.region;
    s3.client.path_style = options.path_style;
    s3.client.credentials = {options.access_key_id, options.secret_access_key,
                             options.session_token};
    s3.client.timeout = options.timeout;
    s3.client.max_attempts = options.max_attempts;
    s3.prefix = options.prefix;
    s3.spool_dir = TempDir(options.root);
    s3.multipart_threshold = options.multipart_threshold;
    s3.part_size = options.part_size;
    s3.redirect_downloads = options.redirect_downloads;
    PIPY_ASSIGN_OR_RETURN(std::unique_ptr<S3BlobStore> store, S3BlobStore::Create(std::move(s3)));
    PIPY_RETURN_IF_ERROR(store->CheckAccess());
    if (options.cache_bytes == 0) {
      return std::unique_ptr<BlobStore>(std::move(store));
    }
    BlobCacheOptions cache;
    cache.dir = options.root / "cache";
    cache.budget_bytes = options.cache_bytes;
    PIPY_ASSIGN_OR_RETURN(std::unique_ptr<CachingBlobStore> cached,
                          CachingBlobStore::Create(std::move(store), std::move(cache)));
    return std::unique_ptr<BlobStore>(std::move(cached));
  }
  return InvalidArgument("unknown storage backend \"" + options.backend +
                         "\" (known: \"filesystem\", \"s3\")");
}

}  // namespace pipy::storage
