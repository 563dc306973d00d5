#include "catalog/postgres_migrations.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <string>

#include <boost/json.hpp>

#include "core/pep440_version.h"

namespace pipy::catalog {
namespace {

// The same schema as SQLite's (migrations.cc), in PostgreSQL's types. Reads need: project by
// (format, name) (UNIQUE), releases of a project (UNIQUE(project_id, version_key) leads with
// project_id), files of a project (files_by_project, which also answers MAX(upload_time_ms)),
// file by (project, filename) (UNIQUE: the arbiter of concurrent uploads), token by hash
// (UNIQUE).
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
    // 3: one catalog for every package format, as SQLite's migration 3. Projects are unique by
    // (format, name); files by filename within their project; releases by a version key the
    // format computes (the version here; PEP 440 keys are computed after the scripts, see
    // FillPythonVersionKeys). Python's columns move into JSON attributes (empty values left
    // out, as EncodeAttributes does). PostgreSQL alters in place; the constraints dropped are
    // the ones migration 1 created under PostgreSQL's default names.
    R"sql(
ALTER TABLE projects ADD COLUMN format TEXT NOT NULL DEFAULT 'python';
ALTER TABLE projects ALTER COLUMN format DROP DEFAULT;
ALTER TABLE projects DROP CONSTRAINT projects_name_key;
ALTER TABLE projects ADD CONSTRAINT projects_format_name_key UNIQUE (format, name);

ALTER TABLE releases ADD COLUMN version_key TEXT;
ALTER TABLE releases ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
ALTER TABLE releases ADD COLUMN manifest_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE releases ADD COLUMN deprecated TEXT NOT NULL DEFAULT '';
UPDATE releases SET version_key = version,
  attributes = json_strip_nulls(json_build_object(
    'description_content_type', NULLIF(description_content_type, ''),
    'requires_python', NULLIF(requires_python, '')))::text;
ALTER TABLE releases ALTER COLUMN version_key SET NOT NULL;
ALTER TABLE releases DROP COLUMN description_content_type;
ALTER TABLE releases DROP COLUMN requires_python;
ALTER TABLE releases DROP CONSTRAINT releases_project_id_version_key;
ALTER TABLE releases ADD CONSTRAINT releases_project_id_version_key_key
  UNIQUE (project_id, version_key);

ALTER TABLE files ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
UPDATE files SET attributes = json_strip_nulls(json_build_object(
    'packagetype', NULLIF(packagetype, ''),
    'metadata_sha256', NULLIF(metadata_sha256, ''),
    'requires_python', NULLIF(requires_python, '')))::text;
ALTER TABLE files DROP COLUMN packagetype;
ALTER TABLE files DROP COLUMN metadata_sha256;
ALTER TABLE files DROP COLUMN requires_python;
ALTER TABLE files DROP CONSTRAINT files_filename_key;
ALTER TABLE files ADD CONSTRAINT files_project_id_filename_key UNIQUE (project_id, filename);
CREATE INDEX files_by_sha256 ON files (sha256);

CREATE TABLE tags (
  project_id BIGINT NOT NULL REFERENCES projects(id),
  tag TEXT NOT NULL,
  release_id BIGINT NOT NULL REFERENCES releases(id),
  PRIMARY KEY (project_id, tag)
);
-- Deleting a release checks (and deletes) the tags naming it.
CREATE INDEX tags_by_release ON tags (release_id);
CREATE TABLE tombstones (
  project_id BIGINT NOT NULL REFERENCES projects(id),
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  removed_ms BIGINT NOT NULL,
  removed_by TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (project_id, kind, name)
);
INSERT INTO meta (key, value) VALUES ('python_version_keys_pending', 1);
)sql",
    // 4: the builder builds npm modules too, in dependency order, as SQLite's migration 4: a
    // build's format (the jobs before this were all Python's), the failed job that made it
    // skip (0: none), and the jobs it waits for. ClaimNext looks the waits up by build_id
    // (the primary key leads with it); nothing reads them the other way round, and builds
    // are never deleted, so the foreign key on waits_for needs no index of its own.
    R"sql(
ALTER TABLE builds ADD COLUMN format TEXT NOT NULL DEFAULT 'python';
ALTER TABLE builds ADD COLUMN blocked_by BIGINT NOT NULL DEFAULT 0;
CREATE TABLE build_waits (
  build_id BIGINT NOT NULL REFERENCES builds(id),
  waits_for BIGINT NOT NULL REFERENCES builds(id),
  PRIMARY KEY (build_id, waits_for)
);
)sql",
    // 5: token lifecycle, as SQLite's migration 5: a token may expire (0: never) and records
    // when it was last used (0: never; written at most once a minute per token and node).
    // Tokens made before this never expire.
    R"sql(
ALTER TABLE tokens ADD COLUMN expires_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN last_used_ms BIGINT NOT NULL DEFAULT 0;
)sql",
    // 6: the audit log, as SQLite's migration 6.
    R"sql(
