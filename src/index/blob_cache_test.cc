#include "index/blob_cache.h"

#include <gtest/gtest.h>

namespace pipy::index {
namespace {

std::shared_ptr<const std::string> Bytes(std::size_t n, char c = 'x') {
  return std::make_shared<const std::string>(n, c);
}

TEST(SmallBlobCache, ReturnsWhatWasPut) {
  SmallBlobCache cache(100, 1000);
  EXPECT_EQ(cache.Get("a"), nullptr);
  cache.Put("a", Bytes(10, 'a'));
  ASSERT_NE(cache.Get("a"), nullptr);
  EXPECT_EQ(*cache.Get("a"), std::string(10, 'a'));
}

TEST(SmallBlobCache, NeverHoldsLargeBlobs) {
  SmallBlobCache cache(100, 1000);
  cache.Put("big", Bytes(101));
  EXPECT_EQ(cache.Get("big"), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(SmallBlobCache, StaysWithinItsBudgetDroppingTheLeastRecentlyUsed) {
  SmallBlobCache cache(100, 300);
  cache.Put("a", Bytes(100));
  cache.Put("b", Bytes(100));
  cache.Put("c", Bytes(100));
  ASSERT_NE(cache.Get("a"), nullptr);  // a is now the most recently used
  cache.Put("d", Bytes(100));          // over budget: b goes
  EXPECT_EQ(cache.Get("b"), nullptr);
  EXPECT_NE(cache.Get("a"), nullptr);
  EXPECT_NE(cache.Get("c"), nullptr);
  EXPECT_NE(cache.Get("d"), nullptr);
  EXPECT_LE(cache.bytes(), 300u);
  for (int i = 0; i < 10'000; ++i) {
    cache.Put("k" + std::to_string(i), Bytes(50));
  }
  EXPECT_LE(cache.bytes(), 300u);
  EXPECT_LE(cache.entries(), 6u);
}

}  // namespace
}  // namespace pipy::index
