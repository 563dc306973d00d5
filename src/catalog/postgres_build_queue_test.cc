#include "catalog/postgres_build_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "catalog/build_queue_conformance.h"
#include "catalog/postgres_test_util.h"

namespace pipy::catalog {
namespace {

std::unique_ptr<PostgresBuildQueue> OpenQueue(const std::string& url) {
  auto queue = PostgresBuildQueue::Open(PostgresOptions{url, 4});
  if (!queue.has_value()) {
    ADD_FAILURE() << queue.error().ToString();
    return nullptr;
  }
  return std::move(queue).value();
}

NewBuild Build(const std::string& module, std::int64_t created_ms) {
  NewBuild build;
  build.source = "mono";
  build.module = module;
  build.commit = "c";
  build.created_ms = created_ms;
  return build;
}

std::unique_ptr<BuildQueue> FreshPostgresQueue() {
  std::string url = pgtest::FreshSchemaUrl();
  if (url.empty()) {
    return nullptr;
  }
  return OpenQueue(url);
}

INSTANTIATE_TEST_SUITE_P(
    Postgres, BuildQueueConformanceTest,
    ::testing::Values(BuildQueueConformanceParam{"postgres", FreshPostgresQueue}),
    BuildQueueConformanceName);

TEST(PostgresBuildQueueTest, RunnersOnTwoNodesNeverShareAJob) {
  const std::string url = pgtest::FreshSchemaUrl();
  ASSERT_FALSE(url.empty());
  auto a = OpenQueue(url);
  auto b = OpenQueue(url);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kJobs = 40;
  for (int i = 0; i < kJobs; ++i) {
    ASSERT_TRUE(a->Enqueue(Build("m" + std::to_string(i), i)).has_value());
  }
  std::mutex mu;
  std::multiset<std::int64_t> claimed;
  std::vector<std::thread> runners;
  for (int t = 0; t < 8; ++t) {
    runners.emplace_back([&, t] {
      BuildQueue& node = t % 2 == 0 ? *a : *b;
      for (;;) {
        auto job = node.ClaimNext("runner-" + std::to_string(t), 1);
        ASSERT_TRUE(job.has_value()) << job.status().ToString();
        if (!job->has_value()) {
          return;
        }
        std::lock_guard lock(mu);
        claimed.insert((*job)->id);
      }
    });
  }
  for (auto& runner : runners) {
    runner.join();
  }
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::int64_t>(claimed.begin(), claimed.end()).size(), claimed.size())
      << "a job was claimed twice";
}

TEST(PostgresBuildQueueTest, WatcherLockIsHeldAcrossNodesAndFreedWithItsSession) {
  const std::string url = pgtest::FreshSchemaUrl();
  ASSERT_FALSE(url.empty());
  auto a = OpenQueue(url);
  auto b = OpenQueue(url);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // The lock is the session's, not a lease: time does not free it.
  EXPECT_TRUE(a->TryAcquireWatcherLock("mono-x", "node-a", 0, 1).value_or(false));
  EXPECT_FALSE(b->TryAcquireWatcherLock("mono-x", "node-b", 1'000'000, 1).value_or(true));
  EXPECT_TRUE(a->TryAcquireWatcherLock("mono-x", "node-a", 1'000'000, 1).value_or(false));
  // node a dies (its sessions close): node b takes over.
  a.reset();
  bool taken = false;
  for (int i = 0; i < 50 && !taken; ++i) {
    taken = b->TryAcquireWatcherLock("mono-x", "node-b", 0, 1).value_or(false);
    if (!taken) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  EXPECT_TRUE(taken) << "the lock outlived its holder's process";
  ASSERT_TRUE(b->ReleaseWatcherLock("mono-x", "node-b").ok());
}

TEST(PostgresBuildQueueTest, LogsKeepArbitraryBytes) {
  auto queue = FreshPostgresQueue();
  ASSERT_NE(queue, nullptr);
  auto job = queue->Enqueue(Build("m", 1));
  ASSERT_TRUE(job.has_value());
  const std::string bytes("a\0b\xff\n", 5);
  ASSERT_TRUE(queue->AppendLog(job->id, bytes, 1024).ok());
  EXPECT_EQ(queue->ReadLog(job->id, 0, 1024).value_or(""), bytes);
}

}  // namespace
}  // namespace pipy::catalog
