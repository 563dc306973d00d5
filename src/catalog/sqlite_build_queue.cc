#include "catalog/sqlite_build_queue.h"

#include <algorithm>

#include "catalog/build_queue_internal.h"
#include "catalog/sqlite_catalog.h"

namespace pipy::catalog {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

namespace {

// The last column is the job's waits_for, comma-separated in no particular order.
constexpr std::string_view kSelectBuild =
    "SELECT id, source, module, commit_sha, project, version, status, message, runner,"
    " created_ms, started_ms, finished_ms, log_bytes, format, blocked_by,"
    " (SELECT group_concat(w.waits_for) FROM build_waits w WHERE w.build_id = builds.id)"
    " FROM builds";

// The oldest queued job none of whose dependencies is queued or running. A dependency never
// leaves the finished states, so a job found claimable here stays claimable.
constexpr std::string_view kSelectClaimable =
    "SELECT b.id FROM builds b WHERE b.status = 'queued' AND NOT EXISTS"
    " (SELECT 1 FROM build_waits w JOIN builds d ON d.id = w.waits_for"
    " WHERE w.build_id = b.id AND d.status IN ('queued', 'running'))"
    " ORDER BY b.id LIMIT 1";

BuildJob ReadBuildRow(const Statement& stmt) {
  BuildJob job;
  job.id = stmt.Int(0);
  job.source = stmt.Text(1);
  job.module = stmt.Text(2);
  job.commit = stmt.Text(3);
  job.project = stmt.Text(4);
  job.version = stmt.Text(5);
  // Rows are only ever written with BuildStatusName values.
  job.status = ParseBuildStatus(stmt.Text(6)).value_or(BuildStatus::kFailed);
  job.message = stmt.Text(7);
  job.runner = stmt.Text(8);
  job.created_ms = stmt.Int(9);
  job.started_ms = stmt.Int(10);
  job.finished_ms = stmt.Int(11);
  job.log_bytes = static_cast<std::uint64_t>(stmt.Int(12));
  job.format = stmt.Text(13);
  job.blocked_by = stmt.Int(14);
  job.waits_for = internal::ParseIdList(stmt.Text(15));
  return job;
}

Result<std::optional<BuildJob>> GetBuild(Connection& conn, std::int64_t id) {
  PIPY_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(std::string(kSelectBuild) + " WHERE id = ?1"));
  PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, id).Step());
  if (!row) {
    return std::optional<BuildJob>();
  }
  return std::optional<BuildJob>(ReadBuildRow(stmt));
}

// Stores `data` at the end of the log of build `id`, whose current length is `log_bytes`.
Status InsertChunk(Connection& conn, std::int64_t id, std::uint64_t log_bytes,
                   std::string_view data, bool truncated) {
  if (data.empty() && !truncated) {
    return Status::Ok();
  }
  if (!data.empty()) {
    PIPY_ASSIGN_OR_RETURN(Statement insert,
                          conn.Prepare("INSERT INTO build_log_chunks (build_id, start_byte, size,"
                                       " data) VALUES (?1, ?2, ?3, ?4)"));
    PIPY_RETURN_IF_ERROR(insert.Bind(1, id)
                             .Bind(2, static_cast<std::int64_t>(log_bytes))
                             .Bind(3, static_cast<std::int64_t>(data.size()))
                             .Bind(4, data)
                             .Run());
  }
  PIPY_ASSIGN_OR_RETURN(Statement update,
                        conn.Prepare("UPDATE builds SET log_bytes = ?2,"
                                     " log_truncated = MAX(log_truncated, ?3) WHERE id = ?1"));
  return update.Bind(1, id)
      .Bind(2, static_cast<std::int64_t>(log_bytes + data.size()))
      .Bind(3, std::int64_t{truncated ? 1 : 0})
      .Run();
}

}  // namespace

