#include "catalog/build_queue_conformance.h"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace pipy::catalog {

void BuildQueueConformanceTest::SetUp() {
  queue_ = GetParam().make_queue();
  ASSERT_NE(queue_, nullptr) << "the factory could not create a build queue";
}

std::string BuildQueueConformanceName(
    const ::testing::TestParamInfo<BuildQueueConformanceParam>& info) {
  return info.param.name;
}

namespace {

const std::string kCommitA(40, 'a');
const std::string kCommitB(40, 'b');

NewBuild Build(const std::string& module, const std::string& commit, std::int64_t at = 1000) {
  NewBuild build;
  build.source = "mono";
  build.module = module;
  build.commit = commit;
  build.created_ms = at;
  return build;
}

BuildJob MustEnqueue(BuildQueue& queue, const NewBuild& build) {
  auto job = queue.Enqueue(build);
  EXPECT_TRUE(job.has_value()) << job.status().ToString();
  return job.value_or(BuildJob{});
}

BuildResult Result(BuildStatus status, std::string message, std::int64_t at = 9000) {
  BuildResult r;
  r.status = status;
  r.message = std::move(message);
  r.project = "acme-logger";
  r.version = "1.0";
  r.finished_ms = at;
  return r;
}

std::string ReadAll(BuildQueue& queue, std::int64_t id) {
  auto log = queue.ReadLog(id, 0, 1 << 30);
  EXPECT_TRUE(log.has_value()) << log.status().ToString();
  return log.value_or("");
}

TEST_P(BuildQueueConformanceTest, EnqueuedJobIsQueuedWithEveryField) {
  BuildJob first = MustEnqueue(*queue_, Build("logger", kCommitA, 1234));
  BuildJob second = MustEnqueue(*queue_, Build("redis", kCommitA));
  EXPECT_GT(first.id, 0);
  EXPECT_GT(second.id, first.id);
  auto got = queue_->Get(first.id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  const BuildJob& job = **got;
  EXPECT_EQ(job.source, "mono");
  EXPECT_EQ(job.module, "logger");
  EXPECT_EQ(job.commit, kCommitA);
  EXPECT_EQ(job.status, BuildStatus::kQueued);
  EXPECT_EQ(job.created_ms, 1234);
  EXPECT_EQ(job.started_ms, 0);
  EXPECT_EQ(job.finished_ms, 0);
  EXPECT_TRUE(job.project.empty());

  auto missing = queue_->Get(second.id + 100);
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(BuildQueueConformanceTest, EnqueueingAPendingJobAgainReturnsIt) {
  BuildJob first = MustEnqueue(*queue_, Build("logger", kCommitA));
  BuildJob again = MustEnqueue(*queue_, Build("logger", kCommitA));
  EXPECT_EQ(again.id, first.id);
  BuildJob other_commit = MustEnqueue(*queue_, Build("logger", kCommitB));
  EXPECT_NE(other_commit.id, first.id);

  auto claimed = queue_->ClaimNext("node/0", 2000);
  ASSERT_TRUE(claimed.has_value() && claimed->has_value());
  EXPECT_EQ(MustEnqueue(*queue_, Build("logger", kCommitA)).id, first.id) << "still running";
  ASSERT_TRUE(queue_->Finish(first.id, Result(BuildStatus::kFailed, "tests failed")).ok());
  // A finished job does not block a rebuild of the same commit.
  EXPECT_GT(MustEnqueue(*queue_, Build("logger", kCommitA)).id, other_commit.id);
}

TEST_P(BuildQueueConformanceTest, ClaimTakesTheOldestQueuedJobOnce) {
  auto none = queue_->ClaimNext("node/0", 1);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());

  BuildJob first = MustEnqueue(*queue_, Build("a", kCommitA));
  BuildJob second = MustEnqueue(*queue_, Build("b", kCommitA));
  auto claimed = queue_->ClaimNext("node/1", 5000);
  ASSERT_TRUE(claimed.has_value() && claimed->has_value());
  EXPECT_EQ((*claimed)->id, first.id);
  EXPECT_EQ((*claimed)->status, BuildStatus::kRunning);
  EXPECT_EQ((*claimed)->runner, "node/1");
  EXPECT_EQ((*claimed)->started_ms, 5000);

  auto next = queue_->ClaimNext("node/1", 5001);
  ASSERT_TRUE(next.has_value() && next->has_value());
  EXPECT_EQ((*next)->id, second.id);
  auto empty = queue_->ClaimNext("node/1", 5002);
  ASSERT_TRUE(empty.has_value());
  EXPECT_FALSE(empty->has_value());
}

TEST_P(BuildQueueConformanceTest, ConcurrentClaimsNeverShareAJob) {
  constexpr int kJobs = 24;
  for (int i = 0; i < kJobs; ++i) {
    MustEnqueue(*queue_, Build("m" + std::to_string(i), kCommitA));
  }
  std::mutex mu;
  std::multiset<std::int64_t> claimed;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (;;) {
        auto job = queue_->ClaimNext("node/" + std::to_string(t), 1);
        if (!job.has_value()) {
          ++errors;
          return;
        }
        if (!job->has_value()) {
          return;
        }
        std::lock_guard lock(mu);
        claimed.insert((*job)->id);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::int64_t>(claimed.begin(), claimed.end()).size(), claimed.size())
      << "a job was claimed twice";
}

TEST_P(BuildQueueConformanceTest, FinishRecordsTheResultOnlyForRunningJobs) {
  BuildJob job = MustEnqueue(*queue_, Build("logger", kCommitA));
  EXPECT_EQ(queue_->Finish(job.id, Result(BuildStatus::kPassed, "")).code(),
            StatusCode::kAlreadyExists)
      << "a queued job cannot finish";
  ASSERT_TRUE(queue_->ClaimNext("n", 2000).has_value());
  ASSERT_TRUE(queue_->Finish(job.id, Result(BuildStatus::kSkipped, "1.0 is already published"))
                  .ok());
  auto got = queue_->Get(job.id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ((*got)->status, BuildStatus::kSkipped);
  EXPECT_EQ((*got)->message, "1.0 is already published");
  EXPECT_EQ((*got)->project, "acme-logger");
  EXPECT_EQ((*got)->version, "1.0");
  EXPECT_EQ((*got)->finished_ms, 9000);
  EXPECT_EQ(queue_->Finish(job.id, Result(BuildStatus::kFailed, "again")).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(queue_->Finish(job.id + 100, Result(BuildStatus::kFailed, "")).code(),
            StatusCode::kNotFound);
}

TEST_P(BuildQueueConformanceTest, LogGrowsAndIsReadFromAnyOffset) {
  BuildJob job = MustEnqueue(*queue_, Build("logger", kCommitA));
  EXPECT_EQ(ReadAll(*queue_, job.id), "");
  ASSERT_TRUE(queue_->AppendLog(job.id, "hello ", 1000).ok());
  ASSERT_TRUE(queue_->AppendLog(job.id, std::string("wor\0ld\n", 7), 1000).ok());
  EXPECT_EQ(ReadAll(*queue_, job.id), std::string("hello wor\0ld\n", 13));
  auto middle = queue_->ReadLog(job.id, 3, 5);
  ASSERT_TRUE(middle.has_value());
  EXPECT_EQ(*middle, "lo wo");
  auto tail = queue_->ReadLog(job.id, 13, 100);
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(*tail, "");
  auto got = queue_->Get(job.id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ((*got)->log_bytes, 13u);
  EXPECT_EQ(queue_->AppendLog(job.id + 100, "x", 1000).code(), StatusCode::kNotFound);
  EXPECT_EQ(queue_->ReadLog(job.id + 100, 0, 10).status().code(), StatusCode::kNotFound);
}

TEST_P(BuildQueueConformanceTest, LogIsCappedWithOneTruncationNote) {
  BuildJob job = MustEnqueue(*queue_, Build("logger", kCommitA));
  ASSERT_TRUE(queue_->AppendLog(job.id, "0123456789", 16).ok());
  ASSERT_TRUE(queue_->AppendLog(job.id, "abcdefghij", 16).ok());
  ASSERT_TRUE(queue_->AppendLog(job.id, "dropped", 16).ok());
  std::string log = ReadAll(*queue_, job.id);
  EXPECT_TRUE(log.starts_with("0123456789abcdef")) << log;
  EXPECT_EQ(log.find("ghij"), std::string::npos) << log;
  EXPECT_EQ(log.find("dropped"), std::string::npos) << log;
  EXPECT_NE(log.find("[log truncated"), std::string::npos) << log;
  EXPECT_EQ(log.find("[log truncated"), log.rfind("[log truncated")) << "one note only";
}

TEST_P(BuildQueueConformanceTest, ListIsNewestFirstWithPaging) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(MustEnqueue(*queue_, Build("m" + std::to_string(i), kCommitA)).id);
  }
  auto page = queue_->List(0, 3);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].id, ids[4]);
  EXPECT_EQ((*page)[1].id, ids[3]);
  EXPECT_EQ((*page)[2].id, ids[2]);
  auto rest = queue_->List(page->back().id, 3);
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[0].id, ids[1]);
  EXPECT_EQ((*rest)[1].id, ids[0]);
  EXPECT_EQ((*rest)[1].module, "m0");
}

