// `pipy audit`: the audit log (index/audit_log.h) on the command line, read straight from
// the catalog, so it works while servers run and when none does.
#include <boost/json.hpp>
#include <iostream>

#include "app/audit_routes.h"
#include "cli/commands.h"

namespace pipy::cli {

namespace {

// Records per catalog query: pages the way the API does, so a long log is never held
// whole in memory.
constexpr std::int64_t kPageSize = 500;

}  // namespace

int Audit(const config::Config& config, catalog::AuditQuery query) {
  auto repo = OpenRepository(config);
  if (!repo) {
    std::cerr << "pipy: " << repo.error().message() << "\n";
    return 1;
  }
  std::int64_t left = query.limit;  // 0: no limit
  for (;;) {
    catalog::AuditQuery page = query;
    page.limit = left == 0 ? kPageSize : std::min(left, kPageSize);
    auto records = repo->catalog->ListAudit(page);
    if (!records) {
      std::cerr << "pipy: " << records.error().message() << "\n";
      return 1;
    }
    for (const catalog::AuditRecord& record : *records) {
      std::cout << boost::json::serialize(app::AuditRecordJson(record)) << "\n";
    }
    if (left != 0) {
      left -= static_cast<std::int64_t>(records->size());
    }
    if (static_cast<std::int64_t>(records->size()) < page.limit ||
        (query.limit != 0 && left <= 0)) {
      break;
    }
    query.before_id = records->back().id;
  }
  std::cout.flush();
  return 0;
}

}  // namespace pipy::cli
