#include "builder/build_runner.h"

#include <algorithm>
#include <iostream>

#include "builder/job_steps.h"

namespace pipy::builder {

using catalog::BuildJob;
using catalog::BuildStatus;

BuildRunner::BuildRunner(RunnerOptions options, catalog::BuildQueue& queue, index::Index& index,
                         ProcessRunner& processes, Clock& clock,
                         std::map<std::string, SourceEntry> sources,
                         FinishedCallback on_finished)
    : options_(std::move(options)),
      queue_(queue),
      index_(index),
      processes_(processes),
      clock_(clock),
      sources_(std::move(sources)),
      on_finished_(std::move(on_finished)) {}

void BuildRunner::set_server(std::string_view base_url, std::string refusal) {
  std::string base(base_url);
  if (!base.ends_with('/')) {
    base += '/';
  }
  options_.index_url = base + "simple/";
  options_.npm_registry_url = base + "npm/";
  options_.index_refusal = std::move(refusal);
}

Result<std::optional<BuildJob>> BuildRunner::BlockingFailure(const BuildJob& job) {
  for (std::int64_t id : job.waits_for) {
    PIPY_ASSIGN_OR_RETURN(std::optional<BuildJob> dependency, queue_.Get(id));
    if (!dependency) {
      continue;  // not kept: nothing to wait for
    }
    if (dependency->status == BuildStatus::kFailed) {
      return dependency;
    }
    // A skip names its cause when a failure caused it; otherwise the version was published
    // already, which is as good as publishing it now.
    if (dependency->status == BuildStatus::kSkipped && dependency->blocked_by != 0) {
      PIPY_ASSIGN_OR_RETURN(std::optional<BuildJob> cause, queue_.Get(dependency->blocked_by));
      return cause ? cause : dependency;
    }
  }
  return std::optional<BuildJob>();
}

Status BuildRunner::RunJob(const BuildJob& job, const std::atomic<bool>* cancel) {
  catalog::BuildResult result;
  auto source = sources_.find(job.source);
  PIPY_ASSIGN_OR_RETURN(std::optional<BuildJob> blocker, BlockingFailure(job));
  if (blocker) {
    const std::string name = blocker->project.empty() ? blocker->module : blocker->project;
    result.status = BuildStatus::kSkipped;
    result.blocked_by = blocker->id;
    result.message = "skipped: its dependency " + name + " (build " +
                     std::to_string(blocker->id) + ", " + blocker->format + " module \"" +
                     blocker->module + "\") failed in this commit; nothing was published";
    (void)queue_.AppendLog(job.id, "pipy: " + result.message + "\n", options_.max_log_bytes);
  } else if (source == sources_.end() || source->second.git == nullptr) {
    result.status = BuildStatus::kFailed;
    result.message = "source \"" + job.source + "\" is not configured on this server";
    (void)queue_.AppendLog(job.id, "pipy: failed: " + result.message + "\n",
                           options_.max_log_bytes);
  } else {
    JobContext context{options_, queue_, index_, processes_, source->second, job, cancel};
    JobEnd end = job.format == catalog::kNpm ? RunNpmJob(context) : RunPythonJob(context);
    if (end.abandoned) {
      return Status::Ok();
    }
    result.status = end.status;
    result.message = std::move(end.message);
    result.project = std::move(end.project);
    result.version = std::move(end.version);
  }
  result.finished_ms = clock_.NowMs();
  PIPY_RETURN_IF_ERROR(queue_.Finish(job.id, result));
  if (on_finished_) {
    on_finished_(job.format, result.status);
  }
  return Status::Ok();
}

Result<bool> BuildRunner::RunNext(std::string_view runner_id, const std::atomic<bool>* cancel) {
  PIPY_ASSIGN_OR_RETURN(std::optional<BuildJob> job, queue_.ClaimNext(runner_id, clock_.NowMs()));
  if (!job) {
    return false;
  }
  PIPY_RETURN_IF_ERROR(RunJob(*job, cancel));
  return true;
}

RunnerPool::RunnerPool(BuildRunner& runner, std::string node_id, int concurrency)
    : runner_(runner), node_id_(std::move(node_id)), concurrency_(std::max(concurrency, 1)) {}

RunnerPool::~RunnerPool() { Stop(); }

void RunnerPool::Start() {
  cancel_ = false;
  for (int i = 0; i < concurrency_; ++i) {
    threads_.emplace_back([this, i] { Loop(node_id_ + "/" + std::to_string(i)); });
  }
}

void RunnerPool::Notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  wake_.notify_all();
}

void RunnerPool::Stop() {
  cancel_ = true;
  wake_.notify_all();
  for (std::thread& t : threads_) {
    t.join();
  }
  threads_.clear();
}

void RunnerPool::Loop(std::string runner_id) {
  while (!cancel_) {
    Result<bool> ran = runner_.RunNext(runner_id, &cancel_);
    if (!ran) {
      std::cerr << "pipy: builder " << runner_id << ": " << ran.error().message() << std::endl;
    }
    if (ran && *ran) {
      continue;
    }
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, std::chrono::seconds(1), [this] { return cancel_ || notified_; });
    notified_ = false;
  }
}

}  // namespace pipy::builder
