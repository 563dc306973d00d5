// Shared by the postgres_catalog*.cc files; not part of the catalog's interface.
#pragma once

#include <cstdint>
#include <string_view>

#include "catalog/postgres_db.h"
#include "core/status.h"

namespace pipy::catalog {

// The id of the project (format, name), or 0 when there is none.
Result<std::int64_t> PostgresProjectId(pg::Connection& conn, std::string_view format,
                                       std::string_view project);

struct PostgresReleaseIds {
  std::int64_t project_id = 0;
  std::int64_t release_id = 0;
};

// The ids of the project and of its release with `version_key`, the release row locked FOR
// UPDATE until the transaction ends; kNotFound (SQLite's words) when either is missing.
Result<PostgresReleaseIds> PostgresLockRelease(pg::Connection& conn, std::string_view format,
                                               std::string_view project,
                                               std::string_view version_key);

}  // namespace pipy::catalog