Result<std::unique_ptr<SqliteBuildQueue>> SqliteBuildQueue::Open(
    const std::filesystem::path& path) {
  // The catalog owns the schema: opening it applies the builder's migrations (2 and 4).
  PIPY_ASSIGN_OR_RETURN(std::unique_ptr<SqliteCatalog> migrated, SqliteCatalog::Open(path));
  migrated.reset();
  return std::unique_ptr<SqliteBuildQueue>(new SqliteBuildQueue(path));
}

Result<BuildJob> SqliteBuildQueue::Enqueue(const NewBuild& build) {
  PIPY_RETURN_IF_ERROR(internal::CheckNewBuild(build));
  const std::vector<std::int64_t> waits_for = internal::SortedUnique(build.waits_for);
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn));
  for (std::int64_t dependency : waits_for) {
    PIPY_ASSIGN_OR_RETURN(Statement stmt, conn->Prepare("SELECT 1 FROM builds WHERE id = ?1"));
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, dependency).Step());
    if (!row) {
      return InvalidArgument("a build cannot wait for build " + std::to_string(dependency) +
                             ", which does not exist");
    }
  }
  std::int64_t id = 0;
  if (!build.finished_as.has_value()) {
    PIPY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn->Prepare("SELECT id FROM builds WHERE source = ?1 AND module = ?2 AND"
                      " format = ?3 AND commit_sha = ?4 AND status IN ('queued', 'running')"
                      " ORDER BY id LIMIT 1"));
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, build.source)
                                        .Bind(2, build.module)
                                        .Bind(3, build.format)
                                        .Bind(4, build.commit)
                                        .Step());
    id = row ? stmt.Int(0) : 0;
  }
  if (id == 0) {
    // A job enqueued finished (a module in a dependency cycle) never ran: it ends when made.
    const bool finished = build.finished_as.has_value();
    PIPY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn->Prepare("INSERT INTO builds (source, module, format, commit_sha, status, message,"
                      " created_ms, finished_ms, project, version)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
    PIPY_RETURN_IF_ERROR(
        stmt.Bind(1, build.source)
            .Bind(2, build.module)
            .Bind(3, build.format)
            .Bind(4, build.commit)
            .Bind(5, finished ? BuildStatusName(*build.finished_as) : "queued")
            .Bind(6, finished ? std::string_view(build.message) : std::string_view())
            .Bind(7, build.created_ms)
            .Bind(8, finished ? build.created_ms : 0)
            .Bind(9, build.project)
            .Bind(10, build.version)
            .Run());
    id = sqlite3_last_insert_rowid(conn->db());
    for (std::int64_t dependency : waits_for) {
      PIPY_ASSIGN_OR_RETURN(
          Statement insert,
          conn->Prepare("INSERT INTO build_waits (build_id, waits_for) VALUES (?1, ?2)"));
      PIPY_RETURN_IF_ERROR(insert.Bind(1, id).Bind(2, dependency).Run());
    }
  }
  PIPY_ASSIGN_OR_RETURN(std::optional<BuildJob> job, GetBuild(*conn, id));
  PIPY_RETURN_IF_ERROR(txn.Commit());
  if (!job) {
    return Internal("build " + std::to_string(id) + " vanished while being enqueued");
  }
  return *job;
}

Result<std::optional<BuildJob>> SqliteBuildQueue::ClaimNext(std::string_view runner,
                                                            std::int64_t now_ms) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn));
  std::int64_t id = 0;
  {
    PIPY_ASSIGN_OR_RETURN(Statement stmt, conn->Prepare(kSelectClaimable));
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return std::optional<BuildJob>();
    }
    id = stmt.Int(0);
  }
  {
    PIPY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn->Prepare("UPDATE builds SET status = 'running', runner = ?2, started_ms = ?3,"
                      " finished_ms = 0 WHERE id = ?1"));
    PIPY_RETURN_IF_ERROR(stmt.Bind(1, id).Bind(2, runner).Bind(3, now_ms).Run());
  }
  PIPY_ASSIGN_OR_RETURN(std::optional<BuildJob> job, GetBuild(*conn, id));
  PIPY_RETURN_IF_ERROR(txn.Commit());
  return job;
}

