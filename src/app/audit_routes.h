// The admin API for the audit log (index/audit_log.h):
//
//   GET /api/audit?project=&token=&action=&since=&limit=&cursor=
//
// answers {"records": [...], "next_cursor": "..." | null}, newest first. Each record is
// {"time" (RFC 3339, UTC, ms), "token", "address", "action", "format", "project",
// "target", "outcome"}. `project` (normalized name), `token` (name) and `action` match
// exactly; `since` is Unix seconds ("1764763200") or RFC 3339 ("2026-12-03T12:00:00Z",
// an offset such as "+01:00" allowed); `limit` is 1..1000 (default 100); `cursor` is a
// next_cursor from an earlier answer (the same filters). A bad or unknown parameter: 400
// naming it. Admin tokens only: no token is 401, any other token 403.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string_view>
#include <vector>

#include "app/access.h"
#include "catalog/catalog.h"
#include "core/status.h"
#include "http/router.h"

namespace pipy::app {

inline constexpr std::int64_t kDefaultAuditLimit = 100;
inline constexpr std::int64_t kMaxAuditLimit = 1000;

// `catalog` and `access` must outlive the router.
void RegisterAuditRoutes(http::Router& router, catalog::Catalog& catalog, const Access& access);

// Unix milliseconds of `text`: Unix seconds (digits only) or an RFC 3339 date-time;
// kInvalidArgument otherwise.
Result<std::int64_t> ParseAuditTime(std::string_view text);

// The query of a raw query string (see the header comment); kInvalidArgument naming the
// first bad or unknown parameter. `limit` is the page size asked for.
Result<catalog::AuditQuery> ParseAuditQuery(std::string_view query_string);

// One record as the API and `pipy audit` show it.
boost::json::object AuditRecordJson(const catalog::AuditRecord& record);

}  // namespace pipy::app
