#include "builder/watcher.h"

#include <algorithm>
#include <iostream>
#include <map>

#include "builder/build_order.h"

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

Result<std::vector<CommitModule>> Watcher::Unpublished(std::vector<CommitModule> modules) {
  std::vector<CommitModule> out;
  for (CommitModule& module : modules) {
    if (!module.node.package.empty()) {
      PIPY_ASSIGN_OR_RETURN(bool published,
                            published_(module.format, module.node.package, module.version));
      if (published) {
        continue;
      }
    }
    out.push_back(std::move(module));
  }
  return out;
}

// The cap on the one line a cycle's failed record logs (the message names every module).
constexpr std::uint64_t kCycleLogBytes = 64 * 1024;

Result<int> Watcher::EnqueuePlanned(const std::string& commit,
                                    const std::vector<CommitModule>& modules) {
  std::vector<ModuleNode> nodes;
  std::map<std::string, const CommitModule*> by_id;
  for (const CommitModule& module : modules) {
    nodes.push_back(module.node);
    by_id[module.node.id] = &module;
  }
  PIPY_ASSIGN_OR_RETURN(Plan plan, PlanBuilds(nodes));
  const std::int64_t now = clock_.NowMs();
  auto build_of = [&](const std::string& id) {
    const CommitModule& module = *by_id.at(id);
    catalog::NewBuild build;
    build.source = source_.name;
    build.module = module.folder;
    build.format = module.format;
    build.commit = commit;
    build.created_ms = now;
    build.project = module.node.package;
    build.version = module.version;
    return build;
  };
  std::map<std::string, std::int64_t> job_ids;
  // A module in a cycle cannot be built: a failed record, never run.
  for (const auto& [id, planned] : plan.modules) {
    if (planned.state == PlanState::kCycle) {
      catalog::NewBuild build = build_of(id);
      build.finished_as = catalog::BuildStatus::kFailed;
      build.message = planned.message;
      PIPY_ASSIGN_OR_RETURN(catalog::BuildJob job, queue_.Enqueue(build));
      // Its log says why too, as every failed build's does.
      PIPY_RETURN_IF_ERROR(queue_.AppendLog(job.id, "pipy: failed: " + planned.message + "\n",
                                            kCycleLogBytes));
      job_ids[id] = job.id;
    }
  }
  // Every other module after the modules it waits for, so each job can name the jobs it
  // waits for: the build order first, then the modules behind a cycle, which wait for it
  // and are skipped by the runner as behind a failure (naming it). Those form no cycle
  // among themselves, so every round adds at least one.
  std::vector<std::string> pending = plan.order;
  for (const auto& [id, planned] : plan.modules) {
    if (planned.state == PlanState::kBehindCycle) {
      pending.push_back(id);
    }
  }
  while (!pending.empty()) {
    const std::size_t before = pending.size();
    std::vector<std::string> later;
    for (const std::string& id : pending) {
      const PlannedModule& planned = plan.modules.at(id);
      catalog::NewBuild build = build_of(id);
      bool ready = true;
      for (const std::string& dependency : planned.waits_for) {
        auto known = job_ids.find(dependency);
        ready = ready && known != job_ids.end();
        if (ready) {
          build.waits_for.push_back(known->second);
        }
      }
      if (!ready) {
        later.push_back(id);
        continue;
      }
      PIPY_ASSIGN_OR_RETURN(catalog::BuildJob job, queue_.Enqueue(build));
      job_ids[id] = job.id;
    }
    pending = std::move(later);
    if (pending.size() == before) {
      return Internal("the build plan of commit " + commit + " cannot be ordered");
    }
  }
  return static_cast<int>(plan.modules.size());
}

Result<int> Watcher::PollOnce() {
  PIPY_RETURN_IF_ERROR(git_.Fetch());
  PIPY_ASSIGN_OR_RETURN(std::string head, git_.BranchHead(source_.branch));
  PIPY_ASSIGN_OR_RETURN(std::optional<std::string> last, queue_.GetSourceCommit(source_.name));
  if (last == head) {
    return 0;
  }
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
  PIPY_ASSIGN_OR_RETURN(std::vector<std::string> folders, git_.ListModules(head));
  if (changed) {
    std::erase_if(folders, [&](const std::string& f) { return !changed->contains(f); });
  }
  PIPY_ASSIGN_OR_RETURN(std::vector<CommitModule> modules, ReadCommitModules(git_, head, folders));
  if (!changed) {
    PIPY_ASSIGN_OR_RETURN(modules, Unpublished(std::move(modules)));
  }
  PIPY_ASSIGN_OR_RETURN(int enqueued, EnqueuePlanned(head, modules));
  // Only after every job is queued: a crash before this line re-enqueues the same commit,
  // which Enqueue answers with the pending jobs.
  PIPY_RETURN_IF_ERROR(queue_.SetSourceCommit(source_.name, head));
  if (enqueued > 0 && on_enqueued_) {
    on_enqueued_();
  }
  return enqueued;
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
