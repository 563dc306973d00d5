// SqliteCatalog: projects, releases, yanks (PEP 592) and the change sequence.
#include "catalog/sqlite_catalog.h"
#include "catalog/sqlite_catalog_internal.h"

#include <functional>

#include "catalog/attributes.h"

namespace pipy::catalog {

using sqlite::Statement;
using sqlite::Transaction;

namespace {

// last_upload_ms is MAX over the project's files; the files_by_project index
// (project_id, upload_time_ms) answers it without touching the table.
constexpr std::string_view kSelectProject =
    "SELECT p.format, p.name, p.display_name, p.created_ms,"
    " COALESCE((SELECT MAX(f.upload_time_ms) FROM files f WHERE f.project_id = p.id), 0)"
    " FROM projects p";

ProjectRecord ReadProjectRow(const Statement& stmt) {
  ProjectRecord p;
  p.format = stmt.Text(0);
  p.name = stmt.Text(1);
  p.display_name = stmt.Text(2);
  p.created_ms = stmt.Int(3);
  p.last_upload_ms = stmt.Int(4);
  return p;
}

// Sets one column of a release (yank state, deprecation) inside a transaction; no write
// (and no new change sequence) when it already holds the values. `set` and `same` are SQL
// fragments over ?3 and ?4.
Status UpdateRelease(sqlite::ConnectionPool& pool, std::string_view format,
                     std::string_view project, std::string_view version_key,
                     std::string_view same, std::string_view set,
                     const std::function<void(Statement&)>& bind) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool.Acquire());
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn));
  PIPY_ASSIGN_OR_RETURN(std::int64_t project_id, ProjectId(*conn, format, project));
  {
    PIPY_ASSIGN_OR_RETURN(Statement stmt,
                          conn->Prepare("SELECT " + std::string(same) +
                                        " FROM releases WHERE project_id = ?1 AND version_key = ?2"));
    stmt.Bind(1, project_id).Bind(2, version_key);
    bind(stmt);
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return NotFound("no release " + std::string(version_key) + " of project " +
                      std::string(project));
    }
    if (stmt.Int(0) != 0) {
      return Status::Ok();  // already in that state: no write, the sequence stays
    }
  }
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn->Prepare("UPDATE releases SET " + std::string(set) +
                                      " WHERE project_id = ?1 AND version_key = ?2"));
  stmt.Bind(1, project_id).Bind(2, version_key);
  bind(stmt);
  PIPY_RETURN_IF_ERROR(stmt.Run());
  PIPY_RETURN_IF_ERROR(BumpChangeSequence(*conn));
  return txn.Commit();
}

}  // namespace

Result<std::int64_t> ProjectId(sqlite::Connection& conn, std::string_view format,
                               std::string_view project) {
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn.Prepare("SELECT id FROM projects WHERE format = ?1 AND name = ?2"));
  PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, format).Bind(2, project).Step());
  return row ? stmt.Int(0) : 0;
}

Result<std::optional<ProjectRecord>> SqliteCatalog::FindProject(std::string_view format,
                                                                std::string_view project) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare(std::string(kSelectProject) + " WHERE p.format = ?1 AND p.name = ?2"));
  PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, format).Bind(2, project).Step());
  if (!row) {
    return std::optional<ProjectRecord>();
  }
  return std::optional<ProjectRecord>(ReadProjectRow(stmt));
}

Result<std::vector<ProjectRecord>> SqliteCatalog::ListProjects(std::string_view format) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare(std::string(kSelectProject) + " WHERE p.format = ?1 ORDER BY p.name"));
  stmt.Bind(1, format);
  std::vector<ProjectRecord> out;
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return out;
    }
    out.push_back(ReadProjectRow(stmt));
  }
}

Result<std::vector<ReleaseRecord>> SqliteCatalog::ListReleases(std::string_view format,
                                                               std::string_view project) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare("SELECT p.format, p.name, r.version, r.version_key, p.display_name,"
                    " r.summary, r.description, r.manifest_sha256, r.attributes, r.yanked,"
                    " r.yanked_reason, r.deprecated, r.created_ms"
                    " FROM releases r JOIN projects p ON p.id = r.project_id"
                    " WHERE p.format = ?1 AND p.name = ?2"));
  stmt.Bind(1, format).Bind(2, project);
  std::vector<ReleaseRecord> out;
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return out;
    }
    ReleaseRecord r;
    r.format = stmt.Text(0);
    r.project = stmt.Text(1);
    r.version = stmt.Text(2);
    r.version_key = stmt.Text(3);
    r.metadata.display_name = stmt.Text(4);
    r.metadata.summary = stmt.Text(5);
    r.metadata.description = stmt.Text(6);
    r.metadata.manifest_sha256 = stmt.Text(7);
    r.metadata.attributes = DecodeAttributes(stmt.Text(8));
    r.yanked = stmt.Int(9) != 0;
    r.yanked_reason = stmt.Text(10);
    r.deprecated = stmt.Text(11);
    r.created_ms = stmt.Int(12);
    out.push_back(std::move(r));
  }
}

Status SqliteCatalog::SetYanked(std::string_view format, std::string_view project,
                                std::string_view version_key, bool yanked,
                                std::string_view reason) {
  // PEP 592: un-yanking clears the reason.
  const std::string_view stored_reason = yanked ? reason : std::string_view();
  return UpdateRelease(pool_, format, project, version_key,
                       "yanked = ?3 AND yanked_reason = ?4", "yanked = ?3, yanked_reason = ?4",
                       [&](Statement& stmt) {
                         stmt.Bind(3, std::int64_t{yanked ? 1 : 0}).Bind(4, stored_reason);
                       });
}

Status SqliteCatalog::SetDeprecated(std::string_view format, std::string_view project,
                                    std::string_view version_key, std::string_view message) {
  return UpdateRelease(pool_, format, project, version_key, "deprecated = ?3", "deprecated = ?3",
                       [&](Statement& stmt) { stmt.Bind(3, message); });
}

Result<std::int64_t> SqliteCatalog::ChangeSequence() {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn->Prepare("SELECT value FROM meta WHERE key = 'change_seq'"));
  PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return Internal("catalog: the change_seq row is missing from meta");
  }
  return stmt.Int(0);
}

Result<std::vector<std::pair<std::int64_t, std::int64_t>>> SqliteCatalog::AppliedMigrations() {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version"));
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return out;
    }
    out.emplace_back(stmt.Int(0), stmt.Int(1));
  }
}

}  // namespace pipy::catalog
