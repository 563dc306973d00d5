// PostgresCatalog: tags (npm's dist-tags), takedowns and their tombstones.
#include <chrono>

#include "catalog/postgres_catalog.h"
#include "catalog/postgres_catalog_internal.h"

namespace pipy::catalog {

using pg::Connection;
using pg::Rows;

namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Tombstones one name; a name removed twice keeps its first tombstone.
Status AddTombstone(Connection& conn, std::int64_t project_id, std::string_view kind,
                    std::string_view name, std::string_view removed_by) {
  return conn
      .Execute("INSERT INTO tombstones (project_id, kind, name, removed_ms, removed_by)"
               " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
               {project_id, kind, name, NowMs(), removed_by})
      .status();
}

}  // namespace

Status PostgresCatalog::SetTag(std::string_view format, std::string_view project,
                               std::string_view tag, std::string_view version_key) {
  return Write([&](Connection& conn) -> Status {
    // The lock keeps the release from being removed before the tag commits.
    PIPY_ASSIGN_OR_RETURN(PostgresReleaseIds ids,
                          PostgresLockRelease(conn, format, project, version_key));
    PIPY_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Execute("INSERT INTO tags (project_id, tag, release_id) VALUES ($1, $2, $3)"
                     " ON CONFLICT (project_id, tag) DO UPDATE SET release_id = excluded.release_id"
                     " WHERE tags.release_id <> excluded.release_id",
                     {ids.project_id, tag, ids.release_id}));
    if (rows.Affected() == 0) {
      return Status::Ok();  // already there: no write, the sequence stays
    }
    return PostgresRecordChange(conn, project);
  });
}

Status PostgresCatalog::RemoveTag(std::string_view format, std::string_view project,
                                  std::string_view tag) {
  return Write([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Execute("DELETE FROM tags t USING projects p WHERE p.id = t.project_id"
                     " AND p.format = $1 AND p.name = $2 AND t.tag = $3",
                     {format, project, tag}));
    if (rows.Affected() == 0) {
      return NotFound("project " + std::string(project) + " has no tag " + std::string(tag));
    }
    return PostgresRecordChange(conn, project);
  });
}

Result<std::map<std::string, std::string>> PostgresCatalog::ListTags(std::string_view format,
                                                                     std::string_view project) {
  std::map<std::string, std::string> out;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(Rows rows,
                          conn.Execute("SELECT t.tag, r.version_key FROM tags t"
                                       " JOIN releases r ON r.id = t.release_id"
                                       " JOIN projects p ON p.id = t.project_id"
                                       " WHERE p.format = $1 AND p.name = $2",
                                       {format, project}));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      out.emplace(rows.Text(i, 0), rows.Text(i, 1));
    }
    return Status::Ok();
  }));
  return out;
}

Status PostgresCatalog::RemoveRelease(std::string_view format, std::string_view project,
                                      std::string_view version_key,
                                      std::string_view removed_by) {
  return Write([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(PostgresReleaseIds ids,
                          PostgresLockRelease(conn, format, project, version_key));
    PIPY_RETURN_IF_ERROR(AddTombstone(conn, ids.project_id, "version", version_key, removed_by));
    PIPY_RETURN_IF_ERROR(
        conn.Execute("INSERT INTO tombstones (project_id, kind, name, removed_ms, removed_by)"
                     " SELECT project_id, 'file', filename, $2::bigint, $3::text FROM files"
                     " WHERE release_id = $1 ON CONFLICT DO NOTHING",
                     {ids.release_id, NowMs(), removed_by})
            .status());
    for (std::string_view sql : {"DELETE FROM tags WHERE release_id = $1",
                                 "DELETE FROM files WHERE release_id = $1",
                                 "DELETE FROM releases WHERE id = $1"}) {
      PIPY_RETURN_IF_ERROR(conn.Execute(sql, {ids.release_id}).status());
    }
    return PostgresRecordChange(conn, project);
  });
}

Status PostgresCatalog::RemoveFile(std::string_view format, std::string_view project,
                                   std::string_view filename, std::string_view removed_by) {
  return Write([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(std::int64_t project_id, PostgresProjectId(conn, format, project));
    PIPY_ASSIGN_OR_RETURN(
        Rows rows, conn.Execute("DELETE FROM files WHERE project_id = $1 AND filename = $2",
                                {project_id, filename}));
    if (rows.Affected() == 0) {
      return NotFound("project " + std::string(project) + " has no file " +
                      std::string(filename));
    }
    PIPY_RETURN_IF_ERROR(AddTombstone(conn, project_id, "file", filename, removed_by));
    return PostgresRecordChange(conn, project);
  });
}

Result<std::vector<Tombstone>> PostgresCatalog::ListTombstones(std::string_view format,
                                                               std::string_view project) {
  std::vector<Tombstone> out;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Execute("SELECT t.kind, t.name, t.removed_ms, t.removed_by FROM tombstones t"
                     " JOIN projects p ON p.id = t.project_id"
                     " WHERE p.format = $1 AND p.name = $2",
                     {format, project}));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      Tombstone t;
      t.kind = rows.Text(i, 0) == "file" ? TombstoneKind::kFile : TombstoneKind::kVersion;
      t.name = rows.Text(i, 1);
      t.removed_ms = rows.Int(i, 2);
      t.removed_by = rows.Text(i, 3);
      out.push_back(std::move(t));
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace pipy::catalog
