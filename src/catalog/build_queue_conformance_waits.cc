// The conformance suite, continued: formats and build order — a job's format, the jobs it
// waits for (claimed only once all of them finished), jobs enqueued already finished (a
// dependency cycle) and the failure that skipped a job (blocked_by).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "catalog/build_queue_conformance.h"

namespace pipy::catalog {
namespace {

const std::string kCommit(40, 'c');

NewBuild Build(const std::string& module, std::vector<std::int64_t> waits_for = {},
               std::string format = "python") {
  NewBuild build;
  build.source = "mono";
  build.module = module;
  build.format = std::move(format);
  build.commit = kCommit;
  build.created_ms = 1000;
  build.waits_for = std::move(waits_for);
  return build;
}

BuildJob MustEnqueue(BuildQueue& queue, const NewBuild& build) {
  auto job = queue.Enqueue(build);
  EXPECT_TRUE(job.has_value()) << job.status().ToString();
  return job.value_or(BuildJob{});
}

BuildJob MustGet(BuildQueue& queue, std::int64_t id) {
  auto job = queue.Get(id);
  EXPECT_TRUE(job.has_value() && job->has_value()) << "build " << id;
  return job.has_value() && job->has_value() ? **job : BuildJob{};
}

// The id ClaimNext hands out, 0 for none (or an error, reported).
std::int64_t Claim(BuildQueue& queue, const std::string& runner = "node/0") {
  auto job = queue.ClaimNext(runner, 2000);
  EXPECT_TRUE(job.has_value()) << job.status().ToString();
  return job.has_value() && job->has_value() ? (*job)->id : 0;
}

Status Finish(BuildQueue& queue, std::int64_t id, BuildStatus status,
              std::int64_t blocked_by = 0) {
  BuildResult result;
  result.status = status;
  result.message = std::string(BuildStatusName(status));
  result.finished_ms = 3000;
  result.blocked_by = blocked_by;
  return queue.Finish(id, result);
}

std::size_t Count(BuildQueue& queue) {
  auto all = queue.List(0, 1000);
  EXPECT_TRUE(all.has_value()) << all.status().ToString();
  return all.has_value() ? all->size() : 0;
}

TEST_P(BuildQueueConformanceTest, FormatRoundTripsAndDefaultsToPython) {
  BuildJob python = MustEnqueue(*queue_, Build("logger"));
  BuildJob npm = MustEnqueue(*queue_, Build("web", {}, "npm"));
  EXPECT_EQ(python.format, "python");
  EXPECT_EQ(npm.format, "npm");
  EXPECT_EQ(MustGet(*queue_, python.id).format, "python");
  EXPECT_EQ(MustGet(*queue_, npm.id).format, "npm");
  auto listed = queue_->List(0, 10);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].format, "npm");
  EXPECT_EQ((*listed)[1].format, "python");
  auto claimed = queue_->ClaimNext("node/0", 2000);
  ASSERT_TRUE(claimed.has_value() && claimed->has_value());
  EXPECT_EQ((*claimed)->format, "python");
  claimed = queue_->ClaimNext("node/0", 2000);
  ASSERT_TRUE(claimed.has_value() && claimed->has_value());
  EXPECT_EQ((*claimed)->format, "npm");

  for (const char* format : {"ruby", "", "Python"}) {
    EXPECT_EQ(queue_->Enqueue(Build("x", {}, format)).status().code(),
              StatusCode::kInvalidArgument)
        << format;
  }
  EXPECT_EQ(Count(*queue_), 2u) << "a refused format stored a job";
}

TEST_P(BuildQueueConformanceTest, PendingJobsAreDedupedPerFormat) {
  BuildJob python = MustEnqueue(*queue_, Build("shared"));
  BuildJob npm = MustEnqueue(*queue_, Build("shared", {}, "npm"));
  EXPECT_NE(npm.id, python.id) << "one folder may be a Python and an npm module";
  EXPECT_EQ(MustEnqueue(*queue_, Build("shared", {}, "npm")).id, npm.id);
  EXPECT_EQ(MustEnqueue(*queue_, Build("shared")).id, python.id);
  EXPECT_EQ(Count(*queue_), 2u);
}

