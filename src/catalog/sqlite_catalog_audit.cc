// SqliteCatalog: the audit log.
#include "catalog/audit_query.h"
#include "catalog/sqlite_catalog.h"

namespace pipy::catalog {

using sqlite::Statement;

Status SqliteCatalog::AppendAudit(const AuditRecord& record) {
  if (record.action.empty() || record.outcome.empty()) {
    return InvalidArgument("an audit record needs an action and an outcome");
  }
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // One statement in autocommit: no transaction of its own and no change-sequence bump, and
  // no flush of its own: the record reaches stable storage with the next durable commit
  // (LogSync) or checkpoint, so a power loss right after the change may lose it.
  PIPY_ASSIGN_OR_RETURN(Statement stmt, conn->Prepare(AuditInsertSql('?')));
  return stmt.Bind(1, record.uid.empty() ? NewAuditUid() : record.uid)
      .Bind(2, record.time_ms)
      .Bind(3, record.token)
      .Bind(4, record.address)
      .Bind(5, record.action)
      .Bind(6, record.format)
      .Bind(7, record.project)
      .Bind(8, record.target)
      .Bind(9, record.outcome)
      .Run();
}

Result<std::vector<AuditRecord>> SqliteCatalog::ListAudit(const AuditQuery& query) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Statement stmt, conn->Prepare(AuditSelectSql(query, '?')));
  stmt.Bind(1, query.project)
      .Bind(2, query.token)
      .Bind(3, query.action)
      .Bind(4, AuditSince(query))
      .Bind(5, AuditBefore(query))
      .Bind(6, AuditLimit(query));
  std::vector<AuditRecord> out;
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return out;
    }
    out.push_back(AuditRecord{stmt.Int(0), stmt.Int(1), stmt.Text(2), stmt.Text(3), stmt.Text(4),
                              stmt.Text(5), stmt.Text(6), stmt.Text(7), stmt.Text(8),
                              stmt.Text(9)});
  }
}

}  // namespace pipy::catalog
