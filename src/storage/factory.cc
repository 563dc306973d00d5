#include "storage/factory.h"

#include "storage/filesystem_blob_store.h"

namespace pipy::storage {

Result<std::unique_ptr<BlobStore>> MakeBlobStore(const StorageOptions& options) {
  if (options.backend == "filesystem") {
    PIPY_ASSIGN_OR_RETURN(std::unique_ptr<FilesystemBlobStore> store,
                          FilesystemBlobStore::OpenAt(options.root));
    return std::unique_ptr<BlobStore>(std::move(store));
  }
  return InvalidArgument("unknown storage backend \"" + options.backend +
                         "\" (known: \"filesystem\")");
}

}  // namespace pipy::storage
