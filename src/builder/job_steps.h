// What every build job shares, whatever its format: the job's folders, its log, the build
// credential, and running one sandboxed step (sandbox.h) with its output in the log.
// Internal to the builder: the Python and the npm job (python_job.h, npm_job.h) are made
// of these steps; BuildRunner picks the job by the build's format.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authenticator.h"
#include "builder/build_log.h"
#include "builder/build_runner.h"
#include "builder/process_runner.h"
#include "catalog/build_queue.h"
#include "catalog/catalog.h"
#include "core/status.h"
#include "index/index.h"

namespace pipy::builder {

// How a job ended.
struct JobEnd {
  catalog::BuildStatus status = catalog::BuildStatus::kFailed;
  std::string message;
  bool abandoned = false;  // shutdown: leave the job running for the next start
  std::string project;     // once the module's metadata was read
  std::string version;
};

inline JobEnd Ended(catalog::BuildStatus status, std::string message) {
  JobEnd end;
  end.status = status;
  end.message = std::move(message);
  return end;
}

// A build's read credential: registered with the authenticator while it lives (only
// during the downloads), so a leaked copy is worthless once they are done.
class BuildCredential {
 public:
  BuildCredential(auth::Authenticator* authenticator, std::int64_t build_id);
  ~BuildCredential() { Revoke(); }
  BuildCredential(const BuildCredential&) = delete;
  BuildCredential& operator=(const BuildCredential&) = delete;

  // Empty when there is no authenticator (reads are then anonymous).
  const std::string& secret() const { return secret_; }
  void Revoke();

 private:
  auth::Authenticator* authenticator_;
  std::string secret_;
};

// Everything a job reads; all of it outlives the job.
struct JobContext {
  const RunnerOptions& options;
  catalog::BuildQueue& queue;
  index::Index& index;
  ProcessRunner& processes;
  const SourceEntry& source;
  const catalog::BuildJob& job;
  const std::atomic<bool>* cancel = nullptr;
};

class JobSteps {
 public:
  // How one step runs. Every step is sandboxed; by default it may write the whole work
  // folder and has no network.
  struct StepOptions {
    std::chrono::milliseconds timeout{0};
    std::uint64_t memory_limit = 0;
    bool network = false;  // only the steps that download from Pipy
    // The folder the step runs in; empty = the work folder.
    std::filesystem::path chdir;
    // When not empty: only these are writable, the rest of the work folder is read-only.
    std::vector<std::filesystem::path> writable;
    // "NAME=value" entries added to the job's environment for this step.
    std::vector<std::string> env;
    // Entries passed to the step but never logged (the index credential).
    std::vector<std::string> secret_env;
    // Given the step's output when it fails; a non-empty answer says why in the message.
    std::function<std::string(std::string_view output)> explain;
  };

  // `env` is the whole environment of every step (plus StepOptions::env): nothing of the
  // server's own (its secrets) is passed.
  explicit JobSteps(const JobContext& context);
  ~JobSteps();  // removes the work folder
  JobSteps(const JobSteps&) = delete;
  JobSteps& operator=(const JobSteps&) = delete;

  // Removes what an interrupted attempt left, makes the folders and checks the module out
  // into src(). nullopt on success.
  std::optional<JobEnd> Prepare();

  // Runs one step in the sandbox, its output into the log. nullopt when it succeeded;
  // otherwise how the job ends, with `what` naming the step.
  std::optional<JobEnd> Step(std::string_view what, const std::vector<std::string>& command,
                             const StepOptions& options);

  // Logs "pipy: failed: <message>" and returns the failed end.
  JobEnd Fail(std::string message);
  // Logs "pipy: skipped: <message>" and returns the skipped end.
  JobEnd Skip(std::string message);

  // The principal publishing the build's output: the source's builder, limited to its scope.
  auth::Principal Publisher() const;
  // The provenance of everything this job publishes.
  catalog::Provenance Provenance() const;
  // The source's scope check for `name` ("project" or "package" says which kind of name);
  // the failed end when outside.
  std::optional<JobEnd> CheckScope(std::string_view name, std::string_view kind);
  // True when `version` of `project` has files this job did not publish itself (a job
  // re-run after a crash finishes its own half-done publication).
  Result<bool> PublishedByOthers(const index::Format& format, std::string_view project,
                                 std::string_view version);
  // True when the file was published by this very job (an earlier, interrupted attempt).
  bool PublishedByThisJob(const catalog::FileRecord& file) const {
    return file.provenance && file.provenance->build_id == c_.job.id;
  }

  BuildLog& log() { return log_; }
  const JobContext& context() const { return c_; }
  const std::filesystem::path& work() const { return work_; }
  const std::filesystem::path& src() const { return src_; }
  const std::filesystem::path& home() const { return home_; }
  void set_env(std::vector<std::string> env) { env_ = std::move(env); }

 private:
  std::vector<std::string> SandboxedArgv(const StepOptions& options,
                                         const std::vector<std::string>& command) const;

  const JobContext c_;
  BuildLog log_;
  const std::filesystem::path work_;
  const std::filesystem::path src_;
  const std::filesystem::path home_;  // HOME: the tools' caches and configuration
  std::vector<std::string> env_;
};

// The "PATH" every step gets after the job's own folders.
inline constexpr std::string_view kSystemPath = "/usr/local/bin:/usr/bin:/bin";

// A small file (a pyproject.toml, a package.json, a report): anything past `limit` is not
// read. Empty when it cannot be read.
std::string ReadSmallFile(const std::filesystem::path& path, std::size_t limit = 1 << 20);

// True when `path` is a regular file and not a symlink: the checkout's links may point
// anywhere on this machine.
bool IsPlainFile(const std::filesystem::path& path);

// The files a sandboxed step wrote into `dir`, sorted; kInvalidArgument naming one that is
// not a regular file (a symlink could point at a file of the server's own, which must never
// be published).
Result<std::vector<std::filesystem::path>> OutputFiles(const std::filesystem::path& dir);

// Runs a Python module's job (python_job.cc) or an npm module's (npm_job.cc).
JobEnd RunPythonJob(const JobContext& context);
JobEnd RunNpmJob(const JobContext& context);

}  // namespace pipy::builder
