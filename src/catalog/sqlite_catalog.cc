#include "catalog/sqlite_catalog.h"

#include <chrono>
#include <map>

#include "catalog/attributes.h"
#include "catalog/migrations.h"
#include "catalog/sqlite_catalog_internal.h"
#include "core/pep440_version.h"

namespace pipy::catalog {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

Status BumpChangeSequence(Connection& conn) {
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn.Prepare("UPDATE meta SET value = value + 1 WHERE key = 'change_seq'"));
  return stmt.Run();
}

namespace {

// Idle connections kept open: the server's worker threads plus background jobs.
constexpr std::size_t kMaxIdleConnections = 8;
// Rows per page in ForEachFile, so no read transaction stays open while `fn` runs.
constexpr std::int64_t kForEachPageSize = 512;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Migration 3 keyed the releases of a repository made before it by their version as
// spelled; Python releases are keyed by PEP 440 (pep440::Version::Key), which needs C++. Runs in
// the migration's transaction while meta says it is pending. Releases that turn out equal
// (a race of an older Pipy could make "1.0" and "1.0.0") are merged into the oldest.
Status FillPythonVersionKeys(Connection& conn) {
  {
    PIPY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("SELECT 1 FROM meta WHERE key = 'python_version_keys_pending'"));
    PIPY_ASSIGN_OR_RETURN(bool pending, stmt.Step());
    if (!pending) {
      return Status::Ok();
    }
  }
  struct Row {
    std::int64_t id;
    std::string key;
  };
  std::map<std::pair<std::int64_t, std::string>, std::int64_t> first;  // (project, key) -> id
  std::vector<Row> keep;
  std::vector<std::pair<std::int64_t, std::int64_t>> merge;  // (duplicate id, kept id)
  {
    PIPY_ASSIGN_OR_RETURN(Statement stmt,
                          conn.Prepare("SELECT r.id, r.project_id, r.version FROM releases r"
                                       " JOIN projects p ON p.id = r.project_id"
                                       " WHERE p.format = 'python' ORDER BY r.id"));
    for (;;) {
      PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) {
        break;
      }
      std::string version = stmt.Text(2);
      Result<pep440::Version> parsed = pep440::Version::Parse(version);
      std::string key = parsed ? parsed->Key() : version;
      auto [it, inserted] = first.emplace(std::make_pair(stmt.Int(1), key), stmt.Int(0));
      if (inserted) {
        keep.push_back(Row{stmt.Int(0), key});
      } else {
        merge.emplace_back(stmt.Int(0), it->second);
      }
    }
  }
  for (const auto& [duplicate, kept] : merge) {
    PIPY_ASSIGN_OR_RETURN(Statement move,
                          conn.Prepare("UPDATE files SET release_id = ?2 WHERE release_id = ?1"));
    PIPY_RETURN_IF_ERROR(move.Bind(1, duplicate).Bind(2, kept).Run());
    PIPY_ASSIGN_OR_RETURN(Statement drop, conn.Prepare("DELETE FROM releases WHERE id = ?1"));
    PIPY_RETURN_IF_ERROR(drop.Bind(1, duplicate).Run());
  }
  // Two passes, so no key is ever held by two rows in between (UNIQUE).
  for (const char* sql : {"UPDATE releases SET version_key = '~' || id WHERE id = ?1",
                          "UPDATE releases SET version_key = ?2 WHERE id = ?1"}) {
    for (const Row& row : keep) {
      PIPY_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(sql));
      stmt.Bind(1, row.id);
      if (std::string_view(sql).find("?2") != std::string_view::npos) {
        stmt.Bind(2, row.key);
      }
      PIPY_RETURN_IF_ERROR(stmt.Run());
    }
  }
  return conn.Exec("DELETE FROM meta WHERE key = 'python_version_keys_pending'");
}

Status ApplyMigrations(Connection& conn) {
  // WAL lets readers run beside the one writer; the mode is stored in the file.
  PIPY_RETURN_IF_ERROR(conn.Exec("PRAGMA journal_mode = WAL"));
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(conn));
  PIPY_RETURN_IF_ERROR(
      conn.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"));
  std::int64_t current = 0;
  {
    PIPY_ASSIGN_OR_RETURN(Statement stmt,
                          conn.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    current = row ? stmt.Int(0) : 0;
  }
  auto migrations = SqliteMigrations();
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
    PIPY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)"));
    PIPY_RETURN_IF_ERROR(stmt.Bind(1, version).Bind(2, NowMs()).Run());
  }
  PIPY_RETURN_IF_ERROR(FillPythonVersionKeys(conn).WithContext("migration 3"));
  return txn.Commit();
}

