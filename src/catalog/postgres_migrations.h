// The PostgreSQL catalog's schema history: numbered migrations recorded in
// schema_migrations(version, applied_at), applied in order under an advisory lock so that
// several nodes starting at once migrate exactly once. A released migration is never edited;
// a change is a new entry appended to the list.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "catalog/postgres_db.h"
#include "core/status.h"

namespace pipy::catalog {

// PostgreSQL migrations; entry i is version i + 1. Each is a script of one or more statements.
std::span<const std::string_view> PostgresMigrations();

// Brings the schema (in the connection's search_path) up to date in one transaction, holding
// the migration advisory lock meanwhile. kInternal when the database was migrated by a newer
// Pipy. `max_version` stops at that version (tests build an old schema with it).
Status ApplyPostgresMigrations(pg::Connection& conn,
                               std::int64_t max_version = std::numeric_limits<std::int64_t>::max());

}  // namespace pipy::catalog
