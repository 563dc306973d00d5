#include "index/page_cache.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "testing/temp_dir.h"

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

// The bytes a spilled page holds, read back from its file.
std::string ReadSpilled(const SpilledBytes& spilled) {
  std::string bytes(spilled.length, '\0');
  EXPECT_EQ(::pread(spilled.file->fd(), bytes.data(), bytes.size(),
                    static_cast<off_t>(spilled.offset)),
            static_cast<ssize_t>(bytes.size()));
  return bytes;
}

TEST(PageCacheTest, SpilledPagesAreServedFromTheFile) {
  testing::TempDir dir("spill");
  PageCache cache;
  cache.SetSpill(std::make_unique<PageSpill>(dir.path(), 1 << 20), 0);
  const std::string first(5'000, 'a');
  const std::string second = "<html>second</html>";
  auto a = cache.GetOrBuild("p", "a", [&]() -> Result<CachedPage> { return Page(first); });
  auto b = cache.GetOrBuild("q", "b", [&]() -> Result<CachedPage> { return Page(second); });
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  // Out of the heap, into one file, each at its own place.
  EXPECT_EQ(a->body, nullptr);
  ASSERT_NE(a->spilled.file, nullptr);
  EXPECT_EQ(a->spilled.file, b->spilled.file);
  EXPECT_EQ(ReadSpilled(a->spilled), first);
  EXPECT_EQ(ReadSpilled(b->spilled), second);
  EXPECT_EQ(a->etag, MakeEtag(first));
  // Cached as spilled: no second build, the same bytes.
  auto again = cache.GetOrBuild("p", "a", []() -> Result<CachedPage> {
    ADD_FAILURE() << "rebuilt";
    return Page("wrong");
  });
  ASSERT_TRUE(again);
  EXPECT_EQ(ReadSpilled(again->spilled), first);
  EXPECT_EQ(cache.bytes() >= first.size() + second.size(), true);
  // The file has no name: nothing is left in the folder, even by a crash.
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(PageCacheTest, PagesBelowTheSpillSizeStayInMemory) {
  testing::TempDir dir("spill");
  PageCache cache;
  cache.SetSpill(std::make_unique<PageSpill>(dir.path(), 1 << 20), 1'000);
  auto small = cache.GetOrBuild("p", "s", []() -> Result<CachedPage> { return Page("tiny"); });
  auto large = cache.GetOrBuild("p", "l", []() -> Result<CachedPage> {
    return Page(std::string(1'000, 'x'));
  });
  ASSERT_TRUE(small);
  ASSERT_TRUE(large);
  ASSERT_NE(small->body, nullptr);
  EXPECT_EQ(*small->body, "tiny");
  EXPECT_EQ(small->spilled.file, nullptr);
  EXPECT_EQ(large->body, nullptr);
  EXPECT_EQ(ReadSpilled(large->spilled), std::string(1'000, 'x'));
}

TEST(PageCacheTest, PagesStayInMemoryWhenTheSpillFolderRefusesFiles) {
  testing::TempDir dir("spill");
  const auto not_a_folder = dir.path() / "file";
  std::ofstream(not_a_folder) << "x";
  PageCache cache;
  cache.SetSpill(std::make_unique<PageSpill>(not_a_folder / "pages", 1 << 20), 0);
  auto page = cache.GetOrBuild("p", "k", []() -> Result<CachedPage> { return Page("body"); });
  ASSERT_TRUE(page);
  ASSERT_NE(page->body, nullptr);
  EXPECT_EQ(*page->body, "body");
  EXPECT_EQ(page->spilled.file, nullptr);
}

TEST(PageCacheTest, PagesStayInMemoryWhenTheDiskRefusesTheWrite) {
  testing::TempDir dir("spill");
  PageSpill spill(dir.path(), 1 << 20);
  ASSERT_TRUE(spill.Write("before"));
  // A file size limit fails the write the way a full disk does (EFBIG instead of ENOSPC).
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limited = old;
  limited.rlim_cur = 4'096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  std::optional<SpilledBytes> refused = spill.Write(std::string(8'192, 'z'));
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_FALSE(refused.has_value());
  // Writes work again once the disk takes them, and earlier bytes are intact.
  std::optional<SpilledBytes> after = spill.Write("after");
  ASSERT_TRUE(after);
  EXPECT_EQ(ReadSpilled(*after), "after");
}

TEST(PageCacheTest, ANewSpillFileDropsThePagesOfTheOldOne) {
  testing::TempDir dir("spill");
  PageCache cache;
  cache.SetSpill(std::make_unique<PageSpill>(dir.path(), 1'000), 0);
  const std::string body(400, 'b');
  int builds = 0;
  auto build = [&]() -> Result<CachedPage> {
    ++builds;
    return Page(body);
  };
  std::weak_ptr<const SpillFile> first_file;
  {
    auto first = cache.GetOrBuild("p0", "k0", build);
    ASSERT_TRUE(first);
    first_file = first->spilled.file;
  }
  ASSERT_TRUE(cache.GetOrBuild("p1", "k1", build));  // 800 bytes: still the first file
  ASSERT_TRUE(cache.GetOrBuild("p2", "k2", build));  // 1,200 > 1,000: a second file
  EXPECT_EQ(builds, 3);
  // The first file's pages are gone, and with them the file (nothing holds it open).
  EXPECT_TRUE(first_file.expired());
  auto rebuilt = cache.GetOrBuild("p0", "k0", build);
  ASSERT_TRUE(rebuilt);
  EXPECT_EQ(builds, 4);
  EXPECT_EQ(ReadSpilled(rebuilt->spilled), body);
  // The page in the current file was kept.
  ASSERT_TRUE(cache.GetOrBuild("p2", "k2", build));
  EXPECT_EQ(builds, 4);
}

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
