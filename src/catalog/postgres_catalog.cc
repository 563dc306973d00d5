#include "catalog/postgres_catalog.h"

#include "catalog/attributes.h"
#include "catalog/postgres_migrations.h"

namespace pipy::catalog {

using pg::Connection;
using pg::Rows;

namespace {

// Rows per page in ForEachFile, so no query stays open while `fn` runs.
constexpr std::int64_t kForEachPageSize = 512;

// Columns read by ReadFileRow, joined so a file carries its release's version, key and yank
// state.
constexpr std::string_view kSelectFile =
    "SELECT p.format, p.name, r.version, r.version_key, f.filename, f.size, f.sha256,"
    " f.attributes, f.upload_time_ms, f.uploader, r.yanked, r.yanked_reason, f.id,"
    " f.prov_source, f.prov_commit, f.prov_module, f.prov_build_id, f.prov_test_result"
    " FROM files f JOIN releases r ON r.id = f.release_id JOIN projects p ON p.id = f.project_id";

FileRecord ReadFileRow(const Rows& rows, int i) {
  FileRecord f;
  f.format = rows.Text(i, 0);
  f.project = rows.Text(i, 1);
  f.version = rows.Text(i, 2);
  f.version_key = rows.Text(i, 3);
  f.filename = rows.Text(i, 4);
  f.size = static_cast<std::uint64_t>(rows.Int(i, 5));
  f.sha256 = rows.Text(i, 6);
  f.attributes = DecodeAttributes(rows.Text(i, 7));
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

const std::string& KeyOf(const FileRecord& file) {
  return file.version_key.empty() ? file.version : file.version_key;
}

// kAlreadyExists (SQLite's words) when the file's filename or version key is tombstoned in
// its project.
Status CheckNotTombstoned(Connection& conn, const FileRecord& file) {
  PIPY_ASSIGN_OR_RETURN(
      Rows rows,
      conn.Execute("SELECT t.kind FROM tombstones t JOIN projects p ON p.id = t.project_id"
                   " WHERE p.format = $1 AND p.name = $2 AND"
                   " ((t.kind = 'file' AND t.name = $3) OR (t.kind = 'version' AND t.name = $4))"
                   " ORDER BY t.kind LIMIT 1",
                   {file.format, file.project, file.filename, KeyOf(file)}));
  if (rows.empty()) {
    return Status::Ok();
  }
  return AlreadyExists(
      (rows.Text(0, 0) == "file" ? "file \"" + file.filename + "\""
                                 : "version " + file.version + " of " + file.project) +
      " was removed by an admin and can never be published again; publish a new version");
}

// Compares `file` with the stored row of the same filename in its project: kIdenticalExists,
// an kAlreadyExists error (other bytes, or a tombstoned name), or nullopt when the filename
// is free.
Result<std::optional<AddFileOutcome>> CompareWithStored(Connection& conn, const FileRecord& file) {
  PIPY_RETURN_IF_ERROR(CheckNotTombstoned(conn, file));
  PIPY_ASSIGN_OR_RETURN(
      Rows rows,
      conn.Execute("SELECT f.sha256, f.size FROM files f JOIN projects p ON p.id = f.project_id"
                   " WHERE p.format = $1 AND p.name = $2 AND f.filename = $3",
                   {file.format, file.project, file.filename}));
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

// The release fields AddFile fills while empty.
struct FillableFields {
  std::string summary;
  std::string description;
  std::string manifest_sha256;
  Attributes attributes;
};

// The release's fillable fields; nullopt when a concurrent takedown deleted it.
Result<std::optional<FillableFields>> ReadFillableFields(Connection& conn,
                                                         std::int64_t release_id, bool lock) {
  PIPY_ASSIGN_OR_RETURN(
      Rows rows,
      conn.Execute(lock ? "SELECT summary, description, manifest_sha256, attributes"
                          " FROM releases WHERE id = $1 FOR UPDATE"
                        : "SELECT summary, description, manifest_sha256, attributes"
                          " FROM releases WHERE id = $1",
                   {release_id}));
  if (rows.empty()) {
    return std::optional<FillableFields>();
  }
  return std::optional<FillableFields>(FillableFields{rows.Text(0, 0), rows.Text(0, 1),
                                                      rows.Text(0, 2),
                                                      DecodeAttributes(rows.Text(0, 3))});
}

// Fills the empty fields of `stored` from `release`; false when there was nothing to fill.
bool Fill(FillableFields& stored, const ReleaseMetadata& release) {
  bool changed = false;
  auto fill = [&changed](std::string& field, const std::string& value) {
    if (field.empty() && !value.empty()) {
      field = value;
      changed = true;
    }
  };
  fill(stored.summary, release.summary);
  fill(stored.description, release.description);
  fill(stored.manifest_sha256, release.manifest_sha256);
  for (const auto& [key, value] : release.attributes) {
    fill(stored.attributes[key], value);
  }
  return changed;
}

// The id of the release with the file's version key, inserting it when missing and otherwise
// filling its empty fields (attributes key by key). The first read takes no lock, so the usual
// upload (nothing left to fill) neither writes nor waits; a fill reads again FOR UPDATE, so a
// concurrent fill is never overwritten.
Result<std::int64_t> EnsureRelease(Connection& conn, std::int64_t project_id,
                                   const FileRecord& file, const ReleaseMetadata& release) {
  const std::string attributes = EncodeAttributes(release.attributes);
  PIPY_ASSIGN_OR_RETURN(
      std::int64_t release_id,
      FindOrInsert(conn, "SELECT id FROM releases WHERE project_id = $1 AND version_key = $2",
                   {project_id, KeyOf(file)},
                   "INSERT INTO releases (project_id, version, version_key, summary, description,"
                   " manifest_sha256, attributes, created_ms)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                   " ON CONFLICT (project_id, version_key) DO NOTHING RETURNING id",
                   {project_id, file.version, KeyOf(file), release.summary, release.description,
                    release.manifest_sha256, attributes, file.upload_time_ms}));
  FillableFields fields;
  for (bool lock : {false, true}) {
    PIPY_ASSIGN_OR_RETURN(std::optional<FillableFields> stored,
                          ReadFillableFields(conn, release_id, lock));
    if (!stored.has_value()) {
      // Deleted since FindOrInsert: the takedown has committed, its tombstones with it.
      PIPY_RETURN_IF_ERROR(CheckNotTombstoned(conn, file));
      return Unavailable("PostgreSQL: the release was removed during the upload; retry");
    }
    fields = std::move(stored).value();
    if (!Fill(fields, release)) {
      return release_id;  // nothing to fill (or a concurrent upload filled it first)
    }
  }
  PIPY_RETURN_IF_ERROR(
      conn.Execute("UPDATE releases SET summary = $2, description = $3, manifest_sha256 = $4,"
                   " attributes = $5 WHERE id = $1",
                   {release_id, fields.summary, fields.description, fields.manifest_sha256,
                    EncodeAttributes(fields.attributes)})
          .status());
  return release_id;
}

Status InsertFile(Connection& conn, std::int64_t release_id, std::int64_t project_id,
                  const FileRecord& file) {
  const Provenance provenance = file.provenance.value_or(Provenance{});
  const std::string attributes = EncodeAttributes(file.attributes);
  return conn
      .Execute("INSERT INTO files (release_id, project_id, filename, size, sha256, attributes,"
               " upload_time_ms, uploader, prov_source, prov_commit, prov_module, prov_build_id,"
               " prov_test_result)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
               {release_id, project_id, file.filename, static_cast<std::int64_t>(file.size),
                file.sha256, attributes, file.upload_time_ms, file.uploader, provenance.source,
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
  if (file.format.empty() || file.project.empty() || file.version.empty() ||
      file.filename.empty() || file.sha256.empty()) {
    return InvalidArgument("a file record needs a format, project, version, filename and sha256");
  }
  AddFileOutcome outcome = AddFileOutcome::kCreated;
  bool answer_from_stored = false;
  Status s = Write([&](Connection& conn) -> Status {
    answer_from_stored = false;
    PIPY_ASSIGN_OR_RETURN(std::optional<AddFileOutcome> existing, CompareWithStored(conn, file));
    if (existing.has_value()) {
      outcome = *existing;
      return Status::Ok();  // nothing written
    }
    const std::string& display =
        release.display_name.empty() ? file.project : release.display_name;
    PIPY_ASSIGN_OR_RETURN(
        std::int64_t project_id,
        FindOrInsert(conn, "SELECT id FROM projects WHERE format = $1 AND name = $2",
                     {file.format, file.project},
                     "INSERT INTO projects (format, name, display_name, created_ms)"
                     " VALUES ($1, $2, $3, $4) ON CONFLICT (format, name) DO NOTHING RETURNING id",
                     {file.format, file.project, display, file.upload_time_ms}));
    PIPY_ASSIGN_OR_RETURN(std::int64_t release_id,
                          EnsureRelease(conn, project_id, file, release));
    Status inserted = InsertFile(conn, release_id, project_id, file);
    if (!inserted.ok()) {
      // 23505: the filename won by a concurrent upload; 23503: the release (or project) was
      // deleted by a concurrent takedown after we found it.
      answer_from_stored = conn.last_sqlstate() == "23505" || conn.last_sqlstate() == "23503";
      return inserted;
    }
    // Each statement sees what committed before it: a takedown that committed after the
    // first check but before we found the release left no row to find, so we created a new
    // release; its tombstones are visible now. (One that commits later deleted the release
    // we found, and the insert above failed on the foreign key.)
    PIPY_RETURN_IF_ERROR(CheckNotTombstoned(conn, file));
    for (const std::string& tag : release.tags) {
      PIPY_RETURN_IF_ERROR(
          conn.Execute("INSERT INTO tags (project_id, tag, release_id) VALUES ($1, $2, $3)"
                       " ON CONFLICT (project_id, tag) DO UPDATE SET release_id = excluded.release_id",
                       {project_id, tag, release_id})
              .status());
    }
    outcome = AddFileOutcome::kCreated;
    return PostgresRecordChange(conn, file.project);
  });
  if (s.ok()) {
    return outcome;
  }
  if (!answer_from_stored) {
    return s;
  }
  // Another upload of this filename to the project committed first (the UNIQUE constraint
  // kept its row), or a takedown did: answer against what is stored now.
  std::optional<AddFileOutcome> existing;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(existing, CompareWithStored(conn, file));
    return Status::Ok();
  }));
  if (!existing.has_value()) {
    return Unavailable("PostgreSQL: a concurrent upload or removal of \"" + file.filename +
                       "\" did not finish; retry");
  }
  return *existing;
}

Result<std::optional<FileRecord>> PostgresCatalog::FindFile(std::string_view format,
                                                           std::string_view project,
                                                           std::string_view filename) {
  std::optional<FileRecord> out;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Execute(std::string(kSelectFile) +
                         " WHERE p.format = $1 AND p.name = $2 AND f.filename = $3",
                     {format, project, filename}));
    out = rows.empty() ? std::nullopt : std::optional<FileRecord>(ReadFileRow(rows, 0));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<FileRecord>> PostgresCatalog::ListFiles(std::string_view format,
                                                          std::string_view project) {
  std::vector<FileRecord> out;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(Rows rows,
                          conn.Execute(std::string(kSelectFile) +
                                           " WHERE p.format = $1 AND p.name = $2",
                                       {format, project}));
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
