-- The SQLite catalog schema as Pipy released it before formats (migrations 1 and 2 of
-- src/catalog/migrations.cc, copied verbatim): tests/e2e/test_upgrade.py writes a repository
-- with it and checks that today's Pipy upgrades it in place.
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);

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
INSERT INTO schema_migrations (version, applied_at) VALUES (1, 1700000000000), (2, 1700000000000);
