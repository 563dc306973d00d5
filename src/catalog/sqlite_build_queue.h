// SqliteBuildQueue: the BuildQueue in the SqliteCatalog's database file (same migrations).
//
// Single-node by nature: ClaimNext and the watcher lease are plain BEGIN IMMEDIATE
// transactions, which serialize every writer of the file (several processes included).
#pragma once

#include <filesystem>
#include <memory>

#include "catalog/build_queue.h"
#include "catalog/sqlite_db.h"
#include "core/status.h"

namespace pipy::catalog {

class SqliteBuildQueue final : public BuildQueue {
 public:
  // Opens (creating and migrating, like SqliteCatalog::Open) the database at `path`.
  static Result<std::unique_ptr<SqliteBuildQueue>> Open(const std::filesystem::path& path);

  Result<BuildJob> Enqueue(const NewBuild& build) override;
  Result<std::optional<BuildJob>> ClaimNext(std::string_view runner,
                                            std::int64_t now_ms) override;
  Status AppendLog(std::int64_t id, std::string_view chunk, std::uint64_t max_log_bytes) override;
  Result<std::string> ReadLog(std::int64_t id, std::uint64_t offset,
                              std::uint64_t max_bytes) override;
  Status Finish(std::int64_t id, const BuildResult& result) override;
  Result<std::optional<BuildJob>> Get(std::int64_t id) override;
  Result<std::vector<BuildJob>> List(std::int64_t before_id, int limit) override;
  Result<int> RequeueRunning(std::string_view runner_prefix) override;
  Result<std::optional<std::string>> GetSourceCommit(std::string_view source) override;
  Status SetSourceCommit(std::string_view source, std::string_view commit) override;
  Result<bool> TryAcquireWatcherLock(std::string_view source, std::string_view holder,
                                     std::int64_t now_ms, std::int64_t lease_ms) override;
  Status ReleaseWatcherLock(std::string_view source, std::string_view holder) override;

 private:
  explicit SqliteBuildQueue(const std::filesystem::path& path) : pool_(path, 4) {}

  sqlite::ConnectionPool pool_;
};

}  // namespace pipy::catalog
