#include "catalog/postgres_build_queue.h"

#include <algorithm>

#include "catalog/build_queue_internal.h"

namespace pipy::catalog {

using pg::Connection;
using pg::Rows;

namespace {

// The last column is the job's waits_for, comma-separated in no particular order; it names
// `builds`, so every query reading these columns reads that table unaliased.
constexpr std::string_view kBuildColumns =
    "id, source, module, commit_sha, project, version, status, message, runner,"
    " created_ms, started_ms, finished_ms, log_bytes, format, blocked_by,"
    " COALESCE((SELECT string_agg(w.waits_for::text, ',') FROM build_waits w"
    " WHERE w.build_id = builds.id), '')";

// "{1,2,3}": a bigint[] parameter in PostgreSQL's text format.
std::string IdArray(const std::vector<std::int64_t>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    out += (i == 0 ? "" : ",") + std::to_string(ids[i]);
  }
  return out + "}";
}

// The watcher lock's key: (1885958521 = 'pipy' in ASCII, a hash of the source's name).
constexpr std::string_view kTryWatcherLock =
    "SELECT pg_try_advisory_lock(1885958521, hashtext('watcher:' || $1))";

BuildJob ReadBuildRow(const Rows& rows, int i) {
  BuildJob job;
  job.id = rows.Int(i, 0);
  job.source = rows.Text(i, 1);
  job.module = rows.Text(i, 2);
  job.commit = rows.Text(i, 3);
  job.project = rows.Text(i, 4);
  job.version = rows.Text(i, 5);
  // Rows are only ever written with BuildStatusName values.
  job.status = ParseBuildStatus(rows.Text(i, 6)).value_or(BuildStatus::kFailed);
  job.message = rows.Text(i, 7);
  job.runner = rows.Text(i, 8);
  job.created_ms = rows.Int(i, 9);
  job.started_ms = rows.Int(i, 10);
  job.finished_ms = rows.Int(i, 11);
  job.log_bytes = static_cast<std::uint64_t>(rows.Int(i, 12));
  job.format = rows.Text(i, 13);
  job.blocked_by = rows.Int(i, 14);
  job.waits_for = internal::ParseIdList(rows.Text(i, 15));
  return job;
}

Result<std::optional<BuildJob>> GetBuild(Connection& conn, std::int64_t id,
                                         std::string_view lock = "") {
  PIPY_ASSIGN_OR_RETURN(Rows rows, conn.Execute("SELECT " + std::string(kBuildColumns) +
                                                    " FROM builds WHERE id = $1" +
                                                    std::string(lock),
                                                {id}));
  if (rows.empty()) {
    return std::optional<BuildJob>();
  }
  return std::optional<BuildJob>(ReadBuildRow(rows, 0));
}

// Log bytes travel hex-encoded (decode()/encode() on the server): text parameters cannot
// carry NUL bytes, and build output may.
std::string Hex(std::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (unsigned char c : data) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

std::string Unhex(std::string_view hex) {
  auto value = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(value(hex[i]) << 4 | value(hex[i + 1]));
  }
  return out;
}

// Stores `data` at the end of the log of build `id`, whose current length is `log_bytes`.
Status InsertChunk(Connection& conn, std::int64_t id, std::uint64_t log_bytes,
                   std::string_view data, bool truncated) {
  if (!data.empty()) {
    PIPY_RETURN_IF_ERROR(
        conn.Execute("INSERT INTO build_log_chunks (build_id, start_byte, size, data)"
                     " VALUES ($1, $2, $3, decode($4, 'hex'))",
                     {id, static_cast<std::int64_t>(log_bytes),
                      static_cast<std::int64_t>(data.size()), Hex(data)})
            .status());
  }
  return conn
      .Execute("UPDATE builds SET log_bytes = $2, log_truncated = log_truncated OR $3"
               " WHERE id = $1",
               {id, static_cast<std::int64_t>(log_bytes + data.size()), truncated})
      .status();
}

}  // namespace

Result<std::unique_ptr<PostgresBuildQueue>> PostgresBuildQueue::Open(
    const PostgresOptions& options) {
  // The catalog owns the schema: opening it applies the builder's migration.
  PIPY_ASSIGN_OR_RETURN(std::unique_ptr<PostgresCatalog> migrated,
                        PostgresCatalog::Open(options));
  migrated.reset();
  PIPY_ASSIGN_OR_RETURN(pg::ConnectSettings settings, pg::ConnectSettings::Parse(options.url));
  return std::unique_ptr<PostgresBuildQueue>(
      new PostgresBuildQueue(std::move(settings), options.pool_size));
}