// Columns read by ReadFileRow, joined so a file carries its release's yank state.
constexpr std::string_view kSelectFile =
    "SELECT p.format, p.name, r.version, r.version_key, f.filename, f.size, f.sha256,"
    " f.attributes, f.upload_time_ms, f.uploader, r.yanked, r.yanked_reason, f.id,"
    " f.prov_source, f.prov_commit, f.prov_module, f.prov_build_id, f.prov_test_result"
    " FROM files f JOIN releases r ON r.id = f.release_id JOIN projects p ON p.id = f.project_id";

FileRecord ReadFileRow(const Statement& stmt) {
  FileRecord f;
  f.format = stmt.Text(0);
  f.project = stmt.Text(1);
  f.version = stmt.Text(2);
  f.version_key = stmt.Text(3);
  f.filename = stmt.Text(4);
  f.size = static_cast<std::uint64_t>(stmt.Int(5));
  f.sha256 = stmt.Text(6);
  f.attributes = DecodeAttributes(stmt.Text(7));
  f.upload_time_ms = stmt.Int(8);
  f.uploader = stmt.Text(9);
  f.yanked = stmt.Int(10) != 0;
  f.yanked_reason = stmt.Text(11);
  if (!stmt.Text(13).empty()) {
    f.provenance = Provenance{stmt.Text(13), stmt.Text(14), stmt.Text(15), stmt.Int(16),
                              stmt.Text(17)};
  }
  return f;
}

const std::string& KeyOf(const FileRecord& file) {
  return file.version_key.empty() ? file.version : file.version_key;
}

Result<std::vector<FileRecord>> QueryFiles(Statement& stmt) {
  std::vector<FileRecord> out;
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return out;
    }
    out.push_back(ReadFileRow(stmt));
  }
}

// Compares `file` with the stored row of the same filename in its project: kIdenticalExists,
// an kAlreadyExists error (other bytes, or a tombstoned name), or nullopt when it is free.
Result<std::optional<AddFileOutcome>> CompareWithStored(Connection& conn, const FileRecord& file) {
  PIPY_ASSIGN_OR_RETURN(std::int64_t project_id, ProjectId(conn, file.format, file.project));
  if (project_id == 0) {
    return std::optional<AddFileOutcome>();
  }
  {
    PIPY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("SELECT kind FROM tombstones WHERE project_id = ?1 AND"
                     " ((kind = 'file' AND name = ?2) OR (kind = 'version' AND name = ?3))"));
    PIPY_ASSIGN_OR_RETURN(bool row,
                          stmt.Bind(1, project_id).Bind(2, file.filename).Bind(3, KeyOf(file)).Step());
    if (row) {
      return AlreadyExists(
          (stmt.Text(0) == "file" ? "file \"" + file.filename + "\""
                                  : "version " + file.version + " of " + file.project) +
          " was removed by an admin and can never be published again; publish a new version");
    }
  }
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn.Prepare("SELECT sha256, size FROM files WHERE project_id = ?1 AND filename = ?2"));
  PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, project_id).Bind(2, file.filename).Step());
  if (!row) {
    return std::optional<AddFileOutcome>();
  }
  if (stmt.Text(0) == file.sha256 && static_cast<std::uint64_t>(stmt.Int(1)) == file.size) {
    return std::optional<AddFileOutcome>(AddFileOutcome::kIdenticalExists);
  }
  return AlreadyExists("file \"" + file.filename +
                       "\" already exists with different contents; a filename can be "
                       "uploaded only once, so publish a new version instead");
}

// The id of `file.project`, inserting the project when missing.
Result<std::int64_t> EnsureProject(Connection& conn, const FileRecord& file,
                                   const ReleaseMetadata& release) {
  PIPY_ASSIGN_OR_RETURN(std::int64_t id, ProjectId(conn, file.format, file.project));
  if (id != 0) {
    return id;
  }
  PIPY_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("INSERT INTO projects (format, name, "
                                                     "display_name, created_ms) "
                                                     "VALUES (?1, ?2, ?3, ?4)"));
  const std::string& display = release.display_name.empty() ? file.project : release.display_name;
  PIPY_RETURN_IF_ERROR(stmt.Bind(1, file.format)
                           .Bind(2, file.project)
                           .Bind(3, display)
                           .Bind(4, file.upload_time_ms)
                           .Run());
  return sqlite3_last_insert_rowid(conn.db());
}

