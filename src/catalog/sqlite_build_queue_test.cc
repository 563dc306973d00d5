#include "catalog/sqlite_build_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "catalog/build_queue_conformance.h"
#include "catalog/sqlite_catalog.h"
#include "testing/temp_dir.h"

namespace pipy::catalog {
namespace {

namespace fs = std::filesystem;

// A new subfolder of one temp folder for the whole binary, which is removed at exit.
fs::path NewDir() {
  static const pipy::testing::TempDir root("pipy-build-queue-test");
  static std::atomic<int> counter{0};
  fs::path dir = root.path() / ("db" + std::to_string(counter.fetch_add(1)));
  fs::create_directories(dir);
  return dir;
}

std::unique_ptr<BuildQueue> FreshSqliteQueue() {
  auto queue = SqliteBuildQueue::Open(NewDir() / "catalog.db");
  if (!queue.has_value()) {
    ADD_FAILURE() << queue.error().ToString();
    return nullptr;
  }
  return std::move(queue).value();
}

INSTANTIATE_TEST_SUITE_P(Sqlite, BuildQueueConformanceTest,
                         ::testing::Values(BuildQueueConformanceParam{"sqlite", FreshSqliteQueue}),
                         BuildQueueConformanceName);

TEST(SqliteBuildQueueTest, AnExpiredWatcherLeaseIsTakenOver) {
  auto queue = FreshSqliteQueue();
  ASSERT_NE(queue, nullptr);
  ASSERT_TRUE(queue->TryAcquireWatcherLock("mono", "node-a", 1000, 500).value_or(false));
  EXPECT_FALSE(queue->TryAcquireWatcherLock("mono", "node-b", 1499, 500).value_or(true));
  EXPECT_TRUE(queue->TryAcquireWatcherLock("mono", "node-b", 1500, 500).value_or(false));
  EXPECT_FALSE(queue->TryAcquireWatcherLock("mono", "node-a", 1600, 500).value_or(true));
}

TEST(SqliteBuildQueueTest, JobsSurviveReopeningBesideTheCatalog) {
  fs::path db = NewDir() / "catalog.db";
  std::int64_t id = 0;
  {
    auto queue = SqliteBuildQueue::Open(db);
    ASSERT_TRUE(queue.has_value()) << queue.error().ToString();
    NewBuild build;
    build.source = "mono";
    build.module = "logger";
    build.commit = std::string(40, 'a');
    build.created_ms = 1;
    auto job = (*queue)->Enqueue(build);
    ASSERT_TRUE(job.has_value());
    id = job->id;
    ASSERT_TRUE((*queue)->ClaimNext("node/0", 2).has_value());
  }
  // The catalog opened on the same file does not re-run migrations or lose jobs.
  auto catalog = SqliteCatalog::Open(db);
  ASSERT_TRUE(catalog.has_value()) << catalog.error().ToString();
  auto queue = MakeBuildQueue(CatalogOptions{"sqlite", db, ""});
  ASSERT_TRUE(queue.has_value()) << queue.error().ToString();
  auto job = (*queue)->Get(id);
  ASSERT_TRUE(job.has_value() && job->has_value());
  EXPECT_EQ((*job)->status, BuildStatus::kRunning);
  EXPECT_EQ((*queue)->RequeueRunning("node/").value_or(-1), 1);
}

TEST(SqliteBuildQueueTest, UnknownBackendIsRefused) {
  auto queue = MakeBuildQueue(CatalogOptions{"nosuch", {}, ""});
  ASSERT_FALSE(queue.has_value());
  EXPECT_EQ(queue.error().code(), StatusCode::kInvalidArgument);
}

TEST(BuildStatusTest, NamesRoundTrip) {
  for (BuildStatus s : {BuildStatus::kQueued, BuildStatus::kRunning, BuildStatus::kPassed,
                        BuildStatus::kFailed, BuildStatus::kSkipped}) {
    EXPECT_EQ(ParseBuildStatus(BuildStatusName(s)), s);
  }
  EXPECT_EQ(BuildStatusName(BuildStatus::kSkipped), "skipped");
  EXPECT_FALSE(ParseBuildStatus("done").has_value());
  EXPECT_TRUE(IsFinished(BuildStatus::kSkipped));
  EXPECT_FALSE(IsFinished(BuildStatus::kRunning));
}

}  // namespace
}  // namespace pipy::catalog