Result<BuildJob> PostgresBuildQueue::Enqueue(const NewBuild& build) {
  PIPY_RETURN_IF_ERROR(internal::CheckNewBuild(build));
  const std::vector<std::int64_t> waits_for = internal::SortedUnique(build.waits_for);
  const std::string waits_array = IdArray(waits_for);
  const bool finished = build.finished_as.has_value();
  std::optional<BuildJob> job;
  PIPY_RETURN_IF_ERROR(pool_.Write([&](Connection& conn) -> Status {
    // Serializes enqueues on every node, so one commit is never queued twice at once.
    PIPY_RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_xact_lock(1885958521, 2)"));
    if (!waits_for.empty()) {
      // Jobs are never deleted, so one seen here still exists when the rows below commit.
      PIPY_ASSIGN_OR_RETURN(
          Rows missing,
          conn.Execute("SELECT x FROM unnest($1::bigint[]) x"
                       " WHERE NOT EXISTS (SELECT 1 FROM builds WHERE id = x) ORDER BY x LIMIT 1",
                       {waits_array}));
      if (!missing.empty()) {
        return InvalidArgument("a build cannot wait for build " + missing.Text(0, 0) +
                               ", which does not exist");
      }
    }
    std::int64_t id = 0;
    if (!finished) {
      PIPY_ASSIGN_OR_RETURN(
          Rows pending,
          conn.Execute("SELECT id FROM builds WHERE source = $1 AND module = $2 AND"
                       " format = $3 AND commit_sha = $4 AND status IN ('queued', 'running')"
                       " ORDER BY id LIMIT 1",
                       {build.source, build.module, build.format, build.commit}));
      id = pending.empty() ? 0 : pending.Int(0, 0);
    }
    if (id == 0) {
      // A job enqueued finished (a module in a dependency cycle) never ran: it ends when made.
      PIPY_ASSIGN_OR_RETURN(
          Rows inserted,
          conn.Execute("INSERT INTO builds (source, module, format, commit_sha, status, message,"
                       " created_ms, finished_ms, project, version)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                       {build.source, build.module, build.format, build.commit,
                        finished ? BuildStatusName(*build.finished_as) : "queued",
                        finished ? std::string_view(build.message) : std::string_view(),
                        build.created_ms, finished ? build.created_ms : std::int64_t{0},
                        build.project, build.version}));
      id = inserted.Int(0, 0);
      if (!waits_for.empty()) {
        PIPY_RETURN_IF_ERROR(
            conn.Execute("INSERT INTO build_waits (build_id, waits_for)"
                         " SELECT $1::bigint, unnest($2::bigint[])",
                         {id, waits_array})
                .status());
      }
    }
    PIPY_ASSIGN_OR_RETURN(job, GetBuild(conn, id));
    return Status::Ok();
  }));
  if (!job) {
    return Internal("a build vanished while being enqueued");
  }
  return *job;
}

Result<std::optional<BuildJob>> PostgresBuildQueue::ClaimNext(std::string_view runner,
                                                              std::int64_t now_ms) {
  std::optional<BuildJob> job;
  PIPY_RETURN_IF_ERROR(pool_.Read([&](Connection& conn) -> Status {
    // One statement: the row lock taken by the subquery is held until the UPDATE commits;
    // SKIP LOCKED lets a concurrent claimer take the next job instead of waiting. NO KEY
    // UPDATE is the lock the UPDATE itself needs: it excludes other claimers but not the key
    // share lock an Enqueue's build_waits foreign key takes on a dependency, so a job being
    // waited for is not skipped meanwhile. A dependency read here as finished stays
    // finished (finished jobs never go back), so the NOT EXISTS cannot be overtaken; one
    // read as queued or running merely leaves its dependent for a later claim.
    PIPY_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Execute("UPDATE builds SET status = 'running', runner = $1, started_ms = $2,"
                     " finished_ms = 0 WHERE id = (SELECT b.id FROM builds b"
                     " WHERE b.status = 'queued' AND NOT EXISTS (SELECT 1 FROM build_waits w"
                     " JOIN builds d ON d.id = w.waits_for WHERE w.build_id = b.id AND"
                     " d.status IN ('queued', 'running'))"
                     " ORDER BY b.id LIMIT 1 FOR NO KEY UPDATE OF b SKIP LOCKED) RETURNING " +
                         std::string(kBuildColumns),
                     {runner, now_ms}));
    job = rows.empty() ? std::nullopt : std::optional<BuildJob>(ReadBuildRow(rows, 0));
    return Status::Ok();
  }));
  return job;
}

