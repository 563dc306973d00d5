// MakeCatalog: the one place a configured backend name becomes a Catalog.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "core/status.h"

namespace pipy::catalog {

struct CatalogOptions {
  // "sqlite" (the default) or "postgres".
  std::string backend = "sqlite";
  // sqlite: the database file, created when missing (its folder is created too).
  std::filesystem::path sqlite_path;
  // postgres: the connection URL, e.g. "postgresql://user@127.0.0.1:5432/pipy".
  std::string url;
  // postgres: connections per process at most.
  std::size_t pool_size = 8;
};

// Opens the configured catalog and brings its schema up to date. kInvalidArgument naming the
// backend when it is unknown or its options are incomplete; kUnavailable when the database
// cannot be reached.
Result<std::unique_ptr<Catalog>> MakeCatalog(const CatalogOptions& options);

}  // namespace pipy::catalog
