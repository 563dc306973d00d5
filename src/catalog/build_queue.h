// BuildQueue: the monorepo builder's jobs, their logs and the watchers' state, kept in the
// catalog's database so that every node sees them and they survive a restart.
//
// A job moves queued -> running (ClaimNext, atomically: one runner per job, even across
// nodes) -> passed | failed | skipped (Finish). A job may wait for other jobs (the builds of
// its internal dependencies in the same commit): it is claimed only once they all finished.
// A node that crashed leaves its jobs `running`; RequeueRunning puts them back in the queue
// when the node starts again. Logs are stored as chunks beside the job, readable from any
// node while the build still runs.
//
// Every implementation passes the conformance suite in build_queue_conformance.h. All
// methods are thread-safe and may block on I/O. Implementations are reached through
// MakeBuildQueue. Timestamps are Unix epoch milliseconds supplied by the caller (the
// builder's injected clock), so tests control time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/factory.h"
#include "core/status.h"

namespace pipy::catalog {

enum class BuildStatus { kQueued, kRunning, kPassed, kFailed, kSkipped };

// "queued", "running", "passed", "failed", "skipped" (the public contract's spelling).
std::string_view BuildStatusName(BuildStatus status);
// The inverse of BuildStatusName; nullopt for anything else.
std::optional<BuildStatus> ParseBuildStatus(std::string_view name);
// True for passed, failed and skipped.
bool IsFinished(BuildStatus status);

struct BuildJob {
  std::int64_t id = 0;            // assigned by Enqueue; grows with every new job
  std::string source;             // the [[sources]] name
  std::string module;             // the top-level folder in the repository
  std::string format = "python";  // which rules build the module: "python" or "npm"
  std::string commit;             // full hex sha
  // The jobs it waits for (the builds of its internal dependencies in the same commit),
  // ascending; it is claimed only once all of them finished.
  std::vector<std::int64_t> waits_for;
  std::string project;            // normalized name; empty until the job has read it
  std::string version;            // normalized version; empty until known
  BuildStatus status = BuildStatus::kQueued;
  std::string message;            // why it failed or was skipped; empty otherwise
  std::string runner;             // who claimed it last (node id + runner); empty when never
  std::int64_t created_ms = 0;
  std::int64_t started_ms = 0;    // 0 until claimed (reset to 0 when re-queued)
  std::int64_t finished_ms = 0;   // 0 until finished
  std::uint64_t log_bytes = 0;    // bytes stored in the log so far
  // For a job skipped because a dependency failed: the id of the failed job (the first of a
  // chain: a dependent of a skipped job names the failure that skipped it); 0 otherwise.
  std::int64_t blocked_by = 0;
};

// A job to add to the queue.
struct NewBuild {
  std::string source;
  std::string module;
  std::string format = "python";  // "python" or "npm"; kInvalidArgument otherwise
  std::string commit;
  std::int64_t created_ms = 0;
  // The package and version as the watcher read them (may be empty); the job's own reading
  // replaces them when it finishes (BuildResult).
  std::string project;
  std::string version;
  // Ids of existing jobs it waits for (duplicates are ignored). kInvalidArgument when one
  // does not exist.
  std::vector<std::int64_t> waits_for;
  // When set (failed or skipped; kInvalidArgument for another status), the job is stored
  // already finished, at created_ms (finished_ms = created_ms, started_ms 0), with
  // `message`, without ever running: a module in a dependency cycle.
  std::optional<BuildStatus> finished_as;
  std::string message;  // only stored with finished_as
};

// How a running job ended.
struct BuildResult {
  BuildStatus status = BuildStatus::kFailed;  // passed, failed or skipped
  std::string message;
  std::string project;            // stored when not empty
  std::string version;            // stored when not empty
  std::int64_t finished_ms = 0;
  std::int64_t blocked_by = 0;    // see BuildJob::blocked_by
};

class BuildQueue {
 public:
  virtual ~BuildQueue() = default;