CREATE TABLE audit (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uid TEXT NOT NULL UNIQUE,
  time_ms BIGINT NOT NULL,
  token TEXT NOT NULL DEFAULT '',
  address TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL,
  format TEXT NOT NULL DEFAULT '',
  project TEXT NOT NULL DEFAULT '',
  target TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL
);
CREATE INDEX audit_by_project ON audit (project, id);
CREATE INDEX audit_by_token ON audit (token, id);
CREATE INDEX audit_by_action ON audit (action, id);
)sql",
};

// The migration lock: key (1885958521 = 'pipy' in ASCII, 1 = migrations).
constexpr std::string_view kLockMigrations = "SELECT pg_advisory_xact_lock(1885958521, 1)";

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Migration 3 keyed the releases of a repository made before it by their version as spelled;
// Python releases are keyed by PEP 440 (pep440::Version::Key), which needs C++. Runs in the
// migration's transaction while meta says it is pending, like SqliteCatalog's step of the
// same name. Releases that turn out equal (a race of an older Pipy could make "1.0" and
// "1.0.0") are merged into the oldest: its files move over, the others are deleted.
Status FillPythonVersionKeys(pg::Connection& conn) {
  {
    PIPY_ASSIGN_OR_RETURN(
        pg::Rows rows,
        conn.Execute("SELECT 1 FROM meta WHERE key = 'python_version_keys_pending'"));
    if (rows.empty()) {
      return Status::Ok();
    }
  }
  PIPY_ASSIGN_OR_RETURN(pg::Rows rows,
                        conn.Execute("SELECT r.id, r.project_id, r.version, r.version_key"
                                     " FROM releases r JOIN projects p ON p.id = r.project_id"
                                     " WHERE p.format = 'python' ORDER BY r.id"));
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> first;  // (project, key) -> id
  boost::json::array rekey;  // [id, key] of kept releases whose key changes
  boost::json::array merge;  // [duplicate id, kept id]
  for (int i = 0; i < rows.size(); ++i) {
    const std::int64_t id = rows.Int(i, 0);
    const std::string version = rows.Text(i, 2);
    Result<pep440::Version> parsed = pep440::Version::Parse(version);
    const std::string key = parsed ? parsed->Key() : version;
    auto [it, inserted] = first.emplace(std::make_pair(rows.Int(i, 1), key), id);
    if (!inserted) {
      merge.push_back(boost::json::array{id, it->second});
    } else if (key != rows.Text(i, 3)) {
      rekey.push_back(boost::json::array{id, boost::json::string(key)});
    }
  }
  // One statement per step whatever the number of releases: the pairs travel as JSON.
  constexpr std::string_view kPairs =
      " (SELECT (e->>0)::bigint AS a, e->>1 AS b FROM json_array_elements($1::json) e) m";
  const std::string merged = boost::json::serialize(merge);
  const std::string rekeyed = boost::json::serialize(rekey);
  PIPY_RETURN_IF_ERROR(conn.Execute("UPDATE files f SET release_id = m.b::bigint FROM" +
                                        std::string(kPairs) + " WHERE f.release_id = m.a",
                                    {merged})
                           .status());
  PIPY_RETURN_IF_ERROR(
      conn.Execute("DELETE FROM releases r USING" + std::string(kPairs) + " WHERE r.id = m.a",
                   {merged})
          .status());
  // Two passes, so no key is ever held by two rows in between (UNIQUE is checked per row).
  // A key that changes cannot collide with one that stays: equal keys were merged above.
  PIPY_RETURN_IF_ERROR(conn.Execute("UPDATE releases r SET version_key = '~' || r.id FROM" +
                                        std::string(kPairs) + " WHERE r.id = m.a",
                                    {rekeyed})
                           .status());
  PIPY_RETURN_IF_ERROR(conn.Execute("UPDATE releases r SET version_key = m.b FROM" +
                                        std::string(kPairs) + " WHERE r.id = m.a",
                                    {rekeyed})
                           .status());
  return conn.Exec("DELETE FROM meta WHERE key = 'python_version_keys_pending'");
}

Status MigrateLocked(pg::Connection& conn, std::int64_t max_version) {
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
  for (std::int64_t version = current + 1; version <= std::min(known, max_version); ++version) {
    Status s = conn.Exec(migrations[static_cast<std::size_t>(version - 1)]);
    if (!s.ok()) {
      return s.WithContext("migration " + std::to_string(version));
    }
    PIPY_RETURN_IF_ERROR(
        conn.Execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                     {version, NowMs()})
            .status());
  }
  return FillPythonVersionKeys(conn).WithContext("migration 3");
}

}  // namespace

std::span<const std::string_view> PostgresMigrations() { return kMigrations; }

Status ApplyPostgresMigrations(pg::Connection& conn, std::int64_t max_version) {
  PIPY_RETURN_IF_ERROR(conn.Exec("BEGIN"));
  Status s = MigrateLocked(conn, max_version);
  if (!s.ok()) {
    (void)conn.Exec("ROLLBACK");
    return s;
  }
  return conn.Exec("COMMIT");
}

}  // namespace pipy::catalog
