#include "catalog/postgres_catalog.h"

#include "catalog/postgres_migrations.h"

namespace pipy::catalog {

using pg::Connection;
using pg::Rows;

namespace {

// Rows per page in ForEachFile, so no query stays open while `fn` runs.
constexpr std::int64_t kForEachPageSize = 512;

// Columns read by ReadFileRow, joined so a file carries its release's yank state.
constexpr std::string_view kSelectFile =
    "SELECT p.name, r.version, f.filename, f.packagetype, f.size, f.sha256, f.metadata_sha256,"
    " f.requires_python, f.upload_time_ms, f.uploader, r.yanked, r.yanked_reason, f.id,"
    " f.prov_source, f.prov_commit, f.prov_module, f.prov_build_id, f.prov_test_result"
    " FROM files f JOIN releases r ON r.id = f.release_id JOIN projects p ON p.id = f.project_id";

FileRecord ReadFileRow(const Rows& rows, int i) {
  FileRecord f;
  f.project = rows.Text(i, 0);
  f.version = rows.Text(i, 1);
  f.filename = rows.Text(i, 2);
  f.packagetype = rows.Text(i, 3);
  f.size = static_cast<std::uint64_t>(rows.Int(i, 4));
  f.sha256 = rows.Text(i, 5);
  f.metadata_sha256 = rows.Text(i, 6);
  f.requires_python = rows.Text(i, 7);
  f.upload_time_ms = rows.Int(i, 8);
  f.uploader = rows.Text(i, 9);
  f.yanked = rows.Bool(i, 10);
  f.yanked_reason = rows.Text(i, 11);
  if (!rows.Text(i, 13).empty()) {
    f.provenance = Provenance{rows.Text(i, 13), rows.Text(i, 14), rows.Text(i, 15),
                              rows.Int(i, 16), rows.Text(i, 17)};
  }
  return f;
}

std::vector<FileRecord> ReadFileRows(const Rows& rows) {
  std::vector<FileRecord> out;
  out.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back(ReadFileRow(rows, i));
  }
  return out;
}

// Compares `file` with the stored row of the same filename: kIdenticalExists, an
// kAlreadyExists error, or nullopt when the filename is free.
Result<std::optional<AddFileOutcome>> CompareWithStored(Connection& conn, const FileRecord& file) {
  PIPY_ASSIGN_OR_RETURN(Rows rows, conn.Execute("SELECT sha256, size FROM files WHERE filename = $1",
                                                {file.filename}));
  if (rows.empty()) {
    return std::optional<AddFileOutcome>();
  }
  if (rows.Text(0, 0) == file.sha256 && static_cast<std::uint64_t>(rows.Int(0, 1)) == file.size) {
    return std::optional<AddFileOutcome>(AddFileOutcome::kIdenticalExists);
  }
  return AlreadyExists("file \"" + file.filename +
                       "\" already exists with different contents; a filename can be "
                       "uploaded only once, so publish a new version instead");
}

// The id of the row `select` finds, inserting it with `insert` (INSERT ... ON CONFLICT DO
// NOTHING RETURNING id) when missing. A concurrent insert of the same key makes ours do
// nothing after it commits; the second SELECT, a new snapshot, then sees its row.
Result<std::int64_t> FindOrInsert(Connection& conn, std::string_view select,
                                  std::initializer_list<pg::Param> key, std::string_view insert,
                                  std::initializer_list<pg::Param> values) {
  {
    PIPY_ASSIGN_OR_RETURN(Rows rows, conn.Execute(select, key));
    if (!rows.empty()) {
      return rows.Int(0, 0);
    }
  }
  {
    PIPY_ASSIGN_OR_RETURN(Rows rows, conn.Execute(insert, values));
    if (!rows.empty()) {
      return rows.Int(0, 0);
    }
  }
  PIPY_ASSIGN_OR_RETURN(Rows rows, conn.Execute(select, key));
  if (rows.empty()) {
    return Unavailable("PostgreSQL: a concurrent insert was rolled back; retry");
  }
  return rows.Int(0, 0);
}

// The id of the release, inserting it when missing and otherwise filling its empty fields.
Result<std::int64_t> EnsureRelease(Connection& conn, std::int64_t project_id,
                                   const FileRecord& file, const ReleaseMetadata& release) {
  PIPY_ASSIGN_OR_RETURN(
      std::int64_t release_id,
      FindOrInsert(conn, "SELECT id FROM releases WHERE project_id = $1 AND version = $2",
                   {project_id, file.version},
                   "INSERT INTO releases (project_id, version, summary, description,"
                   " description_content_type, requires_python, created_ms)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7)"
                   " ON CONFLICT (project_id, version) DO NOTHING RETURNING id",
                   {project_id, file.version, release.summary, release.description,
                    release.description_content_type, release.requires_python,
                    file.upload_time_ms}));
  // Fill only what is still empty; the WHERE skips the write when nothing would change.
  PIPY_RETURN_IF_ERROR(
      conn.Execute("UPDATE releases SET"
                   " summary = CASE WHEN summary = '' THEN $2::text ELSE summary END,"
                   " description = CASE WHEN description = '' THEN $3::text"
                   "   ELSE description END,"
                   " description_content_type = CASE WHEN description_content_type = ''"
                   "   THEN $4::text ELSE description_content_type END,"
                   " requires_python = CASE WHEN requires_python = '' THEN $5::text"
                   "   ELSE requires_python END"
                   " WHERE id = $1 AND ((summary = '' AND $2::text <> '') OR"
                   "   (description = '' AND $3::text <> '') OR"
                   "   (description_content_type = '' AND $4::text <> '') OR"
                   "   (requires_python = '' AND $5::text <> ''))",
                   {release_id, release.summary, release.description,
                    release.description_content_type, release.requires_python})
          .status());
  return release_id;
}

Status InsertFile(Connection& conn, std::int64_t release_id, std::int64_t project_id,
                  const FileRecord& file) {
  const Provenance provenance = file.provenance.value_or(Provenance{});
  return conn
      .Execute("INSERT INTO files (release_id, project_id, filename, packagetype, size, sha256,"
               " metadata_sha256, requires_python, upload_time_ms, uploader, prov_source,"
               " prov_commit, prov_module, prov_build_id, prov_test_result)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
               {release_id, project_id, file.filename, file.packagetype,
                static_cast<std::int64_t>(file.size), file.sha256, file.metadata_sha256,
                file.requires_python, file.upload_time_ms, file.uploader, provenance.source,
                provenance.commit, provenance.module, provenance.build_id,
                provenance.test_result})
      .status();
}

}  // namespace