TEST_P(BuildQueueConformanceTest, WaitsForIsStoredAscendingWithoutDuplicates) {
  BuildJob a = MustEnqueue(*queue_, Build("a"));
  BuildJob b = MustEnqueue(*queue_, Build("b"));
  BuildJob none = MustEnqueue(*queue_, Build("c"));
  BuildJob d = MustEnqueue(*queue_, Build("d", {b.id, a.id, b.id}));
  const std::vector<std::int64_t> expected{a.id, b.id};
  EXPECT_EQ(d.waits_for, expected);
  EXPECT_EQ(MustGet(*queue_, d.id).waits_for, expected);
  EXPECT_TRUE(MustGet(*queue_, none.id).waits_for.empty());
  auto listed = queue_->List(0, 10);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 4u);
  EXPECT_EQ((*listed)[0].waits_for, expected);
  EXPECT_TRUE((*listed)[1].waits_for.empty());
}

TEST_P(BuildQueueConformanceTest, AJobWaitsUntilEveryJobItWaitsForFinished) {
  BuildJob base = MustEnqueue(*queue_, Build("base"));
  BuildJob mid = MustEnqueue(*queue_, Build("mid", {base.id}));
  BuildJob top = MustEnqueue(*queue_, Build("top", {mid.id}));
  BuildJob independent = MustEnqueue(*queue_, Build("independent"));

  EXPECT_EQ(Claim(*queue_), base.id);
  // mid waits for a running job, top for a queued one: the later, independent job goes first.
  EXPECT_EQ(Claim(*queue_), independent.id);
  EXPECT_EQ(Claim(*queue_), 0);
  EXPECT_EQ(MustGet(*queue_, mid.id).status, BuildStatus::kQueued);
  EXPECT_EQ(MustGet(*queue_, top.id).status, BuildStatus::kQueued);

  ASSERT_TRUE(Finish(*queue_, base.id, BuildStatus::kPassed).ok());
  auto claimed = queue_->ClaimNext("node/1", 2500);
  ASSERT_TRUE(claimed.has_value() && claimed->has_value());
  EXPECT_EQ((*claimed)->id, mid.id);
  EXPECT_EQ((*claimed)->waits_for, std::vector<std::int64_t>{base.id});
  EXPECT_EQ(Claim(*queue_), 0) << "top still waits for mid, which runs";
  ASSERT_TRUE(Finish(*queue_, mid.id, BuildStatus::kPassed).ok());
  EXPECT_EQ(Claim(*queue_), top.id);
}

TEST_P(BuildQueueConformanceTest, AFailedOrSkippedDependencyHasFinishedToo) {
  for (BuildStatus end : {BuildStatus::kFailed, BuildStatus::kSkipped}) {
    const std::string name(BuildStatusName(end));
    BuildJob dependency = MustEnqueue(*queue_, Build("dep-" + name));
    BuildJob dependent = MustEnqueue(*queue_, Build("user-" + name, {dependency.id}));
    EXPECT_EQ(Claim(*queue_), dependency.id);
    EXPECT_EQ(Claim(*queue_), 0) << name;
    ASSERT_TRUE(Finish(*queue_, dependency.id, end).ok());
    // Claimed, so that the builder can finish it as skipped with blocked_by.
    EXPECT_EQ(Claim(*queue_), dependent.id) << name;
    ASSERT_TRUE(Finish(*queue_, dependent.id, BuildStatus::kSkipped).ok());
  }
}

TEST_P(BuildQueueConformanceTest, ARequeuedDependencyBlocksItsDependentsAgain) {
  BuildJob dependency = MustEnqueue(*queue_, Build("dep"));
  BuildJob dependent = MustEnqueue(*queue_, Build("user", {dependency.id}));
  EXPECT_EQ(Claim(*queue_, "node-1/0"), dependency.id);
  auto requeued = queue_->RequeueRunning("node-1/");
  ASSERT_TRUE(requeued.has_value()) << requeued.status().ToString();
  EXPECT_EQ(*requeued, 1);
  EXPECT_EQ(MustGet(*queue_, dependency.id).status, BuildStatus::kQueued);
  EXPECT_EQ(Claim(*queue_, "node-2/0"), dependency.id) << "the interrupted build runs again";
  EXPECT_EQ(Claim(*queue_, "node-2/1"), 0) << "its dependent still waits for it";
  ASSERT_TRUE(Finish(*queue_, dependency.id, BuildStatus::kPassed).ok());
  EXPECT_EQ(Claim(*queue_, "node-2/1"), dependent.id);
}

