// Watcher: turns new commits of one source's branch into build jobs.
//
// The first commit seen enqueues every module whose version is not yet published; each later
// commit enqueues the modules whose folders it changed (compared with the last processed
// commit, which is kept in the BuildQueue so a restart continues where it stopped). A
// folder may hold a Python module, an npm module, or both (commit_modules.h). The jobs of
// one commit are planned together (build_order.h): each waits for the jobs of its internal
// dependencies; a module in a dependency cycle gets a failed record and one behind a cycle
// a skipped one, neither ever running. Other
// branches are never looked at. A round runs every poll_interval, or at once on Trigger()
// (the push webhook). Only the holder of the source's watcher lock polls, so one node at a
// time watches each source.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "builder/clock.h"
#include "builder/commit_modules.h"
#include "builder/git_source.h"
#include "catalog/build_queue.h"
#include "config/config.h"
#include "core/status.h"

namespace pipy::builder {

// True when `version` of `project` (both normalized) is already published in `format`
// (kPythonFormat or kNpmFormat).
using PublishedCheck = std::function<Result<bool>(
    std::string_view format, std::string_view project, std::string_view version)>;

class Watcher {
 public:
  // Everything passed must outlive the watcher. `holder` names this node in the watcher
  // lock; `on_enqueued` is called after a round that enqueued jobs (wakes the runners).
  Watcher(config::SourceConfig source, GitSource& git, catalog::BuildQueue& queue, Clock& clock,
          PublishedCheck published, std::string holder, std::function<void()> on_enqueued);
  ~Watcher();  // stops

  // One round: fetch, compare the branch head with the last processed commit, enqueue, and
  // remember the head. Returns the number of jobs enqueued. Does not take the lock.
  Result<int> PollOnce();
  // Takes (or renews) the watcher lock, then PollOnce; nullopt when another node holds it.
  Result<std::optional<int>> Tick();

  // Runs Tick every poll_interval (and on Trigger) on a thread of its own until Stop.
  void Start();
  // Asks for a round now. Thread-safe; cheap; repeated calls before the round coalesce.
  void Trigger();
  // Stops the thread (waiting for a round in progress) and frees the lock.
  void Stop();

  const config::SourceConfig& source() const { return source_; }
  GitSource& git() { return git_; }

 private:
  // Drops the modules whose version is published (the first commit seen); a module whose
  // metadata cannot be read stays, so its build records why.
  Result<std::vector<CommitModule>> Unpublished(std::vector<CommitModule> modules);
  // Plans and enqueues the builds of `modules` at `commit`; returns how many were added.
  Result<int> EnqueuePlanned(const std::string& commit, const std::vector<CommitModule>& modules);
  void Loop();

  const config::SourceConfig source_;
  GitSource& git_;
  catalog::BuildQueue& queue_;
  Clock& clock_;
  PublishedCheck published_;
  const std::string holder_;
  std::function<void()> on_enqueued_;

  std::mutex mu_;
  std::condition_variable wake_;
  bool triggered_ = false;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  std::thread thread_;
};

}  // namespace pipy::builder