Status PostgresRecordChange(Connection& conn, std::string_view project) {
  PIPY_RETURN_IF_ERROR(
      conn.Execute("UPDATE meta SET value = value + 1 WHERE key = 'change_seq'").status());
  return conn.Execute("SELECT pg_notify($1, $2)", {pg::kChangeChannel, project}).status();
}

PostgresCatalog::PostgresCatalog(pg::ConnectSettings settings, std::size_t pool_size)
    : pool_(std::move(settings), pool_size) {}

PostgresCatalog::~PostgresCatalog() = default;

Result<std::unique_ptr<PostgresCatalog>> PostgresCatalog::Open(const PostgresOptions& options) {
  if (options.pool_size < 1) {
    return InvalidArgument("the PostgreSQL pool_size must be at least 1");
  }
  PIPY_ASSIGN_OR_RETURN(pg::ConnectSettings settings, pg::ConnectSettings::Parse(options.url));
  {
    PIPY_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(settings));
    Status migrated = ApplyPostgresMigrations(*conn);
    if (!migrated.ok()) {
      return migrated.WithContext("migrating PostgreSQL " + settings.description());
    }
  }
  return std::unique_ptr<PostgresCatalog>(new PostgresCatalog(std::move(settings),
                                                              options.pool_size));
}

Result<AddFileOutcome> PostgresCatalog::AddFile(const FileRecord& file,
                                                const ReleaseMetadata& release) {
  if (file.project.empty() || file.version.empty() || file.filename.empty() ||
      file.sha256.empty()) {
    return InvalidArgument("a file record needs a project, version, filename and sha256");
  }
  AddFileOutcome outcome = AddFileOutcome::kCreated;
  bool filename_taken = false;
  Status s = Write([&](Connection& conn) -> Status {
    filename_taken = false;
    PIPY_ASSIGN_OR_RETURN(std::optional<AddFileOutcome> existing, CompareWithStored(conn, file));
    if (existing.has_value()) {
      outcome = *existing;
      return Status::Ok();  // nothing written
    }
    const std::string& display =
        release.display_name.empty() ? file.project : release.display_name;
    PIPY_ASSIGN_OR_RETURN(
        std::int64_t project_id,
        FindOrInsert(conn, "SELECT id FROM projects WHERE name = $1", {file.project},
                     "INSERT INTO projects (name, display_name, created_ms) VALUES ($1, $2, $3)"
                     " ON CONFLICT (name) DO NOTHING RETURNING id",
                     {file.project, display, file.upload_time_ms}));
    PIPY_ASSIGN_OR_RETURN(std::int64_t release_id,
                          EnsureRelease(conn, project_id, file, release));
    Status inserted = InsertFile(conn, release_id, project_id, file);
    if (!inserted.ok()) {
      filename_taken = conn.last_sqlstate() == "23505";
      return inserted;
    }
    outcome = AddFileOutcome::kCreated;
    return PostgresRecordChange(conn, file.project);
  });
  if (s.ok()) {
    return outcome;
  }
  if (!filename_taken) {
    return s;
  }
  // Another upload of this filename committed first; the UNIQUE constraint kept its row.
  // Answer against what is stored now.
  std::optional<AddFileOutcome> existing;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(existing, CompareWithStored(conn, file));
    return Status::Ok();
  }));
  if (!existing.has_value()) {
    return Unavailable("PostgreSQL: a concurrent upload of \"" + file.filename +
                       "\" did not finish; retry");
  }
  return *existing;
}

