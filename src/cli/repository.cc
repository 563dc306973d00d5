#include <system_error>

#include "catalog/factory.h"
#include "cli/commands.h"
#include "storage/factory.h"

namespace pipy::cli {

Result<Repository> OpenRepository(const config::Config& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return Unavailable("cannot create data folder " + config.data_dir.string() + ": " +
                       ec.message());
  }
  storage::StorageOptions storage_options;
  storage_options.backend = config.storage.backend;
  storage_options.root = config.data_dir;
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
