#include "catalog/migrations.h"

namespace pipy::catalog {
namespace {

// Reads need: project by (format, name) (UNIQUE), releases of a project (the UNIQUE(project_id,
// version_key) index leads with project_id), files of a project (files_by_project, which also
// covers the MAX(upload_time_ms) behind ProjectRecord::last_upload_ms), file by (project,
// filename) (UNIQUE), token by hash (UNIQUE).
constexpr std::string_view kMigrations[] = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE projects (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE releases (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  version TEXT NOT NULL,
  summary TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  description_content_type TEXT NOT NULL DEFAULT '',
  requires_python TEXT NOT NULL DEFAULT '',
  yanked INTEGER NOT NULL DEFAULT 0,
  yanked_reason TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  UNIQUE (project_id, version)
);
CREATE TABLE files (
  id INTEGER PRIMARY KEY,
  release_id INTEGER NOT NULL REFERENCES releases(id),
  project_id INTEGER NOT NULL REFERENCES projects(id),
  filename TEXT NOT NULL UNIQUE,
  packagetype TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  metadata_sha256 TEXT NOT NULL DEFAULT '',
  requires_python TEXT NOT NULL DEFAULT '',
  upload_time_ms INTEGER NOT NULL,
  uploader TEXT NOT NULL DEFAULT ''
);
CREATE INDEX files_by_project ON files (project_id, upload_time_ms);
CREATE INDEX files_by_release ON files (release_id);
CREATE TABLE tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('change_seq', 0);
)sql",
    // 2: the monorepo builder — provenance of built files, build jobs and their logs, each
    // source's last processed commit, and the watcher leases (catalog/build_queue.h).
    R"sql(
ALTER TABLE files ADD COLUMN prov_source TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN prov_commit TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN prov_module TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN prov_build_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE files ADD COLUMN prov_test_result TEXT NOT NULL DEFAULT '';
CREATE TABLE builds (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  source TEXT NOT NULL,
  module TEXT NOT NULL,
  commit_sha TEXT NOT NULL,
  project TEXT NOT NULL DEFAULT '',
  version TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  runner TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL DEFAULT 0,
  finished_ms INTEGER NOT NULL DEFAULT 0,
  log_bytes INTEGER NOT NULL DEFAULT 0,
  log_truncated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX builds_by_status ON builds (status, id);
CREATE TABLE build_log_chunks (
  build_id INTEGER NOT NULL REFERENCES builds(id),
  start_byte INTEGER NOT NULL,
  size INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (build_id, start_byte)
);
CREATE TABLE source_state (
  source TEXT PRIMARY KEY,
  last_commit TEXT NOT NULL
);
CREATE TABLE watcher_locks (
  source TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_ms INTEGER NOT NULL
);
)sql",
    // 3: one catalog for every package format. Projects are unique by (format, name);
    // files by filename within their project; releases by a version key the format
    // computes (filled from the version here; PEP 440 keys are computed at open, see
    // sqlite_catalog.cc). Python's columns move into JSON attributes. Tags, deprecation,
    // the published manifest and tombstones join the shared schema. SQLite cannot drop a
    // UNIQUE constraint, so the three tables are rebuilt with their ids (the old ones renamed
    // away first, so the new schema reads as written); foreign keys are checked at commit.
    R"sql(
PRAGMA defer_foreign_keys = ON;
ALTER TABLE files RENAME TO files_v2;
ALTER TABLE releases RENAME TO releases_v2;
ALTER TABLE projects RENAME TO projects_v2;
CREATE TABLE projects (
  id INTEGER PRIMARY KEY,
  format TEXT NOT NULL,
  name TEXT NOT NULL,
  display_name TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  UNIQUE (format, name)
);
INSERT INTO projects (id, format, name, display_name, created_ms)
  SELECT id, 'python', name, display_name, created_ms FROM projects_v2;
CREATE TABLE releases (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  version TEXT NOT NULL,
  version_key TEXT NOT NULL,
  summary TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  attributes TEXT NOT NULL DEFAULT '{}',
  manifest_sha256 TEXT NOT NULL DEFAULT '',
  yanked INTEGER NOT NULL DEFAULT 0,
  yanked_reason TEXT NOT NULL DEFAULT '',
  deprecated TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  UNIQUE (project_id, version_key)
);
INSERT INTO releases (id, project_id, version, version_key, summary, description, attributes,
                         yanked, yanked_reason, created_ms)
  SELECT id, project_id, version, version, summary, description,
         json_object('description_content_type', description_content_type,
                     'requires_python', requires_python),
         yanked, yanked_reason, created_ms
  FROM releases_v2;
CREATE TABLE files (
  id INTEGER PRIMARY KEY,
  release_id INTEGER NOT NULL REFERENCES releases(id),
  project_id INTEGER NOT NULL REFERENCES projects(id),
  filename TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  attributes TEXT NOT NULL DEFAULT '{}',
  upload_time_ms INTEGER NOT NULL,
  uploader TEXT NOT NULL DEFAULT '',
  prov_source TEXT NOT NULL DEFAULT '',
  prov_commit TEXT NOT NULL DEFAULT '',
  prov_module TEXT NOT NULL DEFAULT '',
  prov_build_id INTEGER NOT NULL DEFAULT 0,
  prov_test_result TEXT NOT NULL DEFAULT '',
  UNIQUE (project_id, filename)
);
INSERT INTO files (id, release_id, project_id, filename, size, sha256, attributes,
                      upload_time_ms, uploader, prov_source, prov_commit, prov_module,
                      prov_build_id, prov_test_result)
  SELECT id, release_id, project_id, filename, size, sha256,
         json_object('packagetype', packagetype, 'metadata_sha256', metadata_sha256,
                     'requires_python', requires_python),
         upload_time_ms, uploader, prov_source, prov_commit, prov_module, prov_build_id,
         prov_test_result
  FROM files_v2;
DROP TABLE files_v2;
DROP TABLE releases_v2;
DROP TABLE projects_v2;
CREATE INDEX files_by_project ON files (project_id, upload_time_ms);
CREATE INDEX files_by_release ON files (release_id);
CREATE INDEX files_by_sha256 ON files (sha256);
CREATE TABLE tags (
  project_id INTEGER NOT NULL REFERENCES projects(id),
  tag TEXT NOT NULL,
  release_id INTEGER NOT NULL REFERENCES releases(id),
  PRIMARY KEY (project_id, tag)
);
CREATE TABLE tombstones (
  project_id INTEGER NOT NULL REFERENCES projects(id),
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  removed_ms INTEGER NOT NULL,
  removed_by TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (project_id, kind, name)
);
INSERT INTO meta (key, value) VALUES ('python_version_keys_pending', 1);
)sql",
    // 4: the builder builds npm modules too, in dependency order (catalog/build_queue.h).
    // A build has a format (the jobs before this were all Python's), the failed job that
    // made it skip (0: none), and the jobs it waits for. ClaimNext looks the waits up by
    // build_id (the primary key leads with it); nothing reads them the other way round.
    R"sql(
ALTER TABLE builds ADD COLUMN format TEXT NOT NULL DEFAULT 'python';
ALTER TABLE builds ADD COLUMN blocked_by INTEGER NOT NULL DEFAULT 0;
CREATE TABLE build_waits (
  build_id INTEGER NOT NULL REFERENCES builds(id),
  waits_for INTEGER NOT NULL REFERENCES builds(id),
  PRIMARY KEY (build_id, waits_for)
) WITHOUT ROWID;
)sql",
    // 5: token lifecycle. A token may expire (0: never) and records when it was last used
    // (0: never; written at most once a minute per token and node). Old tokens never expire.
    R"sql(
ALTER TABLE tokens ADD COLUMN expires_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN last_used_ms INTEGER NOT NULL DEFAULT 0;
)sql",
    // 6: the audit log (Catalog::AppendAudit). Read newest first, by id, filtered by project,
    // token or action: an index per filter, each ending in id so paging walks it in order.
    // uid is what `pipy migrate` matches records on.
    R"sql(
CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uid TEXT NOT NULL UNIQUE,
  time_ms INTEGER NOT NULL,
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

}  // namespace

std::span<const std::string_view> SqliteMigrations() { return kMigrations; }

}  // namespace pipy::catalog
