// Shared by the sqlite_catalog*.cc files; not part of the catalog's interface.
#pragma once

#include <cstdint>
#include <string_view>

#include "catalog/sqlite_db.h"
#include "core/status.h"

namespace pipy::catalog {

// Adds one to meta.change_seq. Every write calls it inside its own transaction, so the
// counter moves exactly when committed state does, whichever process wrote.
Status BumpChangeSequence(sqlite::Connection& conn);

// The id of the project (format, name), or 0 when there is none.
Result<std::int64_t> ProjectId(sqlite::Connection& conn, std::string_view format,
                               std::string_view project);

}  // namespace pipy::catalog
