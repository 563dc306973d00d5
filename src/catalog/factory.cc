#include "catalog/factory.h"

#include <system_error>

#include "catalog/postgres_catalog.h"
#include "catalog/sqlite_catalog.h"

namespace pipy::catalog {

Result<std::unique_ptr<Catalog>> MakeCatalog(const CatalogOptions& options) {
  if (options.backend == "sqlite") {
    if (options.sqlite_path.empty()) {
      return InvalidArgument("catalog backend \"sqlite\" needs a database path");
    }
    std::filesystem::path folder = options.sqlite_path.parent_path();
    if (!folder.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(folder, ec);
      if (ec) {
        return Unavailable("cannot create catalog folder " + folder.string() + ": " + ec.message());
      }
    }
    PIPY_ASSIGN_OR_RETURN(std::unique_ptr<SqliteCatalog> catalog,
                          SqliteCatalog::Open(options.sqlite_path));
    return std::unique_ptr<Catalog>(std::move(catalog));
  }
  if (options.backend == "postgres") {
    if (options.url.empty()) {
      return InvalidArgument("catalog backend \"postgres\" needs a url");
    }
    PIPY_ASSIGN_OR_RETURN(std::unique_ptr<PostgresCatalog> catalog,
                          PostgresCatalog::Open(PostgresOptions{options.url, options.pool_size}));
    return std::unique_ptr<Catalog>(std::move(catalog));
  }
  return InvalidArgument("unknown catalog backend \"" + options.backend +
                         "\" (known: \"sqlite\", \"postgres\")");
}

}  // namespace pipy::catalog
