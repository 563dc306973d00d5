// PostgresCatalog: projects, releases, yanks (PEP 592), deprecations, the change sequence and
// tokens.
#include "catalog/attributes.h"
#include "catalog/postgres_catalog.h"
#include "catalog/postgres_catalog_internal.h"
#include "catalog/token_scopes.h"

namespace pipy::catalog {

using pg::Connection;
using pg::Rows;

namespace {

// last_upload_ms is MAX over the project's files; the files_by_project index answers it.
constexpr std::string_view kSelectProject =
    "SELECT p.format, p.name, p.display_name, p.created_ms,"
    " COALESCE((SELECT MAX(f.upload_time_ms) FROM files f WHERE f.project_id = p.id), 0)"
    " FROM projects p";

ProjectRecord ReadProjectRow(const Rows& rows, int i) {
  return ProjectRecord{rows.Text(i, 0), rows.Text(i, 1), rows.Text(i, 2), rows.Int(i, 3),
                       rows.Int(i, 4)};
}

constexpr std::string_view kSelectToken =
    "SELECT name, hash, scopes, created_ms, revoked, expires_ms, last_used_ms FROM tokens";

TokenRecord ReadTokenRow(const Rows& rows, int i) {
  return TokenRecord{rows.Text(i, 0), rows.Text(i, 1), SplitScopes(rows.Text(i, 2)),
                     rows.Int(i, 3), rows.Bool(i, 4), rows.Int(i, 5), rows.Int(i, 6)};
}

}  // namespace

Result<std::int64_t> PostgresProjectId(Connection& conn, std::string_view format,
                                       std::string_view project) {
  PIPY_ASSIGN_OR_RETURN(Rows rows,
                        conn.Execute("SELECT id FROM projects WHERE format = $1 AND name = $2",
                                     {format, project}));
  return rows.empty() ? 0 : rows.Int(0, 0);
}

Result<PostgresReleaseIds> PostgresLockRelease(Connection& conn, std::string_view format,
                                               std::string_view project,
                                               std::string_view version_key) {
  PIPY_ASSIGN_OR_RETURN(
      Rows rows,
      conn.Execute("SELECT r.project_id, r.id FROM releases r"
                   " JOIN projects p ON p.id = r.project_id"
                   " WHERE p.format = $1 AND p.name = $2 AND r.version_key = $3 FOR UPDATE OF r",
                   {format, project, version_key}));
  if (rows.empty()) {
    return NotFound("no release " + std::string(version_key) + " of project " +
                    std::string(project));
  }
  return PostgresReleaseIds{rows.Int(0, 0), rows.Int(0, 1)};
}

Result<std::optional<ProjectRecord>> PostgresCatalog::FindProject(std::string_view format,
                                                                  std::string_view project) {
  std::optional<ProjectRecord> out;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(Rows rows,
                          conn.Execute(std::string(kSelectProject) +
                                           " WHERE p.format = $1 AND p.name = $2",
                                       {format, project}));
    out = rows.empty() ? std::nullopt : std::optional<ProjectRecord>(ReadProjectRow(rows, 0));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<ProjectRecord>> PostgresCatalog::ListProjects(std::string_view format) {
  std::vector<ProjectRecord> out;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    // Byte order, as SQLite sorts, whatever the database's collation.
    PIPY_ASSIGN_OR_RETURN(Rows rows,
                          conn.Execute(std::string(kSelectProject) +
                                           " WHERE p.format = $1 ORDER BY p.name COLLATE \"C\"",
                                       {format}));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      out.push_back(ReadProjectRow(rows, i));
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<ReleaseRecord>> PostgresCatalog::ListReleases(std::string_view format,
                                                                 std::string_view project) {
  std::vector<ReleaseRecord> out;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Execute("SELECT p.format, p.name, r.version, r.version_key, p.display_name,"
                     " r.summary, r.description, r.manifest_sha256, r.attributes, r.yanked,"
                     " r.yanked_reason, r.deprecated, r.created_ms"
                     " FROM releases r JOIN projects p ON p.id = r.project_id"
                     " WHERE p.format = $1 AND p.name = $2",
                     {format, project}));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      ReleaseRecord r;
      r.format = rows.Text(i, 0);
      r.project = rows.Text(i, 1);
      r.version = rows.Text(i, 2);
      r.version_key = rows.Text(i, 3);
      r.metadata.display_name = rows.Text(i, 4);
      r.metadata.summary = rows.Text(i, 5);
      r.metadata.description = rows.Text(i, 6);
      r.metadata.manifest_sha256 = rows.Text(i, 7);
      r.metadata.attributes = DecodeAttributes(rows.Text(i, 8));
      r.yanked = rows.Bool(i, 9);
      r.yanked_reason = rows.Text(i, 10);
      r.deprecated = rows.Text(i, 11);
      r.created_ms = rows.Int(i, 12);
      out.push_back(std::move(r));
    }
    return Status::Ok();
  }));
  return out;
}