TEST_P(BuildQueueConformanceTest, WaitingForAnUnknownJobIsRefusedAndStoresNothing) {
  BuildJob known = MustEnqueue(*queue_, Build("known"));
  auto refused = queue_->Enqueue(Build("user", {known.id, known.id + 100}));
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  NewBuild finished = Build("cycle", {known.id + 100});
  finished.finished_as = BuildStatus::kFailed;
  EXPECT_EQ(queue_->Enqueue(finished).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Count(*queue_), 1u) << "a refused job was stored";
  EXPECT_EQ(Claim(*queue_), known.id);
  EXPECT_EQ(Claim(*queue_), 0);
  // The refused job's module may be enqueued properly afterwards.
  BuildJob user = MustEnqueue(*queue_, Build("user", {known.id}));
  EXPECT_GT(user.id, known.id);
  EXPECT_EQ(user.waits_for, std::vector<std::int64_t>{known.id});
}

TEST_P(BuildQueueConformanceTest, TheWatchersProjectAndVersionAreKeptUntilTheJobsOwn) {
  NewBuild build = Build("web");
  build.project = "acme-web";
  build.version = "1.0.0";
  BuildJob queued = MustEnqueue(*queue_, build);
  BuildJob got = MustGet(*queue_, queued.id);
  EXPECT_EQ(got.project, "acme-web");
  EXPECT_EQ(got.version, "1.0.0");
  ASSERT_EQ(Claim(*queue_), queued.id);
  BuildResult result;
  result.status = BuildStatus::kPassed;
  result.project = "acme-web";
  result.version = "1.0.1";
  result.finished_ms = 9;
  ASSERT_TRUE(queue_->Finish(queued.id, result).ok());
  EXPECT_EQ(MustGet(*queue_, queued.id).version, "1.0.1");
}

TEST_P(BuildQueueConformanceTest, JobsEnqueuedFinishedAreStoredSoAndNeverClaimed) {
  NewBuild cycle = Build("a");
  cycle.created_ms = 1500;
  cycle.finished_as = BuildStatus::kFailed;
  cycle.message = "a dependency cycle: a -> b -> a";
  BuildJob failed = MustEnqueue(*queue_, cycle);
  EXPECT_EQ(failed.status, BuildStatus::kFailed);
  BuildJob got = MustGet(*queue_, failed.id);
  EXPECT_EQ(got.status, BuildStatus::kFailed);
  EXPECT_EQ(got.message, "a dependency cycle: a -> b -> a");
  EXPECT_EQ(got.created_ms, 1500);
  EXPECT_EQ(got.started_ms, 0);
  EXPECT_EQ(got.finished_ms, 1500);
  EXPECT_TRUE(got.runner.empty());

  // Always added: neither deduped against a finished job nor against a pending one.
  BuildJob pending = MustEnqueue(*queue_, Build("b"));
  NewBuild skipped = Build("b", {failed.id});
  skipped.finished_as = BuildStatus::kSkipped;
  skipped.message = "b waits for a, which failed";
  BuildJob skipped_job = MustEnqueue(*queue_, skipped);
  EXPECT_NE(skipped_job.id, pending.id);
  EXPECT_EQ(skipped_job.status, BuildStatus::kSkipped);
  EXPECT_EQ(skipped_job.waits_for, std::vector<std::int64_t>{failed.id});
  EXPECT_NE(MustEnqueue(*queue_, cycle).id, failed.id);
  EXPECT_EQ(MustEnqueue(*queue_, Build("b")).id, pending.id)
      << "a finished job is not the pending one";

  // A job waiting for one enqueued finished may start at once.
  BuildJob after = MustEnqueue(*queue_, Build("c", {failed.id}));
  EXPECT_EQ(Claim(*queue_), pending.id);
  EXPECT_EQ(Claim(*queue_), after.id);
  EXPECT_EQ(Claim(*queue_), 0) << "a job enqueued finished was claimed";
  EXPECT_EQ(Finish(*queue_, failed.id, BuildStatus::kPassed).code(), StatusCode::kAlreadyExists);

  for (BuildStatus status : {BuildStatus::kPassed, BuildStatus::kQueued, BuildStatus::kRunning}) {
    NewBuild wrong = Build("d");
    wrong.finished_as = status;
    EXPECT_EQ(queue_->Enqueue(wrong).status().code(), StatusCode::kInvalidArgument)
        << BuildStatusName(status);
  }
  EXPECT_EQ(Count(*queue_), 5u);
}