  // Adds a queued job and returns it with its id. When a job for the same source, module,
  // format and commit is still queued or running, returns that job instead (so a watcher
  // that enqueues a commit twice, e.g. after a crash, does not build it twice at once); that
  // job is returned as it is, its waits_for unchanged. A `finished_as` job is always added.
  // Nothing is stored when the build is refused.
  virtual Result<BuildJob> Enqueue(const NewBuild& build) = 0;

  // Atomically takes the oldest queued job (lowest id) whose waits_for jobs have all
  // finished, marks it running, claimed by `runner` at `now_ms`, and returns it; nullopt
  // when no queued job can start. Two callers, in one process or on two nodes, never get
  // the same job.
  virtual Result<std::optional<BuildJob>> ClaimNext(std::string_view runner,
                                                    std::int64_t now_ms) = 0;

  // Appends `chunk` to job `id`'s log. The log holds at most `max_log_bytes`: the part of a
  // chunk beyond that is dropped and a one-line "[log truncated ...]" note is stored once
  // (the note may go past the cap). kNotFound when the job does not exist.
  virtual Status AppendLog(std::int64_t id, std::string_view chunk,
                           std::uint64_t max_log_bytes) = 0;

  // Up to `max_bytes` of job `id`'s log starting at byte `offset` (empty at or past the
  // end). kNotFound when the job does not exist.
  virtual Result<std::string> ReadLog(std::int64_t id, std::uint64_t offset,
                                      std::uint64_t max_bytes) = 0;

  // Ends a running job with `result` (status passed, failed or skipped). kNotFound when the
  // job does not exist; kAlreadyExists (a conflict with stored state) when it is not
  // running (already finished, or re-queued meanwhile) — the caller's result is dropped.
  virtual Status Finish(std::int64_t id, const BuildResult& result) = 0;

  // The job, or nullopt.
  virtual Result<std::optional<BuildJob>> Get(std::int64_t id) = 0;

  // Jobs newest first (id descending), only those with id < `before_id` when it is > 0 (the
  // next page starts before the last id of this one), at most `limit`.
  virtual Result<std::vector<BuildJob>> List(std::int64_t before_id, int limit) = 0;

  // Puts back in the queue every running job whose runner starts with `runner_prefix` (all
  // running jobs when it is empty), clearing started_ms; a note saying so is appended to
  // each one's log. Returns how many were re-queued. Called at start by a node for its own
  // jobs, so a build interrupted by a crash runs again.
  virtual Result<int> RequeueRunning(std::string_view runner_prefix) = 0;

  // The last commit of `source` whose changes were turned into jobs, or nullopt when the
  // source was never processed.
  virtual Result<std::optional<std::string>> GetSourceCommit(std::string_view source) = 0;
  virtual Status SetSourceCommit(std::string_view source, std::string_view commit) = 0;

  // "Exactly one node runs each git watcher". Returns true when `holder` holds the watcher
  // lock of `source` after the call: it was free, its lease had expired (now_ms >= expiry),
  // or `holder` held it already; the lease then lasts until now_ms + lease_ms. Call again
  // before the lease ends to keep it. False when another holder's lease is still valid.
  // An implementation may tie the lock to its session instead of the lease (PostgreSQL
  // advisory locks); it is then freed when the holder's process dies.
  virtual Result<bool> TryAcquireWatcherLock(std::string_view source, std::string_view holder,
                                             std::int64_t now_ms, std::int64_t lease_ms) = 0;
  // Frees the lock when `holder` holds it; otherwise does nothing.
  virtual Status ReleaseWatcherLock(std::string_view source, std::string_view holder) = 0;
};

// Opens the build queue of the configured catalog (the same database as MakeCatalog, whose
// schema it shares; opening it migrates the schema like MakeCatalog). kInvalidArgument for
// an unknown backend; kUnavailable when the database cannot be reached.
Result<std::unique_ptr<BuildQueue>> MakeBuildQueue(const CatalogOptions& options);

}  // namespace pipy::catalog
