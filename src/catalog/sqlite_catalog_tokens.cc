// SqliteCatalog: API tokens. Only the sha256 of a secret is stored.
#include "catalog/sqlite_catalog.h"
#include "catalog/sqlite_catalog_internal.h"
#include "catalog/token_scopes.h"

namespace pipy::catalog {

using sqlite::Statement;
using sqlite::Transaction;

namespace {

constexpr std::string_view kSelectToken =
    "SELECT name, hash, scopes, created_ms, revoked, expires_ms, last_used_ms FROM tokens";

TokenRecord ReadTokenRow(const Statement& stmt) {
  return TokenRecord{stmt.Text(0), stmt.Text(1), SplitScopes(stmt.Text(2)), stmt.Int(3),
                     stmt.Int(4) != 0, stmt.Int(5), stmt.Int(6)};
}

}  // namespace

Status SqliteCatalog::AddToken(const TokenRecord& token) {
  if (token.name.empty() || token.hash.empty()) {
    return InvalidArgument("a token needs a name and a hash");
  }
  for (const std::string& scope : token.scopes) {
    if (scope.empty() || scope.find_first_of(" \t\r\n") != std::string::npos) {
      return InvalidArgument("invalid token scope \"" + scope + "\"");
    }
  }
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn));
  {
    PIPY_ASSIGN_OR_RETURN(Statement stmt,
                          conn->Prepare("SELECT 1 FROM tokens WHERE name = ?1 OR hash = ?2"));
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, token.name).Bind(2, token.hash).Step());
    if (row) {
      return AlreadyExists("a token named \"" + token.name + "\" (or with the same secret) exists");
    }
  }
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn->Prepare("INSERT INTO tokens (name, hash, scopes, created_ms, revoked,"
                                      " expires_ms, last_used_ms)"
                                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  PIPY_RETURN_IF_ERROR(stmt.Bind(1, token.name)
                           .Bind(2, token.hash)
                           .Bind(3, JoinScopes(token.scopes))
                           .Bind(4, token.created_ms)
                           .Bind(5, std::int64_t{token.revoked ? 1 : 0})
                           .Bind(6, token.expires_ms)
                           .Bind(7, token.last_used_ms)
                           .Run());
  PIPY_RETURN_IF_ERROR(BumpChangeSequence(*conn));
  return txn.Commit();
}

Result<std::optional<TokenRecord>> SqliteCatalog::FindTokenByHash(std::string_view hash) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn->Prepare(std::string(kSelectToken) + " WHERE hash = ?1"));
  PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, hash).Step());
  if (!row) {
    return std::optional<TokenRecord>();
  }
  return std::optional<TokenRecord>(ReadTokenRow(stmt));
}

Result<std::vector<TokenRecord>> SqliteCatalog::ListTokens() {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn->Prepare(std::string(kSelectToken) + " ORDER BY name"));
  std::vector<TokenRecord> out;
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return out;
    }
    out.push_back(ReadTokenRow(stmt));
  }
}

Status SqliteCatalog::RevokeToken(std::string_view name) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn));
  {
    PIPY_ASSIGN_OR_RETURN(Statement stmt,
                          conn->Prepare("SELECT revoked FROM tokens WHERE name = ?1"));
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, name).Step());
    if (!row) {
      return NotFound("no token named \"" + std::string(name) + "\"");
    }
    if (stmt.Int(0) != 0) {
      return Status::Ok();  // already revoked
    }
  }
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn->Prepare("UPDATE tokens SET revoked = 1 WHERE name = ?1"));
  PIPY_RETURN_IF_ERROR(stmt.Bind(1, name).Run());
  PIPY_RETURN_IF_ERROR(BumpChangeSequence(*conn));
  return txn.Commit();
}

Status SqliteCatalog::TouchToken(std::string_view name, std::int64_t used_ms) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  {
    PIPY_ASSIGN_OR_RETURN(Statement stmt, conn->Prepare("SELECT 1 FROM tokens WHERE name = ?1"));
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, name).Step());
    if (!row) {
      return NotFound("no token named \"" + std::string(name) + "\"");
    }
  }
  // No change-sequence bump: nothing cached depends on when a token was last used.
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn->Prepare("UPDATE tokens SET last_used_ms = ?2"
                                      " WHERE name = ?1 AND last_used_ms < ?2"));
  return stmt.Bind(1, name).Bind(2, used_ms).Run();
}

}  // namespace pipy::catalog