Status PostgresBuildQueue::AppendLog(std::int64_t id, std::string_view chunk,
                                     std::uint64_t max_log_bytes) {
  if (chunk.empty()) {
    return Status::Ok();
  }
  return pool_.Write([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Execute("SELECT log_bytes, log_truncated FROM builds WHERE id = $1 FOR UPDATE",
                     {id}));
    if (rows.empty()) {
      return NotFound("no build " + std::to_string(id));
    }
    if (rows.Bool(0, 1)) {
      return Status::Ok();  // already cut off: later output is dropped
    }
    const auto log_bytes = static_cast<std::uint64_t>(rows.Int(0, 0));
    const std::uint64_t room = max_log_bytes > log_bytes ? max_log_bytes - log_bytes : 0;
    if (chunk.size() <= room) {
      return InsertChunk(conn, id, log_bytes, chunk, false);
    }
    std::string kept(chunk.substr(0, static_cast<std::size_t>(room)));
    kept += "\n[log truncated at " + std::to_string(max_log_bytes) + " bytes]\n";
    return InsertChunk(conn, id, log_bytes, kept, true);
  });
}

Result<std::string> PostgresBuildQueue::ReadLog(std::int64_t id, std::uint64_t offset,
                                                std::uint64_t max_bytes) {
  std::string out;
  PIPY_RETURN_IF_ERROR(pool_.Read([&](Connection& conn) -> Status {
    out.clear();
    PIPY_ASSIGN_OR_RETURN(std::optional<BuildJob> job, GetBuild(conn, id));
    if (!job) {
      return NotFound("no build " + std::to_string(id));
    }
    PIPY_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Execute("SELECT start_byte, encode(data, 'hex') FROM build_log_chunks"
                     " WHERE build_id = $1 AND start_byte + size > $2 ORDER BY start_byte",
                     {id, static_cast<std::int64_t>(offset)}));
    for (int i = 0; i < rows.size() && out.size() < max_bytes; ++i) {
      const auto start = static_cast<std::uint64_t>(rows.Int(i, 0));
      std::string data = Unhex(rows.Text(i, 1));
      std::size_t skip = offset > start ? static_cast<std::size_t>(offset - start) : 0;
      if (skip >= data.size()) {
        continue;
      }
      std::size_t take = std::min<std::size_t>(data.size() - skip,
                                               static_cast<std::size_t>(max_bytes - out.size()));
      out.append(data, skip, take);
    }
    return Status::Ok();
  }));
  return out;
}

Status PostgresBuildQueue::Finish(std::int64_t id, const BuildResult& result) {
  if (!IsFinished(result.status)) {
    return InvalidArgument("a build finishes as passed, failed or skipped");
  }
  return pool_.Write([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(std::optional<BuildJob> job, GetBuild(conn, id, " FOR UPDATE"));
    if (!job) {
      return NotFound("no build " + std::to_string(id));
    }
    if (job->status != BuildStatus::kRunning) {
      return AlreadyExists("build " + std::to_string(id) + " is " +
                           std::string(BuildStatusName(job->status)) + ", not running");
    }
    return conn
        .Execute("UPDATE builds SET status = $2, message = $3,"
                 " project = CASE WHEN $4::text = '' THEN project ELSE $4::text END,"
                 " version = CASE WHEN $5::text = '' THEN version ELSE $5::text END,"
                 " finished_ms = $6, blocked_by = $7 WHERE id = $1",
                 {id, BuildStatusName(result.status), result.message, result.project,
                  result.version, result.finished_ms, result.blocked_by})
        .status();
  });
}

Result<std::optional<BuildJob>> PostgresBuildQueue::Get(std::int64_t id) {
  std::optional<BuildJob> job;
  PIPY_RETURN_IF_ERROR(pool_.Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(job, GetBuild(conn, id));
    return Status::Ok();
  }));
  return job;
}

