#include <system_error>

#include "catalog/factory.h"
#include "cli/commands.h"
#include "storage/factory.h"

namespace pipy::cli {

Result<Repository> OpenRepository(const config::Config& config, bool read_cache) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return Unavailable("cannot create data folder " + config.data_dir.string() + ": " +
                       ec.message());
  }
  storage::StorageOptions storage_options;
  storage_options.backend = config.storage.backend;
  storage_options.root = config.data_dir;  // s3: local spool files only
  storage_options.endpoint = config.storage.endpoint;
  storage_options.bucket = config.storage.bucket;
  storage_options.region = config.storage.region;
  storage_options.prefix = config.storage.prefix;
  storage_options.path_style = config.storage.path_style;
  storage_options.access_key_id = config.storage.access_key_id;
  storage_options.secret_access_key = config.storage.secret_access_key;
  storage_options.redirect_downloads = config.storage.redirect_downloads;
  storage_options.multipart_threshold = config.storage.multipart_threshold;
  storage_options.timeout = config.storage.timeout;
  storage_options.cache_bytes = read_cache ? config.storage.cache_size : 0;
  auto blobs = storage::MakeBlobStore(storage_options);
  if (!blobs) {
    return blobs.error().WithContext("storage (" + config.storage.backend + ")");
  }
  catalog::CatalogOptions catalog_options;
  catalog_options.backend = config.catalog.backend;
  catalog_options.sqlite_path = config.data_dir / "catalog.db";
  catalog_options.url = config.catalog.url;
  catalog_options.pool_size = static_cast<std::size_t>(config.catalog.pool_size);
  auto catalog = catalog::MakeCatalog(catalog_options);
  if (!catalog) {
    return catalog.error().WithContext("catalog (" + config.catalog.backend + ")");
  }
  return Repository{std::move(*blobs), std::move(*catalog)};
}

}  // namespace pipy::cli
