#include "catalog/postgres_migrations.h"

#include <chrono>
#include <string>

namespace pipy::catalog {
namespace {

// The same schema as SQLite's (migrations.cc), in PostgreSQL's types. Reads need: project by
// name (UNIQUE), releases of a project (UNIQUE(project_id, version) leads with project_id),
// files of a project (files_by_project, which also answers MAX(upload_time_ms)), file by
// filename (UNIQUE: the arbiter of concurrent uploads), token by hash (UNIQUE).
constexpr std::string_view kMigrations[] = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE projects (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE TABLE releases (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id BIGINT NOT NULL REFERENCES projects(id),
  version TEXT NOT NULL,
  summary TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  description_content_type TEXT NOT NULL DEFAULT '',
  requires_python TEXT NOT NULL DEFAULT '',
  yanked BOOLEAN NOT NULL DEFAULT FALSE,
  yanked_reason TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL,
  UNIQUE (project_id, version)
);
CREATE TABLE files (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  release_id BIGINT NOT NULL REFERENCES releases(id),
  project_id BIGINT NOT NULL REFERENCES projects(id),
  filename TEXT NOT NULL UNIQUE,
  packagetype TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  metadata_sha256 TEXT NOT NULL DEFAULT '',
  requires_python TEXT NOT NULL DEFAULT '',
  upload_time_ms BIGINT NOT NULL,
  uploader TEXT NOT NULL DEFAULT ''
);
CREATE INDEX files_by_project ON files (project_id, upload_time_ms);
CREATE INDEX files_by_release ON files (release_id);
CREATE TABLE tokens (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('change_seq', 0);
)sql",
    // 2: the monorepo builder — provenance of built files, build jobs and their logs, each
    // source's last processed commit (catalog/build_queue.h). Watcher locks are advisory
    // locks (session-scoped), so they need no table.
    R"sql(
ALTER TABLE files ADD COLUMN prov_source TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN prov_commit TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN prov_module TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN prov_build_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN prov_test_result TEXT NOT NULL DEFAULT '';
CREATE TABLE builds (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source TEXT NOT NULL,
  module TEXT NOT NULL,
  commit_sha TEXT NOT NULL,
  project TEXT NOT NULL DEFAULT '',
  version TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  runner TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL,
  started_ms BIGINT NOT NULL DEFAULT 0,
  finished_ms BIGINT NOT NULL DEFAULT 0,
  log_bytes BIGINT NOT NULL DEFAULT 0,
  log_truncated BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX builds_by_status ON builds (status, id);
CREATE TABLE build_log_chunks (
  build_id BIGINT NOT NULL REFERENCES builds(id),
  start_byte BIGINT NOT NULL,
  size BIGINT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (build_id, start_byte)
);
CREATE TABLE source_state (
  source TEXT PRIMARY KEY,
  last_commit TEXT NOT NULL
);
)sql",
};

// The migration lock: key (1885958521 = 'pipy' in ASCII, 1 = migrations).
constexpr std::string_view kLockMigrations = "SELECT pg_advisory_xact_lock(1885958521, 1)";

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status MigrateLocked(pg::Connection& conn) {
  PIPY_RETURN_IF_ERROR(conn.Exec(kLockMigrations));
  PIPY_RETURN_IF_ERROR(
      conn.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)"));
  PIPY_ASSIGN_OR_RETURN(pg::Rows rows,
                        conn.Execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  const std::int64_t current = rows.Int(0, 0);
  auto migrations = PostgresMigrations();
  const auto known = static_cast<std::int64_t>(migrations.size());
  if (current > known) {
    return Internal("catalog schema version " + std::to_string(current) +
                    " is newer than this Pipy understands (" + std::to_string(known) +
                    "); run a newer Pipy");
  }
  for (std::int64_t version = current + 1; version <= known; ++version) {
    Status s = conn.Exec(migrations[static_cast<std::size_t>(version - 1)]);
    if (!s.ok()) {
      return s.WithContext("migration " + std::to_string(version));
    }
    PIPY_RETURN_IF_ERROR(
        conn.Execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                     {version, NowMs()})
            .status());
  }
  return Status::Ok();
}

}  // namespace

std::span<const std::string_view> PostgresMigrations() { return kMigrations; }

Status ApplyPostgresMigrations(pg::Connection& conn) {
  PIPY_RETURN_IF_ERROR(conn.Exec("BEGIN"));
  Status s = MigrateLocked(conn);
  if (!s.ok()) {
    (void)conn.Exec("ROLLBACK");
    return s;
  }
  return conn.Exec("COMMIT");
}

}  // namespace pipy::catalog
