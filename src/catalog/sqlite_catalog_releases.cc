// SqliteCatalog: tags (npm's dist-tags), takedowns and their tombstones.
#include <chrono>

#include "catalog/sqlite_catalog.h"
#include "catalog/sqlite_catalog_internal.h"

namespace pipy::catalog {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view KindName(TombstoneKind kind) {
  return kind == TombstoneKind::kFile ? "file" : "version";
}

// The ids of the project and of its release with `version_key`; kNotFound when either is
// missing.
Result<std::pair<std::int64_t, std::int64_t>> FindRelease(Connection& conn,
                                                          std::string_view format,
                                                          std::string_view project,
                                                          std::string_view version_key) {
  PIPY_ASSIGN_OR_RETURN(std::int64_t project_id, ProjectId(conn, format, project));
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn.Prepare("SELECT id FROM releases WHERE project_id = ?1 AND version_key = ?2"));
  PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, project_id).Bind(2, version_key).Step());
  if (!row) {
    return NotFound("no release " + std::string(version_key) + " of project " +
                    std::string(project));
  }
  return std::make_pair(project_id, stmt.Int(0));
}

Status AddTombstone(Connection& conn, std::int64_t project_id, TombstoneKind kind,
                    std::string_view name, std::string_view removed_by) {
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn.Prepare("INSERT OR IGNORE INTO tombstones (project_id, kind, name, removed_ms, "
                   "removed_by) VALUES (?1, ?2, ?3, ?4, ?5)"));
  return stmt.Bind(1, project_id)
      .Bind(2, KindName(kind))
      .Bind(3, name)
      .Bind(4, NowMs())
      .Bind(5, removed_by)
      .Run();
}

}  // namespace

Status SqliteCatalog::SetTag(std::string_view format, std::string_view project,
                             std::string_view tag, std::string_view version_key) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn));
  PIPY_ASSIGN_OR_RETURN(auto ids, FindRelease(*conn, format, project, version_key));
  {
    PIPY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn->Prepare("SELECT release_id FROM tags WHERE project_id = ?1 AND tag = ?2"));
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, ids.first).Bind(2, tag).Step());
    if (row && stmt.Int(0) == ids.second) {
      return Status::Ok();  // already there: no write
    }
  }
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare("INSERT INTO tags (project_id, tag, release_id) VALUES (?1, ?2, ?3)"
                    " ON CONFLICT (project_id, tag) DO UPDATE SET release_id = excluded.release_id"));
  PIPY_RETURN_IF_ERROR(stmt.Bind(1, ids.first).Bind(2, tag).Bind(3, ids.second).Run());
  PIPY_RETURN_IF_ERROR(BumpChangeSequence(*conn));
  return txn.Commit();
}

Status SqliteCatalog::RemoveTag(std::string_view format, std::string_view project,
                                std::string_view tag) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn));
  PIPY_ASSIGN_OR_RETURN(std::int64_t project_id, ProjectId(*conn, format, project));
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn->Prepare("DELETE FROM tags WHERE project_id = ?1 AND tag = ?2"));
  PIPY_RETURN_IF_ERROR(stmt.Bind(1, project_id).Bind(2, tag).Run());
  if (sqlite3_changes(conn->db()) == 0) {
    return NotFound("project " + std::string(project) + " has no tag " + std::string(tag));
  }
  PIPY_RETURN_IF_ERROR(BumpChangeSequence(*conn));
  return txn.Commit();
}

Result<std::map<std::string, std::string>> SqliteCatalog::ListTags(std::string_view format,
                                                                   std::string_view project) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare("SELECT t.tag, r.version_key FROM tags t"
                    " JOIN releases r ON r.id = t.release_id"
                    " JOIN projects p ON p.id = t.project_id"
                    " WHERE p.format = ?1 AND p.name = ?2"));
  stmt.Bind(1, format).Bind(2, project);
  std::map<std::string, std::string> out;
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return out;
    }
    out.emplace(stmt.Text(0), stmt.Text(1));
  }
}

Status SqliteCatalog::RemoveRelease(std::string_view format, std::string_view project,
                                    std::string_view version_key, std::string_view removed_by) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn));
  PIPY_ASSIGN_OR_RETURN(auto ids, FindRelease(*conn, format, project, version_key));
  PIPY_RETURN_IF_ERROR(AddTombstone(*conn, ids.first, TombstoneKind::kVersion, version_key,
                                    removed_by));
  std::vector<std::string> filenames;
  {
    PIPY_ASSIGN_OR_RETURN(Statement stmt,
                          conn->Prepare("SELECT filename FROM files WHERE release_id = ?1"));
    stmt.Bind(1, ids.second);
    for (;;) {
      PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) {
        break;
      }
      filenames.push_back(stmt.Text(0));
    }
  }
  for (const std::string& filename : filenames) {
    PIPY_RETURN_IF_ERROR(
        AddTombstone(*conn, ids.first, TombstoneKind::kFile, filename, removed_by));
  }
  for (const char* sql : {"DELETE FROM tags WHERE release_id = ?1",
                          "DELETE FROM files WHERE release_id = ?1",
                          "DELETE FROM releases WHERE id = ?1"}) {
    PIPY_ASSIGN_OR_RETURN(Statement stmt, conn->Prepare(sql));
    PIPY_RETURN_IF_ERROR(stmt.Bind(1, ids.second).Run());
  }
  PIPY_RETURN_IF_ERROR(BumpChangeSequence(*conn));
  return txn.Commit();
}

Status SqliteCatalog::RemoveFile(std::string_view format, std::string_view project,
                                 std::string_view filename, std::string_view removed_by) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn));
  PIPY_ASSIGN_OR_RETURN(std::int64_t project_id, ProjectId(*conn, format, project));
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare("DELETE FROM files WHERE project_id = ?1 AND filename = ?2"));
  PIPY_RETURN_IF_ERROR(stmt.Bind(1, project_id).Bind(2, filename).Run());
  if (sqlite3_changes(conn->db()) == 0) {
    return NotFound("project " + std::string(project) + " has no file " + std::string(filename));
  }
  PIPY_RETURN_IF_ERROR(
      AddTombstone(*conn, project_id, TombstoneKind::kFile, filename, removed_by));
  PIPY_RETURN_IF_ERROR(BumpChangeSequence(*conn));
  return txn.Commit();
}

Result<std::vector<Tombstone>> SqliteCatalog::ListTombstones(std::string_view format,
                                                             std::string_view project) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare("SELECT t.kind, t.name, t.removed_ms, t.removed_by FROM tombstones t"
                    " JOIN projects p ON p.id = t.project_id"
                    " WHERE p.format = ?1 AND p.name = ?2"));
  stmt.Bind(1, format).Bind(2, project);
  std::vector<Tombstone> out;
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return out;
    }
    Tombstone t;
    t.kind = stmt.Text(0) == "file" ? TombstoneKind::kFile : TombstoneKind::kVersion;
    t.name = stmt.Text(1);
    t.removed_ms = stmt.Int(2);
    t.removed_by = stmt.Text(3);
    out.push_back(std::move(t));
  }
}

}  // namespace pipy::catalog
