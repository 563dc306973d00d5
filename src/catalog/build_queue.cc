#include "catalog/build_queue.h"

#include <system_error>

#include "catalog/postgres_build_queue.h"
#include "catalog/sqlite_build_queue.h"

namespace pipy::catalog {

std::string_view BuildStatusName(BuildStatus status) {
  switch (status) {
    case BuildStatus::kQueued:
      return "queued";
    case BuildStatus::kRunning:
      return "running";
    case BuildStatus::kPassed:
      return "passed";
    case BuildStatus::kFailed:
      return "failed";
    case BuildStatus::kSkipped:
      return "skipped";
  }
  return "failed";
}

std::optional<BuildStatus> ParseBuildStatus(std::string_view name) {
  for (BuildStatus s : {BuildStatus::kQueued, BuildStatus::kRunning, BuildStatus::kPassed,
                        BuildStatus::kFailed, BuildStatus::kSkipped}) {
    if (BuildStatusName(s) == name) {
      return s;
    }
  }
  return std::nullopt;
}

bool IsFinished(BuildStatus status) {
  return status == BuildStatus::kPassed || status == BuildStatus::kFailed ||
         status == BuildStatus::kSkipped;
}

Result<std::unique_ptr<BuildQueue>> MakeBuildQueue(const CatalogOptions& options) {
  if (options.backend == "sqlite") {
    if (options.sqlite_path.empty()) {
      return InvalidArgument("catalog backend \"sqlite\" needs a database path");
    }
    std::error_code ec;
    std::filesystem::create_directories(options.sqlite_path.parent_path(), ec);
    PIPY_ASSIGN_OR_RETURN(std::unique_ptr<SqliteBuildQueue> queue,
                          SqliteBuildQueue::Open(options.sqlite_path));
    return std::unique_ptr<BuildQueue>(std::move(queue));
  }
  if (options.backend == "postgres") {
    if (options.url.empty()) {
      return InvalidArgument("catalog backend \"postgres\" needs a url");
    }
    PIPY_ASSIGN_OR_RETURN(
        std::unique_ptr<PostgresBuildQueue> queue,
        PostgresBuildQueue::Open(PostgresOptions{options.url, options.pool_size}));
    return std::unique_ptr<BuildQueue>(std::move(queue));
  }
  return InvalidArgument("the build queue has no \"" + options.backend + "\" backend");
}

}  // namespace pipy::catalog