Status SqliteBuildQueue::AppendLog(std::int64_t id, std::string_view chunk,
                                   std::uint64_t max_log_bytes) {
  if (chunk.empty()) {
    return Status::Ok();
  }
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn));
  std::uint64_t log_bytes = 0;
  {
    PIPY_ASSIGN_OR_RETURN(
        Statement stmt, conn->Prepare("SELECT log_bytes, log_truncated FROM builds WHERE id = ?1"));
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, id).Step());
    if (!row) {
      return NotFound("no build " + std::to_string(id));
    }
    if (stmt.Int(1) != 0) {
      return Status::Ok();  // already cut off: later output is dropped
    }
    log_bytes = static_cast<std::uint64_t>(stmt.Int(0));
  }
  const std::uint64_t room = max_log_bytes > log_bytes ? max_log_bytes - log_bytes : 0;
  if (chunk.size() <= room) {
    PIPY_RETURN_IF_ERROR(InsertChunk(*conn, id, log_bytes, chunk, false));
  } else {
    std::string kept(chunk.substr(0, static_cast<std::size_t>(room)));
    kept += "\n[log truncated at " + std::to_string(max_log_bytes) + " bytes]\n";
    PIPY_RETURN_IF_ERROR(InsertChunk(*conn, id, log_bytes, kept, true));
  }
  return txn.Commit();
}

Result<std::string> SqliteBuildQueue::ReadLog(std::int64_t id, std::uint64_t offset,
                                              std::uint64_t max_bytes) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(std::optional<BuildJob> job, GetBuild(*conn, id));
  if (!job) {
    return NotFound("no build " + std::to_string(id));
  }
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare("SELECT start_byte, data FROM build_log_chunks WHERE build_id = ?1 AND"
                    " start_byte + size > ?2 ORDER BY start_byte"));
  stmt.Bind(1, id).Bind(2, static_cast<std::int64_t>(offset));
  std::string out;
  while (out.size() < max_bytes) {
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      break;
    }
    const auto start = static_cast<std::uint64_t>(stmt.Int(0));
    std::string data = stmt.Text(1);
    std::size_t skip = offset > start ? static_cast<std::size_t>(offset - start) : 0;
    if (skip >= data.size()) {
      continue;
    }
    std::size_t take = std::min<std::size_t>(data.size() - skip,
                                             static_cast<std::size_t>(max_bytes - out.size()));
    out.append(data, skip, take);
  }
  return out;
}

Status SqliteBuildQueue::Finish(std::int64_t id, const BuildResult& result) {
  if (!IsFinished(result.status)) {
    return InvalidArgument("a build finishes as passed, failed or skipped");
  }
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn));
  PIPY_ASSIGN_OR_RETURN(std::optional<BuildJob> job, GetBuild(*conn, id));
  if (!job) {
    return NotFound("no build " + std::to_string(id));
  }
  if (job->status != BuildStatus::kRunning) {
    return AlreadyExists("build " + std::to_string(id) + " is " +
                              std::string(BuildStatusName(job->status)) + ", not running");
  }
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare("UPDATE builds SET status = ?2, message = ?3,"
                    " project = CASE WHEN ?4 = '' THEN project ELSE ?4 END,"
                    " version = CASE WHEN ?5 = '' THEN version ELSE ?5 END,"
                    " finished_ms = ?6, blocked_by = ?7 WHERE id = ?1"));
  PIPY_RETURN_IF_ERROR(stmt.Bind(1, id)
                           .Bind(2, BuildStatusName(result.status))
                           .Bind(3, result.message)
                           .Bind(4, result.project)
                           .Bind(5, result.version)
                           .Bind(6, result.finished_ms)
                           .Bind(7, result.blocked_by)
                           .Run());
  return txn.Commit();
}

Result<std::optional<BuildJob>> SqliteBuildQueue::Get(std::int64_t id) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return GetBuild(*conn, id);
}

