// Shared by the SQLite and PostgreSQL audit code; not part of the catalog's interface.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "catalog/catalog.h"

namespace pipy::catalog {

// The SELECT behind ListAudit, with `$N`-style parameters: 1 project, 2 token, 3 action
// (each matched only when not empty: an unused one is compared with '' so every variant
// takes all six parameters), 4 the lowest time_ms, 5 the id to stay below, 6 the limit. A
// filter that is set is a plain equality, so the backend can use its index.
inline std::string AuditSelectSql(const AuditQuery& query, char placeholder) {
  auto param = [placeholder](int n) { return std::string(1, placeholder) + std::to_string(n); };
  auto match = [&](const std::string& value, const char* column, int n) {
    return value.empty() ? param(n) + " = ''" : std::string(column) + " = " + param(n);
  };
  return "SELECT id, time_ms, token, address, action, format, project, target, outcome, uid"
         " FROM audit WHERE " +
         match(query.project, "project", 1) + " AND " + match(query.token, "token", 2) + " AND " +
         match(query.action, "action", 3) + " AND time_ms >= " + param(4) + " AND id < " +
         param(5) + " ORDER BY id DESC LIMIT " + param(6);
}

// Parameters 4 to 6 of AuditSelectSql: "no bound" as the extreme values.
inline std::int64_t AuditSince(const AuditQuery& query) {
  return query.since_ms == 0 ? std::numeric_limits<std::int64_t>::min() : query.since_ms;
}
inline std::int64_t AuditBefore(const AuditQuery& query) {
  return query.before_id <= 0 ? std::numeric_limits<std::int64_t>::max() : query.before_id;
}
inline std::int64_t AuditLimit(const AuditQuery& query) {
  return query.limit < 1 ? 1 : query.limit;
}

inline constexpr std::string_view kInsertAuditSql =
    "INSERT INTO audit (uid, time_ms, token, address, action, format, project, target,"
    " outcome) VALUES (%1, %2, %3, %4, %5, %6, %7, %8, %9) ON CONFLICT (uid) DO NOTHING";

// kInsertAuditSql with `placeholder` ('?' or '$') in place of '%'.
inline std::string AuditInsertSql(char placeholder) {
  std::string sql(kInsertAuditSql);
  for (char& c : sql) {
    if (c == '%') {
      c = placeholder;
    }
  }
  return sql;
}

}  // namespace pipy::catalog
