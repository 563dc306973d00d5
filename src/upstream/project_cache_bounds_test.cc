// ProjectCache's bounds: memory (an LRU cap on projects held) and disk (only real pages).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "testing/temp_dir.h"
#include "upstream/project_cache.h"

namespace pipy::upstream {
namespace {

const std::string kA(64, 'a');
constexpr std::string_view kBase = "http://up.example/simple/";

// An upstream that has the projects in `real` (one file each) and answers 404 for every
// other name; `during` runs inside a request (to act while a fetch is in progress).
class NamedUpstream : public Fetcher {
 public:
  std::set<std::string> real;
  std::map<std::string, int> requests;  // per project name
  std::function<void(const std::string&)> during;

  Status Get(const FetchRequest& request, const std::function<Status(const FetchHead&)>& on_head,
             const std::function<Status(std::string_view)>& on_data) override {
    std::string name = request.url.substr(kBase.size());
    name.pop_back();  // the trailing '/'
    ++requests[name];
    if (during) {
      during(name);
    }
    FetchHead head;
    head.url = request.url;
    if (!real.contains(name)) {
      head.status = 404;
      return on_head(head);
    }
    head.status = 200;
    head.content_type = "text/html";
    head.etag = "\"" + name + "\"";
    PIPY_RETURN_IF_ERROR(on_head(head));
    std::string file = name + "-1.0.tar.gz";
    return on_data("<a href=\"/files/" + file + "#sha256=" + kA + "\">" + file + "</a>");
  }
};

std::size_t FilesIn(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++n;
  }
  return n;
}

class ProjectCacheBoundsTest : public ::testing::Test {
 protected:
  ProjectCacheBoundsTest()
      : policy_(*UrlPolicy::Create(std::string(kBase), {})) {}

  std::unique_ptr<ProjectCache> MakeCache(Fetcher& fetcher, std::size_t max_entries,
                                          std::chrono::milliseconds negative_ttl) {
    ProjectCacheOptions options;
    options.upstream_url = std::string(kBase);
    options.ttl = std::chrono::hours(1);
    options.negative_ttl = negative_ttl;
    options.max_entries = max_entries;
    options.dir = tmp_.path();
    options.now_ms = [this] { return now_; };
    return std::make_unique<ProjectCache>(fetcher, policy_, std::move(options));
  }