Result<std::vector<BuildJob>> PostgresBuildQueue::List(std::int64_t before_id, int limit) {
  std::vector<BuildJob> out;
  PIPY_RETURN_IF_ERROR(pool_.Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(
        Rows rows, conn.Execute("SELECT " + std::string(kBuildColumns) +
                                    " FROM builds WHERE $1::bigint <= 0 OR id < $1::bigint"
                                    " ORDER BY id DESC LIMIT $2",
                                {before_id, static_cast<std::int64_t>(std::max(limit, 0))}));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      out.push_back(ReadBuildRow(rows, i));
    }
    return Status::Ok();
  }));
  return out;
}

Result<int> PostgresBuildQueue::RequeueRunning(std::string_view runner_prefix) {
  int count = 0;
  PIPY_RETURN_IF_ERROR(pool_.Write([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Execute("SELECT id, log_bytes FROM builds WHERE status = 'running' AND"
                     " left(runner, length($1::text)) = $1::text ORDER BY id FOR UPDATE",
                     {runner_prefix}));
    for (int i = 0; i < rows.size(); ++i) {
      const std::int64_t id = rows.Int(i, 0);
      PIPY_RETURN_IF_ERROR(
          conn.Execute("UPDATE builds SET status = 'queued', started_ms = 0 WHERE id = $1",
                       {id})
              .status());
      PIPY_RETURN_IF_ERROR(InsertChunk(conn, id, static_cast<std::uint64_t>(rows.Int(i, 1)),
                                       "\n[pipy: the build was interrupted (restart); re-queued]\n",
                                       false));
    }
    count = rows.size();
    return Status::Ok();
  }));
  return count;
}

Result<std::optional<std::string>> PostgresBuildQueue::GetSourceCommit(std::string_view source) {
  std::optional<std::string> out;
  PIPY_RETURN_IF_ERROR(pool_.Read([&](Connection& conn) -> Status {
    PIPY_ASSIGN_OR_RETURN(
        Rows rows, conn.Execute("SELECT last_commit FROM source_state WHERE source = $1",
                                {source}));
    out = rows.empty() ? std::nullopt : std::optional<std::string>(rows.Text(0, 0));
    return Status::Ok();
  }));
  return out;
}

Status PostgresBuildQueue::SetSourceCommit(std::string_view source, std::string_view commit) {
  return pool_.Read([&](Connection& conn) -> Status {
    return conn
        .Execute("INSERT INTO source_state (source, last_commit) VALUES ($1, $2)"
                 " ON CONFLICT (source) DO UPDATE SET last_commit = excluded.last_commit",
                 {source, commit})
        .status();
  });
}

Result<bool> PostgresBuildQueue::TryAcquireWatcherLock(std::string_view source,
                                                       std::string_view holder,
                                                       std::int64_t now_ms,
                                                       std::int64_t lease_ms) {
  std::lock_guard lock(locks_mu_);
  auto key = std::make_pair(std::string(source), std::string(holder));
  auto it = locks_.find(key);
  if (it != locks_.end()) {
    // Still held while its session lives; a broken session lost it.
    if (it->second->Execute("SELECT 1").has_value()) {
      return true;
    }
    locks_.erase(it);
  }
  PIPY_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                        Connection::Open(pool_.settings()));
  PIPY_ASSIGN_OR_RETURN(Rows rows, conn->Execute(kTryWatcherLock, {source}));
  if (!rows.Bool(0, 0)) {
    return false;
  }
  locks_.emplace(std::move(key), std::move(conn));
  return true;
}

Status PostgresBuildQueue::ReleaseWatcherLock(std::string_view source, std::string_view holder) {
  std::unique_ptr<Connection> conn;
  {
    std::lock_guard lock(locks_mu_);
    auto it = locks_.find(std::make_pair(std::string(source), std::string(holder)));
    if (it == locks_.end()) {
      return Status::Ok();
    }
    conn = std::move(it->second);
    locks_.erase(it);
  }
  // Unlocked explicitly: a closed session frees its locks only once the server notices.
  Status unlocked =
      conn->Execute("SELECT pg_advisory_unlock(1885958521, hashtext('watcher:' || $1))",
                    {source})
          .status();
  conn.reset();
  return unlocked.code() == StatusCode::kUnavailable ? Status::Ok() : unlocked;
}

}  // namespace pipy::catalog
