// The watcher's logic on real repositories (git CLI + libgit2 mirror), a real SQLite build
// queue and a fake clock.
#include "builder/watcher.h"

#include <gtest/gtest.h>

#include <map>

#include <set>

#include "builder/test_repo.h"
#include "catalog/sqlite_build_queue.h"
#include "testing/dist_builder.h"

namespace pipy::builder {
namespace {

using testing::TestRepo;

struct FakeClock : Clock {
  std::int64_t now = 1'000'000;
  std::int64_t NowMs() override { return now; }
};

class WatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto queue = catalog::SqliteBuildQueue::Open(tmp_.path() / "catalog.db");
    ASSERT_TRUE(queue.has_value()) << queue.error().ToString();
    queue_ = std::move(*queue);
    auto git = OpenLibgit2Source(repo_.path().string(), tmp_.path() / "mirror");
    ASSERT_TRUE(git.has_value()) << git.error().ToString();
    git_ = std::move(*git);
    source_.name = "mono";
    source_.repo = repo_.path().string();
    watcher_ = MakeWatcher("node-a");
  }

  std::unique_ptr<Watcher> MakeWatcher(const std::string& holder) {
    return std::make_unique<Watcher>(
        source_, *git_, *queue_, clock_,
        [this](std::string_view format, std::string_view project,
               std::string_view version) -> Result<bool> {
          return published_.contains(std::string(format) + ":" + std::string(project) + "==" +
                                     std::string(version));
        },
        holder, [this] { ++wakeups_; });
  }

  // The modules of every job enqueued since the last call.
  std::multiset<std::string> NewJobs() {
    auto jobs = queue_->List(0, 1000);
    EXPECT_TRUE(jobs.has_value());
    std::multiset<std::string> out;
    for (const auto& job : *jobs) {
      if (job.id > seen_) {
        out.insert(job.module);
      }
    }
    if (!jobs->empty()) {
      seen_ = std::max(seen_, jobs->front().id);
    }
    return out;
  }

  int Poll() {
    auto n = watcher_->PollOnce();
    EXPECT_TRUE(n.has_value()) << n.error().ToString();
    return n.value_or(-1);
  }

  pipy::testing::TempDir tmp_;
  TestRepo repo_;
  FakeClock clock_;
  config::SourceConfig source_;
  std::unique_ptr<catalog::BuildQueue> queue_;
  std::unique_ptr<GitSource> git_;
  std::unique_ptr<Watcher> watcher_;
  std::set<std::string> published_;
  std::int64_t seen_ = 0;
  int wakeups_ = 0;
};

using Modules = std::multiset<std::string>;

TEST_F(WatcherTest, FirstCommitBuildsEveryUnpublishedModule) {
  repo_.WriteModule("logger", "acme-logger", "1.0");
  repo_.WriteModule("redis", "acme-redis", "2.0");
  repo_.Write("broken/pyproject.toml", "[project\n");  // built, so its failure is recorded
  repo_.Write("docs/index.md", "no module here\n");
  std::string head = repo_.Commit("first");
  published_.insert("python:acme-redis==2.0");
  EXPECT_EQ(Poll(), 2);
  EXPECT_EQ(NewJobs(), (Modules{"broken", "logger"}));
  EXPECT_EQ(wakeups_, 1);
  auto jobs = queue_->List(0, 10);
  ASSERT_TRUE(jobs.has_value() && !jobs->empty());
  EXPECT_EQ(jobs->front().commit, head);
  EXPECT_EQ(jobs->front().source, "mono");
  EXPECT_EQ(jobs->front().created_ms, clock_.now);
  EXPECT_EQ(queue_->GetSourceCommit("mono").value_or(std::nullopt), head);
  // Nothing new: nothing enqueued, even though the jobs are still queued.
  EXPECT_EQ(Poll(), 0);
  EXPECT_EQ(NewJobs(), Modules{});
}

TEST_F(WatcherTest, LaterCommitsBuildOnlyChangedModules) {
  repo_.WriteModule("a", "acme-a", "1.0");
  repo_.WriteModule("b", "acme-b", "1.0");
  repo_.WriteModule("c", "acme-c", "1.0");
  repo_.Commit("first");
  Poll();
  NewJobs();

  repo_.WriteModule("a", "acme-a", "1.1");  // a version bump
  repo_.Commit("bump a");
  EXPECT_EQ(Poll(), 1);
  EXPECT_EQ(NewJobs(), Modules{"a"});

  repo_.Write("README.md", "docs\n");
  repo_.Write("docs/guide.md", "more docs\n");
  repo_.Commit("docs only");
  EXPECT_EQ(Poll(), 0);
  EXPECT_EQ(NewJobs(), Modules{});

  repo_.Git("mv b b2");
  repo_.Git("rm -r -q c");
  repo_.Commit("rename b, delete c");
  EXPECT_EQ(Poll(), 1);
  EXPECT_EQ(NewJobs(), Modules{"b2"}) << "the renamed module builds; the deleted one cannot";
}