Result<std::optional<FileRecord>> PostgresCatalog::FindFile(std::string_view filename) {
  std::optional<FileRecord> out;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(Rows rows,
                          conn.Execute(std::string(kSelectFile) + " WHERE f.filename = $1",
                                       {filename}));
    out = rows.empty() ? std::nullopt : std::optional<FileRecord>(ReadFileRow(rows, 0));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<FileRecord>> PostgresCatalog::ListFiles(std::string_view project) {
  std::vector<FileRecord> out;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(
        Rows rows, conn.Execute(std::string(kSelectFile) + " WHERE p.name = $1", {project}));
    out = ReadFileRows(rows);
    return Status::Ok();
  }));
  return out;
}

Status PostgresCatalog::ForEachFile(const std::function<Status(const FileRecord&)>& fn) {
  std::int64_t after_id = 0;
  for (;;) {
    std::vector<std::pair<std::int64_t, FileRecord>> page;
    PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
      PIPY_ASSIGN_OR_RETURN(
          Rows rows, conn.Execute(std::string(kSelectFile) +
                                      " WHERE f.id > $1 ORDER BY f.id LIMIT $2",
                                  {after_id, kForEachPageSize}));
      page.clear();
      for (int i = 0; i < rows.size(); ++i) {
        page.emplace_back(rows.Int(i, 12), ReadFileRow(rows, i));
      }
      return Status::Ok();
    }));
    for (const auto& [id, file] : page) {
      PIPY_RETURN_IF_ERROR(fn(file));
      after_id = id;
    }
    if (static_cast<std::int64_t>(page.size()) < kForEachPageSize) {
      return Status::Ok();
    }
  }
}

Result<std::unique_ptr<ChangeWatch>> PostgresCatalog::WatchChanges(
    std::function<void(std::string_view project)> on_change) {
  std::lock_guard lock(listener_mu_);
  if (listener_ == nullptr) {
    listener_ = std::make_unique<pg::ChangeListener>(pool_.settings());
  }
  return listener_->Subscribe(std::move(on_change));
}

}  // namespace pipy::catalog