// The id of the release with the file's version key, inserting it when missing and
// otherwise filling its empty fields (attributes key by key).
Result<std::int64_t> EnsureRelease(Connection& conn, std::int64_t project_id,
                                   const FileRecord& file, const ReleaseMetadata& release) {
  const Attributes attributes = release.attributes;
  PIPY_ASSIGN_OR_RETURN(
      Statement find,
      conn.Prepare("SELECT id, summary, description, manifest_sha256, attributes FROM releases"
                   " WHERE project_id = ?1 AND version_key = ?2"));
  PIPY_ASSIGN_OR_RETURN(bool row, find.Bind(1, project_id).Bind(2, KeyOf(file)).Step());
  if (!row) {
    PIPY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("INSERT INTO releases (project_id, version, version_key, summary, "
                     "description, manifest_sha256, attributes, created_ms) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    PIPY_RETURN_IF_ERROR(stmt.Bind(1, project_id)
                             .Bind(2, file.version)
                             .Bind(3, KeyOf(file))
                             .Bind(4, release.summary)
                             .Bind(5, release.description)
                             .Bind(6, release.manifest_sha256)
                             .Bind(7, EncodeAttributes(attributes))
                             .Bind(8, file.upload_time_ms)
                             .Run());
    return sqlite3_last_insert_rowid(conn.db());
  }
  const std::int64_t release_id = find.Int(0);
  std::string summary = find.Text(1);
  std::string description = find.Text(2);
  std::string manifest = find.Text(3);
  Attributes stored = DecodeAttributes(find.Text(4));
  bool changed = false;
  auto fill = [&changed](std::string& field, const std::string& value) {
    if (field.empty() && !value.empty()) {
      field = value;
      changed = true;
    }
  };
  fill(summary, release.summary);
  fill(description, release.description);
  fill(manifest, release.manifest_sha256);
  for (const auto& [key, value] : attributes) {
    fill(stored[key], value);
  }
  if (!changed) {
    return release_id;  // nothing to fill: no write
  }
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn.Prepare("UPDATE releases SET summary = ?2, description = ?3, manifest_sha256 = ?4,"
                   " attributes = ?5 WHERE id = ?1"));
  PIPY_RETURN_IF_ERROR(stmt.Bind(1, release_id)
                           .Bind(2, summary)
                           .Bind(3, description)
                           .Bind(4, manifest)
                           .Bind(5, EncodeAttributes(stored))
                           .Run());
  return release_id;
}

Status InsertFile(Connection& conn, std::int64_t release_id, std::int64_t project_id,
                  const FileRecord& file) {
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn.Prepare("INSERT INTO files (release_id, project_id, filename, size, sha256, "
                   "attributes, upload_time_ms, uploader, prov_source, prov_commit, prov_module, "
                   "prov_build_id, prov_test_result) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
  const Provenance provenance = file.provenance.value_or(Provenance{});
  return stmt.Bind(1, release_id)
      .Bind(2, project_id)
      .Bind(3, file.filename)
      .Bind(4, static_cast<std::int64_t>(file.size))
      .Bind(5, file.sha256)
      .Bind(6, EncodeAttributes(file.attributes))
      .Bind(7, file.upload_time_ms)
      .Bind(8, file.uploader)
      .Bind(9, provenance.source)
      .Bind(10, provenance.commit)
      .Bind(11, provenance.module)
      .Bind(12, provenance.build_id)
      .Bind(13, provenance.test_result)
      .Run();
}

Result<AddFileOutcome> AddFileInTransaction(Connection& conn, const FileRecord& file,
                                            const ReleaseMetadata& release) {
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(conn));
  PIPY_ASSIGN_OR_RETURN(std::optional<AddFileOutcome> existing, CompareWithStored(conn, file));
  if (existing.has_value()) {
    return *existing;  // the destructor rolls back; nothing was written
  }
  PIPY_ASSIGN_OR_RETURN(std::int64_t project_id, EnsureProject(conn, file, release));
  PIPY_ASSIGN_OR_RETURN(std::int64_t release_id, EnsureRelease(conn, project_id, file, release));
  PIPY_RETURN_IF_ERROR(InsertFile(conn, release_id, project_id, file));
  for (const std::string& tag : release.tags) {
    PIPY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("INSERT INTO tags (project_id, tag, release_id) VALUES (?1, ?2, ?3)"
                     " ON CONFLICT (project_id, tag) DO UPDATE SET release_id = excluded.release_id"));
    PIPY_RETURN_IF_ERROR(stmt.Bind(1, project_id).Bind(2, tag).Bind(3, release_id).Run());
  }
  PIPY_RETURN_IF_ERROR(BumpChangeSequence(conn));
  Status committed = txn.CommitUnsynced();
  if (committed.ok()) {
    // Durable before it is acknowledged. A failed flush is an error even though the row
    // is visible: the client retries, and the retry is an identical re-publish.
    PIPY_RETURN_IF_ERROR(conn.SyncLog());
    return AddFileOutcome::kCreated;
  }
  // SQLite can answer a COMMIT with SQLITE_FULL after the commit reached the log (CI saw a
  // 507 for a version that was then served). The row decides, read after the rollback: a
  // publish that landed is reported as landed, one that did not as the error.
  if (conn.InAutocommit()) {
    auto stored = CompareWithStored(conn, file);
    if (stored.has_value() && *stored == AddFileOutcome::kIdenticalExists) {
      return AddFileOutcome::kCreated;
    }
  }
  return committed;
}

}  // namespace