Result<std::vector<BuildJob>> SqliteBuildQueue::List(std::int64_t before_id, int limit) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare(std::string(kSelectBuild) + " WHERE ?1 <= 0 OR id < ?1 ORDER BY id DESC LIMIT ?2"));
  stmt.Bind(1, before_id).Bind(2, static_cast<std::int64_t>(std::max(limit, 0)));
  std::vector<BuildJob> out;
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return out;
    }
    out.push_back(ReadBuildRow(stmt));
  }
}

Result<int> SqliteBuildQueue::RequeueRunning(std::string_view runner_prefix) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn));
  std::vector<std::pair<std::int64_t, std::uint64_t>> jobs;  // id, log_bytes
  {
    PIPY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn->Prepare("SELECT id, log_bytes FROM builds WHERE status = 'running' AND"
                      " substr(runner, 1, length(?1)) = ?1 ORDER BY id"));
    stmt.Bind(1, runner_prefix);
    for (;;) {
      PIPY_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) {
        break;
      }
      jobs.emplace_back(stmt.Int(0), static_cast<std::uint64_t>(stmt.Int(1)));
    }
  }
  for (const auto& [id, log_bytes] : jobs) {
    {
      PIPY_ASSIGN_OR_RETURN(
          Statement stmt,
          conn->Prepare("UPDATE builds SET status = 'queued', started_ms = 0 WHERE id = ?1"));
      PIPY_RETURN_IF_ERROR(stmt.Bind(1, id).Run());
    }
    PIPY_RETURN_IF_ERROR(InsertChunk(
        *conn, id, log_bytes, "\n[pipy: the build was interrupted (restart); re-queued]\n", false));
  }
  PIPY_RETURN_IF_ERROR(txn.Commit());
  return static_cast<int>(jobs.size());
}

Result<std::optional<std::string>> SqliteBuildQueue::GetSourceCommit(std::string_view source) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Statement stmt,
                        conn->Prepare("SELECT last_commit FROM source_state WHERE source = ?1"));
  PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, source).Step());
  if (!row) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(stmt.Text(0));
}

Status SqliteBuildQueue::SetSourceCommit(std::string_view source, std::string_view commit) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare("INSERT INTO source_state (source, last_commit) VALUES (?1, ?2)"
                    " ON CONFLICT (source) DO UPDATE SET last_commit = excluded.last_commit"));
  PIPY_RETURN_IF_ERROR(stmt.Bind(1, source).Bind(2, commit).Run());
  return conn->SyncLog();  // a commit recorded as built is never built again
}

Result<bool> SqliteBuildQueue::TryAcquireWatcherLock(std::string_view source,
                                                     std::string_view holder,
                                                     std::int64_t now_ms, std::int64_t lease_ms) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*conn));
  {
    PIPY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn->Prepare("SELECT holder, expires_ms FROM watcher_locks WHERE source = ?1"));
    PIPY_ASSIGN_OR_RETURN(bool row, stmt.Bind(1, source).Step());
    if (row && stmt.Text(0) != holder && now_ms < stmt.Int(1)) {
      return false;
    }
  }
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare("INSERT INTO watcher_locks (source, holder, expires_ms) VALUES (?1, ?2, ?3)"
                    " ON CONFLICT (source) DO UPDATE SET holder = excluded.holder,"
                    " expires_ms = excluded.expires_ms"));
  PIPY_RETURN_IF_ERROR(stmt.Bind(1, source).Bind(2, holder).Bind(3, now_ms + lease_ms).Run());
  PIPY_RETURN_IF_ERROR(txn.Commit());
  return true;
}

Status SqliteBuildQueue::ReleaseWatcherLock(std::string_view source, std::string_view holder) {
  PIPY_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  PIPY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn->Prepare("DELETE FROM watcher_locks WHERE source = ?1 AND holder = ?2"));
  return stmt.Bind(1, source).Bind(2, holder).Run();
}

}  // namespace pipy::catalog
