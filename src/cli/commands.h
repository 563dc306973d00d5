// The pipy subcommands. Each returns the process exit code; errors go to stderr.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "config/config.h"
#include "core/status.h"
#include "storage/blob_store.h"

namespace pipy::cli {

// The backends a command works on, opened from the configuration.
struct Repository {
  std::unique_ptr<storage::BlobStore> blobs;
  std::unique_ptr<catalog::Catalog> catalog;
};

// Creates the data folder and opens the configured blob store and catalog; errors name the
// backend that failed.
// `read_cache`: put the node's local read-through cache in front of a remote blob store
// (serving only; check, gc, import and migrate must see the store itself).
Result<Repository> OpenRepository(const config::Config& config, bool read_cache = false);

int Serve(const config::Config& config);
// `expires`: a lifetime such as "90d"; "" = never.
int TokenCreate(const config::Config& config, const std::string& name,
                const std::vector<std::string>& scopes, const std::string& expires);
int TokenList(const config::Config& config);
int TokenRevoke(const config::Config& config, const std::string& name);
int Check(const config::Config& config);
// Prints the audit log's records matching `query` (up to query.limit; 0 = all of them),
// newest first, one JSON object per line as GET /api/audit shows them. 0 on success, 1 when
// the repository cannot be read. audit.cc.
int Audit(const config::Config& config, catalog::AuditQuery query);
int Gc(const config::Config& config, std::chrono::seconds min_age);
// Copies every file (blob, metadata blob, catalog row), release yank state and token of
// `from` into `to`, skipping what `to` already has with the same hash, then verifies every
// file of `to` against its recorded sha256 and size. 0 when all went well, 1 naming each
// problem (a corrupt source blob, a filename taken in `to` by other bytes), 2 when a
// repository cannot be opened. migrate.cc.
int Migrate(const config::Config& from, const config::Config& to);
// Publishes every wheel and sdist under `dir` (recursively) through python::PublishDistribution as
// an admin named `as_name`; other files are skipped. 0 when nothing was refused, else 1;
// 2 when `dir` or the repository cannot be opened. import.cc.
int Import(const config::Config& config, const std::filesystem::path& dir,
           const std::string& as_name);

// Backs the filesystem + SQLite repository up into the new or empty folder `dest` while
// servers keep running: an online-backup snapshot of the catalog, every blob it refers to
// (hard links when on one file system, sha256-verified), then a MANIFEST written last. 0 on
// success; 1 naming each blob that is missing or corrupt (no MANIFEST is written); 2 for
// other backends (pointing at README.md) or when `dest` is not empty. backup.cc.
int Backup(const config::Config& config, const std::filesystem::path& dest);
// Restores a `pipy backup` folder into the new or empty data folder of `config`, verifying
// the MANIFEST, the catalog copy's sha256 and every blob. 0 on success, 1 when the backup is
// damaged, 2 when it is incomplete, `config`'s data folder is not empty, or the backends are
// not filesystem + SQLite. restore.cc.
int Restore(const config::Config& config, const std::filesystem::path& from);

}  // namespace pipy::cli