TEST_P(BuildQueueConformanceTest, BlockedByRoundTripsThroughFinish) {
  BuildJob failing = MustEnqueue(*queue_, Build("a"));
  BuildJob dependent = MustEnqueue(*queue_, Build("b", {failing.id}));
  EXPECT_EQ(failing.blocked_by, 0);
  EXPECT_EQ(Claim(*queue_), failing.id);
  ASSERT_TRUE(Finish(*queue_, failing.id, BuildStatus::kFailed).ok());
  EXPECT_EQ(Claim(*queue_), dependent.id);
  ASSERT_TRUE(Finish(*queue_, dependent.id, BuildStatus::kSkipped, failing.id).ok());
  BuildJob got = MustGet(*queue_, dependent.id);
  EXPECT_EQ(got.status, BuildStatus::kSkipped);
  EXPECT_EQ(got.blocked_by, failing.id);
  EXPECT_EQ(MustGet(*queue_, failing.id).blocked_by, 0);
  auto listed = queue_->List(0, 10);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].blocked_by, failing.id);
}

// Runners claiming and finishing at once over chains of dependent jobs: each job is claimed
// once, and never before every job it waits for finished.
TEST_P(BuildQueueConformanceTest, ConcurrentRunnersKeepTheBuildOrder) {
  constexpr int kChains = 2;  // fewer than the runners: some of them must wait
  constexpr int kLength = 8;
  std::map<std::int64_t, std::vector<std::int64_t>> waits;
  std::vector<std::vector<std::int64_t>> ids(kLength, std::vector<std::int64_t>(kChains));
  for (int step = 0; step < kLength; ++step) {
    for (int chain = 0; chain < kChains; ++chain) {
      std::vector<std::int64_t> deps;
      if (step > 0) {
        deps.push_back(ids[step - 1][chain]);
        if (chain > 0) {
          deps.push_back(ids[step - 1][chain - 1]);  // across chains too
        }
      }
      BuildJob job = MustEnqueue(
          *queue_, Build("m" + std::to_string(chain) + "-" + std::to_string(step), deps));
      ids[step][chain] = job.id;
      waits[job.id] = deps;
    }
  }
  // `finishing` holds the jobs whose Finish has begun: a dependency claimed rightly was
  // finished before the claim, so it is in there and, finished for good, reads finished.
  std::mutex mu;
  std::set<std::int64_t> finishing;
  std::set<std::int64_t> finished;
  std::multiset<std::int64_t> claimed;
  std::vector<std::string> violations;
  std::atomic<int> errors{0};
  std::vector<std::thread> runners;
  for (int t = 0; t < 4; ++t) {
    runners.emplace_back([&, t] {
      for (int idle = 0; idle < 2000;) {
        {
          std::lock_guard lock(mu);
          if (finished.size() == waits.size()) {
            return;
          }
        }
        auto job = queue_->ClaimNext("node/" + std::to_string(t), 1);
        if (!job.has_value()) {
          ++errors;
          return;
        }
        if (!job->has_value()) {
          ++idle;  // the others' jobs are still running
          std::this_thread::yield();
          continue;
        }
        idle = 0;
        const std::int64_t id = (*job)->id;
        const std::vector<std::int64_t>& deps = waits.at(id);
        std::vector<std::int64_t> unfinished;
        for (std::int64_t dep : deps) {
          auto got = queue_->Get(dep);
          if (!got.has_value() || !got->has_value() || !IsFinished((*got)->status)) {
            unfinished.push_back(dep);
          }
        }
        {
          std::lock_guard lock(mu);
          claimed.insert(id);
          for (std::int64_t dep : deps) {
            if (!finishing.contains(dep) ||
                std::find(unfinished.begin(), unfinished.end(), dep) != unfinished.end()) {
              violations.push_back(std::to_string(id) + " before " + std::to_string(dep));
            }
          }
          finishing.insert(id);
        }
        // The build takes a moment, so that the other runners claim meanwhile.
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
        if (!Finish(*queue_, id, BuildStatus::kPassed).ok()) {
          ++errors;
          return;
        }
        std::lock_guard lock(mu);
        finished.insert(id);
      }
    });
  }
  for (auto& runner : runners) {
    runner.join();
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_TRUE(violations.empty()) << violations.front() << " (and " << violations.size() - 1
                                  << " more)";
  EXPECT_EQ(finished.size(), waits.size());
  EXPECT_EQ(claimed.size(), waits.size()) << "a job was claimed twice or never";
}

}  // namespace
}  // namespace pipy::catalog
