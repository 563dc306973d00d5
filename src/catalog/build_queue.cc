#include "catalog/build_queue.h"

#include <algorithm>
#include <charconv>
#include <system_error>

#include "catalog/build_queue_internal.h"
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

namespace internal {

Status CheckNewBuild(const NewBuild& build) {
  if (build.source.empty() || build.module.empty() || build.commit.empty()) {
    return InvalidArgument("a build needs a source, a module and a commit");
  }
  if (build.format != "python" && build.format != "npm") {
    return InvalidArgument("a build's format is \"python\" or \"npm\", not \"" +
                           build.format + "\"");
  }
  if (build.finished_as.has_value() && *build.finished_as != BuildStatus::kFailed &&
      *build.finished_as != BuildStatus::kSkipped) {
    return InvalidArgument("a build is enqueued finished only as failed or skipped");
  }
  return Status::Ok();
}

std::vector<std::int64_t> SortedUnique(std::vector<std::int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::vector<std::int64_t> ParseIdList(std::string_view csv) {
  std::vector<std::int64_t> ids;
  while (!csv.empty()) {
    const std::size_t comma = std::min(csv.find(','), csv.size());
    std::int64_t id = 0;
    const std::string_view item = csv.substr(0, comma);
    // The databases only ever return integers here; anything else is skipped.
    if (std::from_chars(item.data(), item.data() + item.size(), id).ec == std::errc()) {
      ids.push_back(id);
    }
    csv.remove_prefix(std::min(comma + 1, csv.size()));
  }
  return SortedUnique(std::move(ids));
}

}  // namespace internal

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
