// The catalog's schema history: numbered migrations, applied in order and recorded in
// schema_migrations(version, applied_ms). A migration is never edited once released; a change
// is a new entry appended to the list.
#pragma once

#include <span>
#include <string_view>

namespace pipy::catalog {

// SQLite migrations; entry i is version i + 1. Each is a script of one or more statements.
std::span<const std::string_view> SqliteMigrations();

}  // namespace pipy::catalog
