#include "index/page_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace pipy::index {
namespace {

using std::chrono_literals::operator""ms;

CachedPage Page(const std::string& body) {
  CachedPage page;
  page.body = std::make_shared<const std::string>(body);
  page.content_type = "text/plain";
  page.etag = MakeEtag(body);
  return page;
}

// Runs `n` threads that each call GetOrBuild(project, key, build) once, released together.
std::vector<Result<CachedPage>> Concurrently(PageCache& cache, int n, const std::string& project,
                                             const std::string& key,
                                             const std::function<Result<CachedPage>()>& build) {
  std::vector<std::optional<Result<CachedPage>>> results(n);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) {
        std::this_thread::yield();
      }
      results[i] = cache.GetOrBuild(project, key, build);
    });
  }
  go = true;
  for (std::thread& t : threads) {
    t.join();
  }
  std::vector<Result<CachedPage>> out;
  for (auto& r : results) {
    out.push_back(*r);
  }
  return out;
}

TEST(PageCacheTest, CachesUntilProjectChanges) {
  PageCache cache;
  int builds = 0;
  auto build = [&]() -> Result<CachedPage> { return Page("v" + std::to_string(++builds)); };
  EXPECT_FALSE(cache.Find("p", "k").has_value());
  EXPECT_EQ(*cache.GetOrBuild("p", "k", build)->body, "v1");
  EXPECT_EQ(*cache.GetOrBuild("p", "k", build)->body, "v1");
  EXPECT_EQ(*cache.Find("p", "k")->body, "v1");
  cache.Invalidate("p");
  EXPECT_FALSE(cache.Find("p", "k").has_value());
  EXPECT_EQ(*cache.GetOrBuild("p", "k", build)->body, "v2");
  cache.InvalidateAll();
  EXPECT_EQ(*cache.GetOrBuild("p", "k", build)->body, "v3");
  EXPECT_EQ(builds, 3);
}

TEST(PageCacheTest, ErrorsAreNotCached) {
  PageCache cache;
  int builds = 0;
  auto build = [&]() -> Result<CachedPage> {
    ++builds;
    return Unavailable("down");
  };
  EXPECT_FALSE(cache.GetOrBuild("p", "k", build).has_value());
  EXPECT_FALSE(cache.GetOrBuild("p", "k", build).has_value());
  EXPECT_EQ(builds, 2);
}

TEST(PageCacheTest, ConcurrentCallersShareOneBuild) {
  PageCache cache;
  constexpr int kCallers = 16;
  std::atomic<int> builds{0};
  auto build = [&]() -> Result<CachedPage> {
    ++builds;
    // Slow enough that every caller arrives while it runs.
    std::this_thread::sleep_for(300ms);
    return Page("the page");
  };
  auto start = std::chrono::steady_clock::now();
  std::vector<Result<CachedPage>> results = Concurrently(cache, kCallers, "p", "k", build);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(builds.load(), 1);
  for (const Result<CachedPage>& r : results) {
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r->body, "the page");
  }
  // One build's time, not kCallers builds' (the callers waited in parallel).
  EXPECT_LT(elapsed, 300ms * 4);
}

TEST(PageCacheTest, ConcurrentCallersShareOneBuildsError) {
  PageCache cache;
  std::atomic<int> builds{0};
  auto build = [&]() -> Result<CachedPage> {
    ++builds;
    std::this_thread::sleep_for(200ms);
    return NotFound("no project named p");
  };
  std::vector<Result<CachedPage>> results = Concurrently(cache, 8, "p", "k", build);
  EXPECT_EQ(builds.load(), 1);
  for (const Result<CachedPage>& r : results) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
  }
  // Not cached: the next caller builds again.
  EXPECT_FALSE(cache.GetOrBuild("p", "k", build).has_value());
  EXPECT_EQ(builds.load(), 2);
}

TEST(PageCacheTest, DifferentKeysBuildInParallel) {
  PageCache cache;
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  auto build = [&]() -> Result<CachedPage> {
    int now = ++running;
    int seen = max_running.load();
    while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(200ms);
    --running;
    return Page("x");
  };
  std::thread a([&] { EXPECT_TRUE(cache.GetOrBuild("a", "ka", build).has_value()); });
  std::thread b([&] { EXPECT_TRUE(cache.GetOrBuild("b", "kb", build).has_value()); });
  a.join();
  b.join();
  EXPECT_EQ(max_running.load(), 2);
}

