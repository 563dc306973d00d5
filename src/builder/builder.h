// Builder: the monorepo builder of one server — a git mirror and a Watcher per [[sources]]
// entry, and a RunnerPool — wired from the configuration. `pipy serve` creates it when
// sources are configured, starts it once the HTTP server listens (the runners install
// dependencies from that server), and stops it on SIGTERM.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "builder/build_runner.h"
#include "builder/clock.h"
#include "builder/git_source.h"
#include "builder/process_runner.h"
#include "builder/watcher.h"
#include "catalog/build_queue.h"
#include "config/config.h"
#include "core/status.h"
#include "index/index.h"

namespace pipy::builder {

class Builder {
 public:
  // Where a builder lives and what its builds must not see.
  struct Paths {
    std::filesystem::path data_dir;     // mirrors under git/<name>, work folders under builds/
    std::filesystem::path config_file;  // empty = none; hidden from builds with the data folder
  };

  // Opens (or creates) a mirror for every source under <data_dir>/git/<name>; work folders
  // go under <data_dir>/builds. `authenticator` issues each build's read credential.
  // `node_id` names this process in job claims and watcher locks. `on_finished` gets each
  // job's final status (metrics). `queue`, `index` and `authenticator` must outlive the
  // builder. kInvalidArgument for a duplicate or unusable source name.
  static Result<std::unique_ptr<Builder>> Create(const std::vector<config::SourceConfig>& sources,
                                                 const config::BuilderConfig& config,
                                                 const Paths& paths, catalog::BuildQueue& queue,
                                                 index::Index& index,
                                                 auth::Authenticator& authenticator,
                                                 std::string node_id,
                                                 BuildRunner::FinishedCallback on_finished);
  ~Builder();  // stops

  // Re-queues this node's jobs left running by a crash, then starts the watchers and the
  // runners; `server_url` is this server's base URL ("http://127.0.0.1:8080/"; dependencies
  // are installed from its /simple/ and /npm/, with a credential per build), without
  // credentials. `index_refusal`: non-empty when that server refuses this machine's address
  // (said in the builds that fail because of it).
  Status Start(std::string server_url, std::string index_refusal = "");
  // Stops watchers and runners (a running build is killed and re-runs at the next start).
  void Stop();

  // The watcher of source `name`, or nullptr.
  Watcher* FindWatcher(std::string_view name);
  // Enqueues a build of the `format` module ("python" or "npm") in folder `module` of
  // `source` at `rev` (a sha or prefix; empty = the branch head after a fetch); an empty
  // `format` names the folder's only module. kNotFound for an unknown source, commit or
  // module; kInvalidArgument for an unknown format, or none for a folder holding both.
  Result<catalog::BuildJob> Rebuild(std::string_view source, std::string_view module,
                                    std::string_view rev, std::string_view format = "");

  catalog::BuildQueue& queue() { return queue_; }

 private:
  Builder(catalog::BuildQueue& queue, index::Index& index) : queue_(queue), index_(index) {}

  catalog::BuildQueue& queue_;
  index::Index& index_;
  std::string node_id_;
  SystemClock clock_;
  PosixProcessRunner processes_;
  std::vector<std::unique_ptr<GitSource>> gits_;
  std::map<std::string, std::unique_ptr<Watcher>, std::less<>> watchers_;
  std::unique_ptr<BuildRunner> runner_;
  std::unique_ptr<RunnerPool> pool_;
  bool started_ = false;
};

// This process's name in job claims and watcher locks: "<hostname>:<absolute data_dir>",
// stable across restarts so a restarted node re-queues the jobs it left running.
std::string DefaultNodeId(const std::filesystem::path& data_dir);

// True when `version` of `project` (normalized) has a file in the index: PEP 440 equality
// for "python", SemVer (without build metadata) for "npm".
Result<bool> IsPublished(index::Index& index, std::string_view format, std::string_view project,
                         std::string_view version);

}  // namespace pipy::builder
