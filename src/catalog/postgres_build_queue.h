// PostgresBuildQueue: the BuildQueue in the PostgresCatalog's database (same migrations), for
// builders on several nodes.
//
// ClaimNext takes the oldest claimable job with FOR NO KEY UPDATE SKIP LOCKED, so runners on
// any number of nodes never share a job nor wait for each other. The watcher lock is a
// session-level advisory lock (pg_try_advisory_lock) held by a connection kept open per
// holder: it is freed when the holder releases it, its process dies or its connection
// breaks (the next TryAcquireWatcherLock then reports the loss or takes it anew); the lease
// arguments are not needed. Log chunks are bytea, so logs may hold any bytes.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "catalog/build_queue.h"
#include "catalog/postgres_catalog.h"
#include "catalog/postgres_db.h"
#include "core/status.h"

namespace pipy::catalog {

class PostgresBuildQueue final : public BuildQueue {
 public:
  // Connects and migrates like PostgresCatalog::Open (same errors).
  static Result<std::unique_ptr<PostgresBuildQueue>> Open(const PostgresOptions& options);

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
  PostgresBuildQueue(pg::ConnectSettings settings, std::size_t pool_size)
      : pool_(std::move(settings), pool_size) {}

  pg::ConnectionPool pool_;
  std::mutex locks_mu_;
  // (source, holder) -> the connection holding that watcher's advisory lock.
  std::map<std::pair<std::string, std::string>, std::unique_ptr<pg::Connection>> locks_;
};

}  // namespace pipy::catalog
