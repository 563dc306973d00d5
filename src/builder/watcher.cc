#include "builder/watcher.h"

#include <algorithm>
#include <iostream>

#include "builder/module.h"

namespace pipy::builder {

Watcher::Watcher(config::SourceConfig source, GitSource& git, catalog::BuildQueue& queue,
                 Clock& clock, PublishedCheck published, std::string holder,
                 std::function<void()> on_enqueued)
    : source_(std::move(source)),
      git_(git),
      queue_(queue),
      clock_(clock),
      published_(std::move(published)),
      holder_(std::move(holder)),
      on_enqueued_(std::move(on_enqueued)) {}

Watcher::~Watcher() { Stop(); }

Result<std::vector<std::string>> Watcher::UnpublishedModules(const std::string& head) {
  PIPY_ASSIGN_OR_RETURN(std::vector<std::string> modules, git_.ListModules(head));
  std::vector<std::string> out;
  for (const std::string& module : modules) {
    PIPY_ASSIGN_OR_RETURN(std::optional<std::string> text,
                          git_.ReadFile(head, module + "/pyproject.toml"));
    Result<ModuleConfig> config = ParseModuleConfig(text.value_or(""));
    if (config) {
      PIPY_ASSIGN_OR_RETURN(bool published, published_(config->normalized_name, config->version));
      if (published) {
        continue;
      }
    }
    out.push_back(module);
  }
  return out;
}

Result<int> Watcher::PollOnce() {
  PIPY_RETURN_IF_ERROR(git_.Fetch());
  PIPY_ASSIGN_OR_RETURN(std::string head, git_.BranchHead(source_.branch));
  PIPY_ASSIGN_OR_RETURN(std::optional<std::string> last, queue_.GetSourceCommit(source_.name));
  if (last == head) {
    return 0;
  }
  std::vector<std::string> to_build;
  std::optional<std::set<std::string>> changed;
  if (last) {
    Result<std::set<std::string>> diff = git_.ChangedFolders(*last, head);
    if (diff) {
      changed = std::move(*diff);
    } else if (diff.error().code() != StatusCode::kNotFound) {
      return diff.error();
    }
    // kNotFound: the last commit is gone (a force push); start over as on a first commit.
  }
  if (changed) {
    PIPY_ASSIGN_OR_RETURN(std::vector<std::string> modules, git_.ListModules(head));
    for (const std::string& module : modules) {
      if (changed->contains(module)) {
        to_build.push_back(module);
      }
    }
  } else {
    PIPY_ASSIGN_OR_RETURN(to_build, UnpublishedModules(head));
  }
  for (const std::string& module : to_build) {
    PIPY_RETURN_IF_ERROR(
        queue_.Enqueue(catalog::NewBuild{source_.name, module, head, clock_.NowMs()}).status());
  }
  // Only after every job is queued: a crash before this line re-enqueues the same commit,
  // which Enqueue answers with the pending jobs.
  PIPY_RETURN_IF_ERROR(queue_.SetSourceCommit(source_.name, head));
  if (!to_build.empty() && on_enqueued_) {
    on_enqueued_();
  }
  return static_cast<int>(to_build.size());
}

Result<std::optional<int>> Watcher::Tick() {
  // The lease outlives a few missed rounds, so a slow fetch does not hand the source over.
  const std::int64_t lease_ms =
      std::max<std::int64_t>(60'000, 3 * source_.poll_interval.count());
  PIPY_ASSIGN_OR_RETURN(bool held,
                        queue_.TryAcquireWatcherLock(source_.name, holder_, clock_.NowMs(),
                                                     lease_ms));
  if (!held) {
    return std::optional<int>();
  }
  PIPY_ASSIGN_OR_RETURN(int enqueued, PollOnce());
  return std::optional<int>(enqueued);
}

void Watcher::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) {
    return;
  }
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Watcher::Trigger() {
  {
    std::lock_guard lock(mu_);
    triggered_ = true;
  }
  wake_.notify_all();
}

void Watcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  (void)queue_.ReleaseWatcherLock(source_.name, holder_);
}

void Watcher::Loop() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        return;
      }
      triggered_ = false;
    }
    Result<std::optional<int>> round = Tick();
    if (!round) {
      std::cerr << "pipy: source " << source_.name << ": " << round.error().message()
                << std::endl;
    }
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, source_.poll_interval, [this] { return stopping_ || triggered_; });
    if (stopping_) {
      return;
    }
  }
}

}  // namespace pipy::builder
