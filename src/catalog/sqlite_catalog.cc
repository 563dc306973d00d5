#include "catalog/sqlite_catalog.h"

#include <chrono>

#include "catalog/migrations.h"
#include "catalog/sqlite_catalog_internal.h"

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
  return txn.Commit();
}

// Columns read by ReadFileRow, joined so a file carries its release's yank state.
constexpr std::string_view kSelectFile =
    "SELECT p.name, r.version, f.filename, f.packagetype, f.size, f.sha256, f.metadata_sha256,"
    " f.requires_python, f.upload_time_ms, f.uploader, r.yanked, r.yanked_reason, f.id,"
    " f.prov_source, f.prov_commit, f.prov_module, f.prov_build_id, f.prov_test_result"
    " FROM files f JOIN releases r ON r.id = f.release_id JOIN projects p ON p.id = f.project_id";

FileRecord ReadFileRow(const Statement& stmt) {
  FileRecord f;
  f.project = stmt.Text(0);
  f.version = stmt.Text(1);
  f.filename = stmt.Text(2);
  f.packagetype = stmt.Text(3);
  f.size = static_cast<std::uint64_t>(stmt.Int(4));
  f.sha256 = stmt.Text(5);
  f.metadata_sha256 = stmt.Text(6);
  f.requires_python = stmt.Text(7);
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

// Compares `file` with the stored row of the same filename: kIdenticalExists, an
// kAlreadyExists error, or nullopt when the filename is free.
Result<std::optional<AddFileOutcome>> CompareWithStored(Connection& conn, const FileRecord& file) {
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn.Prepare("SELECT sha256, size FROM files WHERE filename = ?1"));
  PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, file.filename).Step());
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
  {
    PIPY_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("SELECT id FROM projects WHERE name = ?1"));
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, file.project).Step());
    if (row) {
      return stmt.Int(0);
    }
  }
  PIPY_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("INSERT INTO projects (name, display_name, "
                                                     "created_ms) VALUES (?1, ?2, ?3)"));
  const std::string& display = release.display_name.empty() ? file.project : release.display_name;
  PIPY_RETURN_IF_ERROR(
      stmt.Bind(1, file.project).Bind(2, display).Bind(3, file.upload_time_ms).Run());
  return sqlite3_last_insert_rowid(conn.db());
}

// The id of the release, inserting it when missing and otherwise filling its empty fields.
Result<std::int64_t> EnsureRelease(Connection& conn, std::int64_t project_id,
                                   const FileRecord& file, const ReleaseMetadata& release) {
  std::int64_t release_id = 0;
  {
    PIPY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("SELECT id FROM releases WHERE project_id = ?1 AND version = ?2"));
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, project_id).Bind(2, file.version).Step());
    release_id = row ? stmt.Int(0) : 0;
  }
  if (release_id == 0) {
    PIPY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("INSERT INTO releases (project_id, version, summary, description, "
                     "description_content_type, requires_python, created_ms) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    PIPY_RETURN_IF_ERROR(stmt.Bind(1, project_id)
                             .Bind(2, file.version)
                             .Bind(3, release.summary)
                             .Bind(4, release.description)
                             .Bind(5, release.description_content_type)
                             .Bind(6, release.requires_python)
                             .Bind(7, file.upload_time_ms)
                             .Run());
    return sqlite3_last_insert_rowid(conn.db());
  }
  // Fill only what is still empty; the WHERE skips the write when nothing would change.
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn.Prepare("UPDATE releases SET"
                   " summary = CASE WHEN summary = '' THEN ?2 ELSE summary END,"
                   " description = CASE WHEN description = '' THEN ?3 ELSE description END,"
                   " description_content_type = CASE WHEN description_content_type = ''"
                   "   THEN ?4 ELSE description_content_type END,"
                   " requires_python = CASE WHEN requires_python = '' THEN ?5"
                   "   ELSE requires_python END"
                   " WHERE id = ?1 AND ((summary = '' AND ?2 != '') OR"
                   "   (description = '' AND ?3 != '') OR"
                   "   (description_content_type = '' AND ?4 != '') OR"
                   "   (requires_python = '' AND ?5 != ''))"));
  PIPY_RETURN_IF_ERROR(stmt.Bind(1, release_id)
                           .Bind(2, release.summary)
                           .Bind(3, release.description)
                           .Bind(4, release.description_content_type)
                           .Bind(5, release.requires_python)
                           .Run());
  return release_id;
}

Status InsertFile(Connection& conn, std::int64_t release_id, std::int64_t project_id,
                  const FileRecord& file) {
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn.Prepare("INSERT INTO files (release_id, project_id, filename, packagetype, size, "
                   "sha256, metadata_sha256, requires_python, upload_time_ms, uploader, "
                   "prov_source, prov_commit, prov_module, prov_build_id, prov_test_result) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"));
  const Provenance provenance = file.provenance.value_or(Provenance{});
  return stmt.Bind(1, release_id)
      .Bind(2, project_id)
      .Bind(3, file.filename)
      .Bind(4, file.packagetype)
      .Bind(5, static_cast<std::int64_t>(file.size))
      .Bind(6, file.sha256)
      .Bind(7, file.metadata_sha256)
      .Bind(8, file.requires_python)
      .Bind(9, file.upload_time_ms)
      .Bind(10, file.uploader)
      .Bind(11, provenance.source)
      .Bind(12, provenance.commit)
      .Bind(13, provenance.module)
      .Bind(14, provenance.build_id)
      .Bind(15, provenance.test_result)
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
  PIPY_RETURN_IF_ERROR(BumpChangeSequence(conn));
  PIPY_RETURN_IF_ERROR(txn.Commit());
  return AddFileOutcome::kCreated;
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
  if (file.project.empty() || file.version.empty() || file.filename.empty() ||
      file.sha256.empty()) {
    return InvalidArgument("a file record needs a project, version, filename and sha256");
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

Result<std::optional<FileRecord>> SqliteCatalog::FindFile(std::string_view filename) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn->Prepare(std::string(kSelectFile) + " WHERE f.filename = ?1"));
  PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, filename).Step());
  if (!row) {
    return std::optional<FileRecord>();
  }
  return std::optional<FileRecord>(ReadFileRow(stmt));
}

Result<std::vector<FileRecord>> SqliteCatalog::ListFiles(std::string_view project) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn->Prepare(std::string(kSelectFile) + " WHERE p.name = ?1"));
  stmt.Bind(1, project);
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