TEST_F(WatcherTest, OtherBranchesAreIgnored) {
  repo_.WriteModule("a", "acme-a", "1.0");
  repo_.Commit("first");
  Poll();
  NewJobs();
  repo_.Git("checkout -q -b feature");
  repo_.WriteModule("a", "acme-a", "9.0");
  repo_.Commit("on a branch");
  EXPECT_EQ(Poll(), 0);
  EXPECT_EQ(NewJobs(), Modules{});
  repo_.Git("checkout -q main");
  repo_.Git("merge -q feature");
  EXPECT_EQ(Poll(), 1);
  EXPECT_EQ(NewJobs(), Modules{"a"});
}

TEST_F(WatcherTest, ARestartedWatcherContinuesFromTheStoredCommit) {
  repo_.WriteModule("a", "acme-a", "1.0");
  repo_.WriteModule("b", "acme-b", "1.0");
  repo_.Commit("first");
  Poll();
  NewJobs();
  repo_.WriteModule("b", "acme-b", "1.1");
  repo_.Commit("bump b");
  watcher_ = MakeWatcher("node-a");  // as after a restart
  EXPECT_EQ(Poll(), 1);
  EXPECT_EQ(NewJobs(), Modules{"b"});
}

TEST_F(WatcherTest, OnlyTheLockHolderPolls) {
  repo_.WriteModule("a", "acme-a", "1.0");
  repo_.Commit("first");
  auto other = MakeWatcher("node-b");
  auto mine = watcher_->Tick();
  ASSERT_TRUE(mine.has_value());
  ASSERT_TRUE(mine->has_value());
  EXPECT_EQ(**mine, 1);
  auto theirs = other->Tick();
  ASSERT_TRUE(theirs.has_value());
  EXPECT_FALSE(theirs->has_value()) << "node-b polled while node-a holds the lock";
  clock_.now += 10 * 60'000;  // node-a's lease ran out
  theirs = other->Tick();
  ASSERT_TRUE(theirs.has_value());
  EXPECT_TRUE(theirs->has_value());
}

