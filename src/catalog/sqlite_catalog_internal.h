// Shared by the sqlite_catalog*.cc files; not part of the catalog's interface.
#pragma once

#include "catalog/sqlite_db.h"
#include "core/status.h"

namespace pipy::catalog {

// Adds one to meta.change_seq. Every write calls it inside its own transaction, so the
// counter moves exactly when committed state does, whichever process wrote.
Status BumpChangeSequence(sqlite::Connection& conn);

}  // namespace pipy::catalog