TEST_P(BuildQueueConformanceTest, RequeueRunningPutsOnlyThatRunnersJobsBack) {
  BuildJob mine = MustEnqueue(*queue_, Build("a", kCommitA));
  BuildJob theirs = MustEnqueue(*queue_, Build("b", kCommitA));
  BuildJob done = MustEnqueue(*queue_, Build("c", kCommitA));
  ASSERT_TRUE(queue_->ClaimNext("node-1/0", 10).has_value());
  ASSERT_TRUE(queue_->ClaimNext("node-2/0", 10).has_value());
  ASSERT_TRUE(queue_->ClaimNext("node-1/1", 10).has_value());
  ASSERT_TRUE(queue_->Finish(done.id, Result(BuildStatus::kPassed, "")).ok());
  ASSERT_TRUE(queue_->AppendLog(mine.id, "step 1\n", 1000).ok());

  auto requeued = queue_->RequeueRunning("node-1/");
  ASSERT_TRUE(requeued.has_value()) << requeued.status().ToString();
  EXPECT_EQ(*requeued, 1);
  auto got = queue_->Get(mine.id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ((*got)->status, BuildStatus::kQueued);
  EXPECT_EQ((*got)->started_ms, 0);
  std::string log = ReadAll(*queue_, mine.id);
  EXPECT_TRUE(log.starts_with("step 1\n")) << log;
  EXPECT_NE(log.find("re-queued"), std::string::npos) << log;
  auto other = queue_->Get(theirs.id);
  ASSERT_TRUE(other.has_value() && other->has_value());
  EXPECT_EQ((*other)->status, BuildStatus::kRunning);

  auto again = queue_->ClaimNext("node-1/0", 20);
  ASSERT_TRUE(again.has_value() && again->has_value());
  EXPECT_EQ((*again)->id, mine.id);

  auto all = queue_->RequeueRunning("");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(*all, 2);
}

TEST_P(BuildQueueConformanceTest, SourceCommitIsRememberedPerSource) {
  auto none = queue_->GetSourceCommit("mono");
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(queue_->SetSourceCommit("mono", kCommitA).ok());
  ASSERT_TRUE(queue_->SetSourceCommit("other", kCommitB).ok());
  ASSERT_TRUE(queue_->SetSourceCommit("mono", kCommitB).ok());
  auto mono = queue_->GetSourceCommit("mono");
  ASSERT_TRUE(mono.has_value() && mono->has_value());
  EXPECT_EQ(**mono, kCommitB);
  auto other = queue_->GetSourceCommit("other");
  ASSERT_TRUE(other.has_value() && other->has_value());
  EXPECT_EQ(**other, kCommitB);
}

TEST_P(BuildQueueConformanceTest, WatcherLockHasOneHolderAtATime) {
  auto a = queue_->TryAcquireWatcherLock("mono", "node-a", 1000, 500);
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(*a);
  auto b = queue_->TryAcquireWatcherLock("mono", "node-b", 1100, 500);
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(*b) << "the lease of node-a is still valid";
  auto other_source = queue_->TryAcquireWatcherLock("other", "node-b", 1100, 500);
  ASSERT_TRUE(other_source.has_value());
  EXPECT_TRUE(*other_source);
  auto renew = queue_->TryAcquireWatcherLock("mono", "node-a", 1200, 500);
  ASSERT_TRUE(renew.has_value());
  EXPECT_TRUE(*renew);

  ASSERT_TRUE(queue_->ReleaseWatcherLock("mono", "node-b").ok());  // not the holder: no-op
  auto still = queue_->TryAcquireWatcherLock("mono", "node-b", 1300, 500);
  ASSERT_TRUE(still.has_value());
  EXPECT_FALSE(*still);
  ASSERT_TRUE(queue_->ReleaseWatcherLock("mono", "node-a").ok());
  auto taken = queue_->TryAcquireWatcherLock("mono", "node-b", 1300, 500);
  ASSERT_TRUE(taken.has_value());
  EXPECT_TRUE(*taken);
}

}  // namespace
}  // namespace pipy::catalog