Status PostgresCatalog::SetYanked(std::string_view format, std::string_view project,
                                  std::string_view version_key, bool yanked,
                                  std::string_view reason) {
  // PEP 592: un-yanking clears the reason.
  const std::string_view stored_reason = yanked ? reason : std::string_view();
  return Write([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(PostgresReleaseIds ids,
                          PostgresLockRelease(conn, format, project, version_key));
    // No write (and no new change sequence) when the release is already in that state.
    PIPY_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Execute("UPDATE releases SET yanked = $2, yanked_reason = $3"
                     " WHERE id = $1 AND (yanked <> $2 OR yanked_reason <> $3)",
                     {ids.release_id, yanked, stored_reason}));
    if (rows.Affected() == 0) {
      return Status::Ok();
    }
    return PostgresRecordChange(conn, project);
  });
}

Status PostgresCatalog::SetDeprecated(std::string_view format, std::string_view project,
                                      std::string_view version_key, std::string_view message) {
  return Write([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(PostgresReleaseIds ids,
                          PostgresLockRelease(conn, format, project, version_key));
    PIPY_ASSIGN_OR_RETURN(Rows rows,
                          conn.Execute("UPDATE releases SET deprecated = $2"
                                       " WHERE id = $1 AND deprecated <> $2",
                                       {ids.release_id, message}));
    if (rows.Affected() == 0) {
      return Status::Ok();  // already so: no write, the sequence stays
    }
    return PostgresRecordChange(conn, project);
  });
}

Result<std::int64_t> PostgresCatalog::ChangeSequence() {
  std::int64_t out = 0;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(Rows rows,
                          conn.Execute("SELECT value FROM meta WHERE key = 'change_seq'"));
    if (rows.empty()) {
      return Internal("catalog: the change_seq row is missing from meta");
    }
    out = rows.Int(0, 0);
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<std::pair<std::int64_t, std::int64_t>>> PostgresCatalog::AppliedMigrations() {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Execute("SELECT version, applied_at FROM schema_migrations ORDER BY version"));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      out.emplace_back(rows.Int(i, 0), rows.Int(i, 1));
    }
    return Status::Ok();
  }));
  return out;
}

Status PostgresCatalog::AddToken(const TokenRecord& token) {
  if (token.name.empty() || token.hash.empty()) {
    return InvalidArgument("a token needs a name and a hash");
  }
  for (const std::string& scope : token.scopes) {
    if (scope.empty() || scope.find_first_of(" \t\r\n") != std::string::npos) {
      return InvalidArgument("invalid token scope \"" + scope + "\"");
    }
  }
  const std::string scopes = JoinScopes(token.scopes);
  Status s = Write([&](Connection& conn) -> Status {
    PIPY_RETURN_IF_ERROR(
        conn.Execute("INSERT INTO tokens (name, hash, scopes, created_ms, revoked, expires_ms,"
                     " last_used_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                     {token.name, token.hash, scopes, token.created_ms, token.revoked,
                      token.expires_ms, token.last_used_ms})
            .status());
    return PostgresRecordChange(conn, "");
  });
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("a token named \"" + token.name + "\" (or with the same secret) exists");
  }
  return s;
}

Result<std::optional<TokenRecord>> PostgresCatalog::FindTokenByHash(std::string_view hash) {
  std::optional<TokenRecord> out;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(
        Rows rows, conn.Execute(std::string(kSelectToken) + " WHERE hash = $1", {hash}));
    out = rows.empty() ? std::nullopt : std::optional<TokenRecord>(ReadTokenRow(rows, 0));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<TokenRecord>> PostgresCatalog::ListTokens() {
  std::vector<TokenRecord> out;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(
        Rows rows, conn.Execute(std::string(kSelectToken) + " ORDER BY name COLLATE \"C\""));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      out.push_back(ReadTokenRow(rows, i));
    }
    return Status::Ok();
  }));
  return out;
}

Status PostgresCatalog::RevokeToken(std::string_view name) {
  return Write([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(Rows rows,
                          conn.Execute("SELECT revoked FROM tokens WHERE name = $1 FOR UPDATE",
                                       {name}));
    if (rows.empty()) {
      return NotFound("no token named \"" + std::string(name) + "\"");
    }
    if (rows.Bool(0, 0)) {
      return Status::Ok();  // already revoked
    }
    PIPY_RETURN_IF_ERROR(
        conn.Execute("UPDATE tokens SET revoked = TRUE WHERE name = $1", {name}).status());
    return PostgresRecordChange(conn, "");
  });
}

Status PostgresCatalog::TouchToken(std::string_view name, std::int64_t used_ms) {
  // No PostgresRecordChange: nothing cached depends on when a token was last used.
  return Write([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(Rows rows, conn.Execute("SELECT 1 FROM tokens WHERE name = $1",
                                                  {name}));
    if (rows.empty()) {
      return NotFound("no token named \"" + std::string(name) + "\"");
    }
    return conn
        .Execute("UPDATE tokens SET last_used_ms = $2 WHERE name = $1 AND last_used_ms < $2",
                 {name, used_ms})
        .status();
  });
}

}  // namespace pipy::catalog