  UrlPolicy policy_;
  pipy::testing::TempDir tmp_{"pipy-upstream-bounds"};
  std::int64_t now_ = 1'000'000;
};

TEST_F(ProjectCacheBoundsTest, MemoryStaysBoundedUnder50000NamesAndAPopularEntrySurvives) {
  NamedUpstream upstream;
  upstream.real = {"popular"};
  auto cache = MakeCache(upstream, kDefaultMaxProjectEntries, kDefaultNegativeTtl);
  std::size_t most = 0;
  for (int i = 0; i < 50'000; ++i) {
    auto got = cache->Get("random-name-" + std::to_string(i));
    ASSERT_TRUE(got.has_value());
    ASSERT_FALSE((*got)->exists);
    if (i % 100 == 0) {
      auto popular = cache->Get("popular");
      ASSERT_TRUE(popular.has_value());
      ASSERT_TRUE((*popular)->exists);
    }
    most = std::max(most, cache->EntryCount());
  }
  EXPECT_EQ(most, kDefaultMaxProjectEntries);
  EXPECT_EQ(cache->EntryCount(), kDefaultMaxProjectEntries);
  // The popular page was asked of the upstream once: it was never dropped.
  EXPECT_EQ(upstream.requests["popular"], 1);
  ASSERT_NE(cache->Peek("popular"), nullptr);
  EXPECT_EQ(cache->Peek("popular")->project.files.size(), 1u);
  // An early name was dropped (its "not upstream" answer is still within negative_ttl,
  // yet the upstream is asked again), a recent one is still held.
  ASSERT_TRUE(cache->Get("random-name-0").has_value());
  EXPECT_EQ(upstream.requests["random-name-0"], 2);
  ASSERT_TRUE(cache->Get("random-name-49999").has_value());
  EXPECT_EQ(upstream.requests["random-name-49999"], 1);
  // Disk: the one real page only, none of the 50,000 made-up names.
  EXPECT_EQ(FilesIn(tmp_.path()), 1u);
  EXPECT_TRUE(std::filesystem::exists(tmp_.path() / "popular"));
}

TEST_F(ProjectCacheBoundsTest, TheLeastRecentlyUsedGoesFirstAndADroppedPageComesBackFromDisk) {
  NamedUpstream upstream;
  upstream.real = {"a", "b"};
  auto cache = MakeCache(upstream, 2, kDefaultNegativeTtl);
  ASSERT_TRUE(cache->Get("a").has_value());
  ASSERT_TRUE(cache->Get("b").has_value());
  ASSERT_TRUE(cache->Get("a").has_value());        // a is now the most recently used
  ASSERT_TRUE(cache->Get("missing").has_value());  // drops b, not a
  EXPECT_EQ(cache->EntryCount(), 2u);
  ASSERT_TRUE(cache->Get("a").has_value());
  EXPECT_EQ(upstream.requests["a"], 1);
  // b left memory but not disk: served again (fresh) without asking the upstream.
  auto b = cache->Get("b");
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE((*b)->exists);
  EXPECT_EQ((*b)->project.files.size(), 1u);
  EXPECT_EQ(upstream.requests["b"], 1);
  EXPECT_EQ(cache->EntryCount(), 2u);
}

TEST_F(ProjectCacheBoundsTest, AProjectBeingFetchedIsNotDropped) {
  NamedUpstream upstream;
  upstream.real = {"slow"};
  auto cache = MakeCache(upstream, 1, kDefaultNegativeTtl);
  std::size_t during_fetch = 0;
  upstream.during = [&](const std::string& name) {
    if (name == "slow") {
      // Another caller while "slow" is being fetched: its slot must stay (one request).
      ASSERT_TRUE(cache->Get("other").has_value());
      during_fetch = cache->EntryCount();
    }
  };
  ASSERT_TRUE(cache->Get("slow").has_value());
  EXPECT_EQ(during_fetch, 2u);  // the cap is overshot only by the fetch in progress
  ASSERT_TRUE(cache->Get("slow").has_value());
  EXPECT_EQ(upstream.requests["slow"], 1);
  ASSERT_TRUE(cache->Get("third").has_value());
  EXPECT_EQ(cache->EntryCount(), 1u);
}

TEST_F(ProjectCacheBoundsTest, NotUpstreamAnswersAreShortLivedAndNeverWritten) {
  NamedUpstream upstream;
  auto cache = MakeCache(upstream, 100, std::chrono::milliseconds(5'000));
  ASSERT_TRUE(cache->Get("nothere").has_value());
  ASSERT_TRUE(cache->Get("nothere").has_value());
  EXPECT_EQ(upstream.requests["nothere"], 1);
  EXPECT_EQ(FilesIn(tmp_.path()), 0u);
  now_ += 5'000;  // negative_ttl over (the page ttl is an hour): asked again
  ASSERT_TRUE(cache->Get("nothere").has_value());
  EXPECT_EQ(upstream.requests["nothere"], 2);
  EXPECT_EQ(FilesIn(tmp_.path()), 0u);
}

TEST_F(ProjectCacheBoundsTest, APageThatLeavesTheUpstreamLeavesTheDisk) {
  NamedUpstream upstream;
  upstream.real = {"gone"};
  auto cache = MakeCache(upstream, 100, kDefaultNegativeTtl);
  ASSERT_TRUE(cache->Get("gone").has_value());
  ASSERT_TRUE(std::filesystem::exists(tmp_.path() / "gone"));
  upstream.real.clear();
  now_ += 3'600'000;
  auto got = cache->Get("gone");
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE((*got)->exists);
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() / "gone"));
}

TEST_F(ProjectCacheBoundsTest, AnOldNotUpstreamFileIsDroppedAndOddNamesNeverTouchDisk) {
  std::filesystem::create_directories(tmp_.path());
  {
    std::ofstream old(tmp_.path() / "old404");
    old << "pipy-upstream-page 1\nstatus: 404\nfetched-ms: 999999\n\n";
  }
  NamedUpstream upstream;
  auto cache = MakeCache(upstream, 100, kDefaultNegativeTtl);
  EXPECT_EQ(cache->Peek("old404"), nullptr);
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() / "old404"));

  // Not a normalized project name: never a file name, let alone a path outside dir.
  upstream.real = {"../escape", "Upper"};
  ASSERT_TRUE(cache->Get("../escape").has_value());
  ASSERT_TRUE(cache->Get("Upper").has_value());
  EXPECT_EQ(FilesIn(tmp_.path()), 0u);
  EXPECT_FALSE(std::filesystem::exists(tmp_.path().parent_path() / "escape"));
}

}  // namespace
}  // namespace pipy::upstream
