// The index over PostgreSQL: a page cached on one node is dropped when another node changes
// its project, through Catalog::WatchChanges alone (no Index::Revalidate call here).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "catalog/catalog_conformance.h"
#include "catalog/postgres_catalog.h"
#include "catalog/postgres_test_util.h"
#include "index/index.h"
#include "storage/factory.h"
#include "testing/temp_dir.h"

namespace pipy::catalog {
namespace {

using namespace std::chrono_literals;

TEST(PostgresIndexTest, AnotherNodesUploadInvalidatesTheCachedPageWithin2s) {
  pipy::testing::TempDir tmp("pipy-pg-index-test");  // first: outlives the store and index
  const std::string url = pgtest::FreshSchemaUrl();
  ASSERT_FALSE(url.empty());
  auto node_a = PostgresCatalog::Open(PostgresOptions{url, 2});
  auto node_b = PostgresCatalog::Open(PostgresOptions{url, 2});
  ASSERT_TRUE(node_a.has_value()) << node_a.error().ToString();
  ASSERT_TRUE(node_b.has_value()) << node_b.error().ToString();

  storage::StorageOptions storage_options;
  storage_options.root = tmp.path() / "data";
  auto blobs = storage::MakeBlobStore(storage_options);
  ASSERT_TRUE(blobs.has_value()) << blobs.error().ToString();
  index::Index index(**blobs, **node_a);

  ReleaseMetadata meta;
  meta.display_name = "Shared";
  ASSERT_TRUE((*node_a)->AddFile(TestFile("shared", "1.0"), meta).has_value());
  std::atomic<int> builds{0};
  auto build = [&]() -> Result<index::CachedPage> {
    ++builds;
    return index::CachedPage{std::make_shared<const std::string>("page"), "text/html", "\"e\""};
  };
  // Node a's own upload notifies node a too, a little later: wait until the page stays
  // cached (no rebuild over 300 ms), so what follows sees node b's change alone.
  int settled = -1;
  for (int attempt = 0; attempt < 50 && settled != builds.load(); ++attempt) {
    settled = builds.load();
    ASSERT_TRUE(index.pages().GetOrBuild("shared", "simple/shared", build).has_value());
    std::this_thread::sleep_for(300ms);
    ASSERT_TRUE(index.pages().GetOrBuild("shared", "simple/shared", build).has_value());
  }
  ASSERT_EQ(settled, builds.load()) << "the page was not cached";

  ASSERT_TRUE((*node_b)->AddFile(TestFile("shared", "2.0"), meta).has_value());
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (builds.load() == settled && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(index.pages().GetOrBuild("shared", "simple/shared", build).has_value());
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(builds.load(), settled + 1)
      << "node a still serves its cached page 2 s after node b's upload";
}

}  // namespace
}  // namespace pipy::catalog