SqliteCatalog::SqliteCatalog(const std::filesystem::path& path)
    : pool_(path, kMaxIdleConnections) {}

Result<std::unique_ptr<SqliteCatalog>> SqliteCatalog::Open(const std::filesystem::path& path) {
  if (path.empty()) {
    return InvalidArgument("sqlite catalog: no database path configured");
  }
  PIPY_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(path));
  PIPY_RETURN_IF_ERROR(ApplyMigrations(*conn));
  std::unique_ptr<SqliteCatalog> catalog(new SqliteCatalog(path));
  catalog->pool_.Seed(std::move(conn));
  return catalog;
}

Result<AddFileOutcome> SqliteCatalog::AddFile(const FileRecord& file,
                                              const ReleaseMetadata& release) {
  if (file.format.empty() || file.project.empty() || file.version.empty() ||
      file.filename.empty() || file.sha256.empty()) {
    return InvalidArgument("a file record needs a format, project, version, filename and sha256");
  }
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  Result<AddFileOutcome> outcome = AddFileInTransaction(*conn, file, release);
  if (!outcome.has_value() && sqlite::IsConstraintViolation(outcome.error())) {
    // Another writer won a race the IMMEDIATE lock should already prevent; the UNIQUE
    // constraint kept one row. Report against what is stored now.
    PIPY_ASSIGN_OR_RETURN(std::optional<AddFileOutcome> existing, CompareWithStored(*conn, file));
    if (existing.has_value()) {
      return *existing;
    }
    return Internal(outcome.error().message());
  }
  return outcome;
}

Result<std::optional<FileRecord>> SqliteCatalog::FindFile(std::string_view format,
                                                         std::string_view project,
                                                         std::string_view filename) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare(std::string(kSelectFile) +
                    " WHERE p.format = ?1 AND p.name = ?2 AND f.filename = ?3"));
  PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, format).Bind(2, project).Bind(3, filename).Step());
  if (!row) {
    return std::optional<FileRecord>();
  }
  return std::optional<FileRecord>(ReadFileRow(stmt));
}

Result<std::vector<FileRecord>> SqliteCatalog::ListFiles(std::string_view format,
                                                        std::string_view project) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare(std::string(kSelectFile) + " WHERE p.format = ?1 AND p.name = ?2"));
  stmt.Bind(1, format).Bind(2, project);
  return QueryFiles(stmt);
}

Status SqliteCatalog::ForEachFile(const std::function<Status(const FileRecord&)>& fn) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  std::int64_t after_id = 0;
  for (;;) {
    std::vector<std::pair<std::int64_t, FileRecord>> page;
    {
      PIPY_ASSIGN_OR_RETURN(
          Statement stmt,
          conn->Prepare(std::string(kSelectFile) + " WHERE f.id > ?1 ORDER BY f.id LIMIT ?2"));
      stmt.Bind(1, after_id).Bind(2, kForEachPageSize);
      for (;;) {
        PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
          break;
        }
        page.emplace_back(stmt.Int(12), ReadFileRow(stmt));
      }
    }
    for (const auto& [id, file] : page) {
      PIPY_RETURN_IF_ERROR(fn(file));
      after_id = id;
    }
    if (static_cast<std::int64_t>(page.size()) < kForEachPageSize) {
      return Status::Ok();
    }
  }
}

}  // namespace pipy::catalog
