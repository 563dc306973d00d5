// BuildRunner: runs one build job from checkout to publish, and RunnerPool: `concurrency`
// threads that claim jobs from the queue and run them.
//
// A job waiting for others (the builds of its internal dependencies in the same commit) is
// claimed once they finished; when one of them failed, or was skipped because of a failure,
// the job is skipped without running, its record naming the failed build (blocked_by).
//
// A Python job (python_job.cc): check the module out at its commit into <work_dir>/<id>;
// read pyproject.toml (malformed -> failed); refuse a project outside the source's scope
// (failed); skip a version that is already published (skipped); then, every step in the
// sandbox (sandbox.h: read-only root, the data folder and config file hidden, no network
// unless said): create a venv with --system-site-packages; resolve the dependencies and
// test extras against Pipy's own /simple/ from wheels only (no code of a dependency runs
// before the tests) and download them, with a read credential made for this build alone and
// revoked right after (network to Pipy, only the download folders writable); install them
// from those wheels offline; run the test command (the configured timeout and memory
// limit); only if it passes, build the sdist and wheel with `python3 -m build
// --no-isolation` (-x for hatchling) and publish both through python::PublishDistribution
// as a principal limited to the source's scope, with provenance.
//
// An npm job (npm_job.cc): the same checkout, package.json (npm_module.h) instead of
// pyproject.toml, the scope and published checks on the npm name, a module without a test
// command fails; `npm ci` (with a lockfile) or `npm install` from Pipy's own /npm/ with
// --ignore-scripts, network and the build's credential (in the environment only), then
// `npm rebuild` offline for the dependencies' install scripts; the test command offline with
// the limits; `npm pack`, published through npm::PublishPackedTarball with provenance.
//
// No step sees the server's environment. Every step's output goes to the job's log; a
// failed or skipped job says why in its message and its log.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auth/authenticator.h"
#include "builder/clock.h"
#include "builder/git_source.h"
#include "builder/process_runner.h"
#include "catalog/build_queue.h"
#include "config/config.h"
#include "core/status.h"
#include "index/index.h"

namespace pipy::builder {

struct RunnerOptions {
  std::filesystem::path work_dir;  // absolute; per-job folders are made (and removed) inside
  std::string index_url;         // Pipy's own simple index, e.g. http://127.0.0.1:8080/simple/
  std::string npm_registry_url;  // Pipy's own npm registry, e.g. http://127.0.0.1:8080/npm/
  // Issues each build's read credential for index_url (valid while it downloads); null =
  // read anonymously. Must outlive the runner.
  auth::Authenticator* authenticator = nullptr;
  // Hidden from every step: folders (the data folder) and files (the config file).
  std::vector<std::filesystem::path> hidden_dirs;
  std::vector<std::filesystem::path> hidden_files;
  // Non-empty when index_url refuses this machine's own address (an allowlist without
  // loopback): the message of a build whose dependencies could not be resolved.
  std::string index_refusal;
  std::string python = "/usr/bin/python3"; // Debian's, which sees the system site packages
  std::string bwrap = "bwrap";
  std::chrono::milliseconds timeout{600'000};      // the test command and all it starts
  std::chrono::milliseconds step_timeout{600'000}; // venv, pip and build steps
  std::uint64_t memory_limit = 2ull << 30;
  std::uint64_t max_log_bytes = 4ull << 20;
};

// A configured source and its repository.
struct SourceEntry {
  config::SourceConfig config;
  GitSource* git = nullptr;
};

class BuildRunner {
 public:
  // Told each job's format and final status once it is recorded (metrics, and waking the
  // runners: its dependents may start now).
  using FinishedCallback = std::function<void(std::string_view format, catalog::BuildStatus)>;

  // Everything passed must outlive the runner. `on_finished` may be empty.
  BuildRunner(RunnerOptions options, catalog::BuildQueue& queue, index::Index& index,
              ProcessRunner& processes, Clock& clock, std::map<std::string, SourceEntry> sources,
              FinishedCallback on_finished);

  // Runs the claimed (running) `job` to its end and records the result with Finish. When
  // *cancel becomes true (shutdown) the job is abandoned as `running`, for RequeueRunning
  // at the next start. Errors only for failures of the queue itself.
  Status RunJob(const catalog::BuildJob& job, const std::atomic<bool>* cancel);
  // Claims one job as `runner_id` and runs it; false when nothing was queued.
  Result<bool> RunNext(std::string_view runner_id, const std::atomic<bool>* cancel);

  // Before any job runs (the server's port is known only once it listens): the server's
  // base URL ("http://127.0.0.1:8080/"), whose /simple/ and /npm/ the builds install from.
  void set_server(std::string_view base_url, std::string refusal);

 private:
  // The failed build that keeps `job` from running (a dependency failed, or was skipped
  // because of a failure), or nullopt when every job it waited for is usable.
  Result<std::optional<catalog::BuildJob>> BlockingFailure(const catalog::BuildJob& job);

  RunnerOptions options_;
  catalog::BuildQueue& queue_;
  index::Index& index_;
  ProcessRunner& processes_;
  Clock& clock_;
  std::map<std::string, SourceEntry> sources_;
  FinishedCallback on_finished_;
};

// `concurrency` threads, each named "<node_id>/<n>", running BuildRunner::RunNext until
// Stop; idle threads sleep until Notify or a second has passed.
class RunnerPool {
 public:
  RunnerPool(BuildRunner& runner, std::string node_id, int concurrency);
  ~RunnerPool();  // stops

  void Start();
  // Wakes idle threads (a job was enqueued).
  void Notify();
  // Kills running commands (their jobs stay `running` for the next start to re-queue) and
  // joins the threads.
  void Stop();

 private:
  void Loop(std::string runner_id);

  BuildRunner& runner_;
  const std::string node_id_;
  const int concurrency_;
  std::atomic<bool> cancel_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  bool notified_ = false;  // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace pipy::builder
