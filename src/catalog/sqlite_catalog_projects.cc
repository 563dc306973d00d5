// SqliteCatalog: projects, releases, yanks (PEP 592) and the change sequence.
#include "catalog/sqlite_catalog.h"
#include "catalog/sqlite_catalog_internal.h"

namespace pipy::catalog {

using sqlite::Statement;
using sqlite::Transaction;

namespace {

// last_upload_ms is MAX over the project's files; the files_by_project index
// (project_id, upload_time_ms) answers it without touching the table.
constexpr std::string_view kSelectProject =
    "SELECT p.name, p.display_name, p.created_ms,"
    " COALESCE((SELECT MAX(f.upload_time_ms) FROM files f WHERE f.project_id = p.id), 0)"
    " FROM projects p";

ProjectRecord ReadProjectRow(const Statement& stmt) {
  return ProjectRecord{stmt.Text(0), stmt.Text(1), stmt.Int(2), stmt.Int(3)};
}

}  // namespace

Result<std::optional<ProjectRecord>> SqliteCatalog::FindProject(std::string_view project) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn->Prepare(std::string(kSelectProject) + " WHERE p.name = ?1"));
  PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, project).Step());
  if (!row) {
    return std::optional<ProjectRecord>();
  }
  return std::optional<ProjectRecord>(ReadProjectRow(stmt));
}

Result<std::vector<ProjectRecord>> SqliteCatalog::ListProjects() {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn->Prepare(std::string(kSelectProject) + " ORDER BY p.name"));
  std::vector<ProjectRecord> out;
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return out;
    }
    out.push_back(ReadProjectRow(stmt));
  }
}

Result<std::vector<ReleaseRecord>> SqliteCatalog::ListReleases(std::string_view project) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare("SELECT p.name, r.version, p.display_name, r.summary, r.description,"
                    " r.description_content_type, r.requires_python, r.yanked, r.yanked_reason,"
                    " r.created_ms"
                    " FROM releases r JOIN projects p ON p.id = r.project_id WHERE p.name = ?1"));
  stmt.Bind(1, project);
  std::vector<ReleaseRecord> out;
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return out;
    }
    ReleaseRecord r;
    r.project = stmt.Text(0);
    r.version = stmt.Text(1);
    r.metadata.display_name = stmt.Text(2);
    r.metadata.summary = stmt.Text(3);
    r.metadata.description = stmt.Text(4);
    r.metadata.description_content_type = stmt.Text(5);
    r.metadata.requires_python = stmt.Text(6);
    r.yanked = stmt.Int(7) != 0;
    r.yanked_reason = stmt.Text(8);
    r.created_ms = stmt.Int(9);
    out.push_back(std::move(r));
  }
}

Status SqliteCatalog::SetYanked(std::string_view project, std::string_view version, bool yanked,
                                std::string_view reason) {
  // PEP 592: un-yanking clears the reason.
  const std::string_view stored_reason = yanked ? reason : std::string_view();
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn));
  {
    PIPY_ASSIGN_OR_RETURN(Statement stmt,
                          conn->Prepare("SELECT r.yanked, r.yanked_reason FROM releases r"
                                        " JOIN projects p ON p.id = r.project_id"
                                        " WHERE p.name = ?1 AND r.version = ?2"));
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, project).Bind(2, version).Step());
    if (!row) {
      return NotFound("no release " + std::string(version) + " of project " + std::string(project));
    }
    if ((stmt.Int(0) != 0) == yanked && stmt.Text(1) == stored_reason) {
      return Status::Ok();  // already in that state: no write, the sequence stays
    }
  }
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare(
          "UPDATE releases SET yanked = ?3, yanked_reason = ?4"
          " WHERE version = ?2 AND project_id = (SELECT id FROM projects WHERE name = ?1)"));
  PIPY_RETURN_IF_ERROR(stmt.Bind(1, project)
                           .Bind(2, version)
                           .Bind(3, std::int64_t{yanked ? 1 : 0})
                           .Bind(4, stored_reason)
                           .Run());
  PIPY_RETURN_IF_ERROR(BumpChangeSequence(*conn));
  return txn.Commit();
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