TEST_F(WatcherTest, TriggerRunsARoundWithoutWaitingForThePollInterval) {
  source_.poll_interval = std::chrono::hours(1);
  watcher_ = MakeWatcher("node-a");
  watcher_->Start();  // the first round finds no branch yet
  repo_.WriteModule("a", "acme-a", "1.0");
  repo_.Commit("first");
  watcher_->Trigger();
  for (int i = 0; i < 100 && NewJobs().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  watcher_->Stop();
  auto last = queue_->GetSourceCommit("mono");
  ASSERT_TRUE(last.has_value());
  EXPECT_TRUE(last->has_value()) << "the triggered round did not run";
}

// The jobs of the newest commit by "<folder>:<format>".
std::map<std::string, catalog::BuildJob> JobsById(catalog::BuildQueue& queue) {
  std::map<std::string, catalog::BuildJob> out;
  for (const catalog::BuildJob& job : queue.List(0, 1000).value_or(std::vector<catalog::BuildJob>{})) {
    out.emplace(job.module + ":" + job.format, job);
  }
  return out;
}

void WritePackage(TestRepo& repo, const std::string& folder, const std::string& name,
                  const std::string& extra = "") {
  repo.Write(folder + "/package.json",
             "{\"name\": \"" + name + "\", \"version\": \"1.0.0\"" + extra + "}");
}

TEST_F(WatcherTest, PackageJsonFoldersAreNpmModulesAndAMixedFolderIsTwo) {
  WritePackage(repo_, "web", "acme-web");
  repo_.WriteModule("both", "acme-both", "1.0");
  WritePackage(repo_, "both", "acme-both");
  repo_.Write("tools/package.json", "{\"private\": true}");  // tooling, not a module
  WritePackage(repo_, "old", "acme-old");
  repo_.Write("broken/package.json", "{\"name\": ");  // built, so its failure is recorded
  published_.insert("npm:acme-old==1.0.0");
  repo_.Commit("first");
  EXPECT_EQ(Poll(), 4);
  std::map<std::string, catalog::BuildJob> jobs = JobsById(*queue_);
  EXPECT_EQ(jobs.size(), 4u);
  for (const char* id : {"web:npm", "both:python", "both:npm", "broken:npm"}) {
    ASSERT_TRUE(jobs.contains(id)) << id;
    EXPECT_EQ(jobs[id].status, catalog::BuildStatus::kQueued) << id;
  }
}

TEST_F(WatcherTest, AJobWaitsForTheJobsOfItsInternalDependenciesInTheSameCommit) {
  repo_.WriteModule("core", "acme-core", "1.0");
  repo_.WriteModule("api", "acme-api", "1.0", "dependencies = [\"Acme_Core>=1.0\"]\n");
  WritePackage(repo_, "log", "acme-log");
  WritePackage(repo_, "web", "acme-web",
               ", \"dependencies\": {\"acme-log\": \"^1.0.0\", \"left-pad\": \"1\"}");
  WritePackage(repo_, "peer", "acme-peer", ", \"peerDependencies\": {\"acme-web\": \"1\"}");
  // Test-only dependencies order nothing.
  WritePackage(repo_, "dev", "acme-dev", ", \"devDependencies\": {\"acme-log\": \"1\"}");
  // A Python and an npm package of the same name are unrelated.
  WritePackage(repo_, "cross", "acme-cross", ", \"dependencies\": {\"acme-core\": \"1\"}");
  repo_.Commit("first");
  EXPECT_EQ(Poll(), 7);
  std::map<std::string, catalog::BuildJob> jobs = JobsById(*queue_);
  ASSERT_EQ(jobs.size(), 7u);
  using Ids = std::vector<std::int64_t>;
  EXPECT_EQ(jobs["api:python"].waits_for, Ids{jobs["core:python"].id});
  EXPECT_EQ(jobs["web:npm"].waits_for, Ids{jobs["log:npm"].id});
  EXPECT_EQ(jobs["peer:npm"].waits_for, Ids{jobs["web:npm"].id});
  EXPECT_EQ(jobs["dev:npm"].waits_for, Ids{});
  EXPECT_EQ(jobs["cross:npm"].waits_for, Ids{});
  EXPECT_EQ(jobs["core:python"].waits_for, Ids{});
  // Dependencies are enqueued first: only they can be claimed before they finish.
  EXPECT_LT(jobs["core:python"].id, jobs["api:python"].id);
  EXPECT_LT(jobs["web:npm"].id, jobs["peer:npm"].id);

  // A later commit changing only the dependent waits for nothing: its dependency's
  // published version is what it installs.
  repo_.WriteModule("api", "acme-api", "1.1", "dependencies = [\"acme-core\"]\n");
  repo_.Commit("bump api");
  EXPECT_EQ(Poll(), 1);
  auto latest = queue_->List(0, 1);
  ASSERT_TRUE(latest.has_value() && latest->size() == 1u);
  EXPECT_EQ(latest->front().module, "api");
  EXPECT_TRUE(latest->front().waits_for.empty());
}

TEST_F(WatcherTest, ACycleGetsFailedRecordsAndWhatDependsOnItWaitsForThem) {
  WritePackage(repo_, "a", "acme-a", ", \"dependencies\": {\"acme-b\": \"1\"}");
  WritePackage(repo_, "b", "acme-b", ", \"dependencies\": {\"acme-a\": \"1\"}");
  WritePackage(repo_, "c", "acme-c", ", \"dependencies\": {\"acme-a\": \"1\"}");
  WritePackage(repo_, "d", "acme-d", ", \"dependencies\": {\"acme-c\": \"1\"}");
  repo_.Commit("first");
  EXPECT_EQ(Poll(), 4);
  std::map<std::string, catalog::BuildJob> jobs = JobsById(*queue_);
  for (const char* id : {"a:npm", "b:npm"}) {
    EXPECT_EQ(jobs[id].status, catalog::BuildStatus::kFailed) << id;
    EXPECT_NE(jobs[id].message.find("dependency cycle: "), std::string::npos) << jobs[id].message;
    EXPECT_NE(jobs[id].message.find("acme-a (a:npm)"), std::string::npos) << jobs[id].message;
    EXPECT_NE(jobs[id].message.find("acme-b (b:npm)"), std::string::npos) << jobs[id].message;
    EXPECT_EQ(queue_->ReadLog(jobs[id].id, 0, 4096).value_or(""),
              "pipy: failed: " + jobs[id].message + "\n");
    EXPECT_EQ(jobs[id].project, id == std::string("a:npm") ? "acme-a" : "acme-b");
  }
  // Behind the cycle: queued, waiting for it, so the runner skips them naming it.
  EXPECT_EQ(jobs["c:npm"].status, catalog::BuildStatus::kQueued);
  EXPECT_EQ(jobs["c:npm"].waits_for, std::vector<std::int64_t>{jobs["a:npm"].id});
  EXPECT_EQ(jobs["d:npm"].waits_for, std::vector<std::int64_t>{jobs["c:npm"].id});
}

}  // namespace
}  // namespace pipy::builder
