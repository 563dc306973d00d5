// PostgresCatalog: the audit log.
#include "catalog/audit_query.h"
#include "catalog/postgres_catalog.h"

namespace pipy::catalog {

using pg::Connection;
using pg::Rows;

Status PostgresCatalog::AppendAudit(const AuditRecord& record) {
  if (record.action.empty() || record.outcome.empty()) {
    return InvalidArgument("an audit record needs an action and an outcome");
  }
  // The uid is chosen once, so a retried transaction inserts the record at most once.
  const std::string uid = record.uid.empty() ? NewAuditUid() : record.uid;
  const std::string sql = AuditInsertSql('$');
  // No PostgresRecordChange: nothing cached depends on the audit log.
  return Write([&](Connection& conn) -> Status {
    return conn
        .Execute(sql, {uid, record.time_ms, record.token, record.address, record.action,
                       record.format, record.project, record.target, record.outcome})
        .status();
  });
}

Result<std::vector<AuditRecord>> PostgresCatalog::ListAudit(const AuditQuery& query) {
  const std::string sql = AuditSelectSql(query, '$');
  std::vector<AuditRecord> out;
  PIPY_RETURN_IF_ERROR(Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(
        Rows rows, conn.Execute(sql, {query.project, query.token, query.action, AuditSince(query),
                                      AuditBefore(query), AuditLimit(query)}));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      out.push_back(AuditRecord{rows.Int(i, 0), rows.Int(i, 1), rows.Text(i, 2), rows.Text(i, 3),
                                rows.Text(i, 4), rows.Text(i, 5), rows.Text(i, 6), rows.Text(i, 7),
                                rows.Text(i, 8), rows.Text(i, 9)});
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace pipy::catalog