// A caller that arrives after the project changed must not get the page of a build that
// began before the change: it builds the new page itself.
TEST(PageCacheTest, CallerAfterInvalidationDoesNotJoinOlderBuild) {
  PageCache cache;
  std::atomic<bool> first_started{false};
  std::atomic<bool> release_first{false};
  auto old_build = [&]() -> Result<CachedPage> {
    first_started = true;
    while (!release_first.load()) {
      std::this_thread::sleep_for(1ms);
    }
    return Page("old");
  };
  std::optional<Result<CachedPage>> first;
  std::thread leader([&] { first = cache.GetOrBuild("p", "k", old_build); });
  while (!first_started.load()) {
    std::this_thread::sleep_for(1ms);
  }
  cache.Invalidate("p");  // e.g. a yank while the old page was being built
  int new_builds = 0;
  Result<CachedPage> second = cache.GetOrBuild("p", "k", [&]() -> Result<CachedPage> {
    ++new_builds;
    return Page("new");
  });
  release_first = true;
  leader.join();
  EXPECT_EQ(new_builds, 1);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second->body, "new");
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ(*(*first)->body, "old");
  // The stale build finished last, but the cache keeps the current page.
  EXPECT_EQ(*cache.Find("p", "k")->body, "new");
}

TEST(PageCacheTest, WaitersAreReleasedWhenTheBuildThrows) {
  PageCache cache;
  std::atomic<bool> started{false};
  std::atomic<bool> waiter_in{false};
  std::thread leader([&] {
    EXPECT_THROW(cache.GetOrBuild("p", "k",
                                  [&]() -> Result<CachedPage> {
                                    started = true;
                                    // Give the waiter time to join the flight.
                                    while (!waiter_in.load()) {
                                      std::this_thread::sleep_for(1ms);
                                    }
                                    std::this_thread::sleep_for(100ms);
                                    throw std::runtime_error("boom");
                                  }),
                 std::runtime_error);
  });
  while (!started.load()) {
    std::this_thread::sleep_for(1ms);
  }
  int builds = 0;
  waiter_in = true;
  Result<CachedPage> waited = cache.GetOrBuild("p", "k", [&]() -> Result<CachedPage> {
    ++builds;
    return Page("unused");
  });
  leader.join();
  EXPECT_EQ(builds, 0);
  ASSERT_FALSE(waited.has_value());
  EXPECT_EQ(waited.error().code(), StatusCode::kInternal);
}

TEST(PageCacheTest, ExpiredPagesAreRebuilt) {
  PageCache cache;
  int builds = 0;
  auto build = [&]() -> Result<CachedPage> {
    ++builds;
    CachedPage page = Page("p");
    page.expires_ms = 1;  // long past
    return page;
  };
  ASSERT_TRUE(cache.GetOrBuild("p", "k", build).has_value());
  ASSERT_TRUE(cache.GetOrBuild("p", "k", build).has_value());
  EXPECT_EQ(builds, 2);
  EXPECT_FALSE(cache.Find("p", "k").has_value());
}

}  // namespace
}  // namespace pipy::index

namespace pipy::index {
namespace {

TEST(PageCacheTest, MemoryIsBoundedByBytes) {
  PageCache cache(100'000);
  const std::string body(1'000, 'x');
  for (int i = 0; i < 1'000; ++i) {
    auto page = cache.GetOrBuild("p" + std::to_string(i), "k" + std::to_string(i),
                                 [&]() -> Result<CachedPage> { return Page(body); });
    ASSERT_TRUE(page);
    ASSERT_LE(cache.bytes(), 100'000u) << i;
  }
  EXPECT_GT(cache.bytes(), 50'000u);  // it still caches: it dropped down to 3/4, not to 0
  // Pages that were dropped are built again on their next request (at most ~75 of the
  // 1,000 fit).
  int builds = 0;
  for (int i = 0; i < 100; ++i) {
    auto again = cache.GetOrBuild("p" + std::to_string(i), "k" + std::to_string(i),
                                  [&]() -> Result<CachedPage> {
                                    ++builds;
                                    return Page(body);
                                  });
    ASSERT_TRUE(again);
  }
  EXPECT_GT(builds, 25);
}

}  // namespace
}  // namespace pipy::index
