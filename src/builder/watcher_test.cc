// The watcher's logic on real repositories (git CLI + libgit2 mirror), a real SQLite build
// queue and a fake clock.
#include "builder/watcher.h"

#include <gtest/gtest.h>

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
        [this](std::string_view project, std::string_view version) -> Result<bool> {
          return published_.contains(std::string(project) + "==" + std::string(version));
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
  published_.insert("acme-redis==2.0");
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

}  // namespace
}  // namespace pipy::builder
