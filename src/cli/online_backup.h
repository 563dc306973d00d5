// A consistent copy of a live SQLite database, taken with SQLite's online backup API
// (https://www.sqlite.org/backup.html).
#pragma once

#include <filesystem>
#include <functional>

#include "core/status.h"

namespace pipy::cli {

// Copies the database at `source` (which must exist; it is never created) into the new file
// `dest` (which must not exist), `pages_per_step` pages per sqlite3_backup_step.
//
// The copy is one read snapshot: a read transaction is held on `source` for the whole copy,
// so writes committed meanwhile by other connections neither appear in the copy nor restart
// it. In WAL mode (the catalog's) readers never block the writer, and between steps the
// source is not locked beyond that snapshot, so a server keeps committing uploads
// throughout; small steps keep each step's I/O burst short. BUSY/LOCKED steps are retried.
// `dest` is fsynced before this returns. kNotFound when `source` is absent.
// `between_steps`, when set, runs after every step that left pages to copy (for tests).
Status OnlineBackup(const std::filesystem::path& source, const std::filesystem::path& dest,
                    int pages_per_step = 64, const std::function<void()>& between_steps = {});

}  // namespace pipy::cli
