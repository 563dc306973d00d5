#include "auth/failure_limiter.h"

#include <gtest/gtest.h>

namespace pipy::auth {
namespace {

class FailureLimiterTest : public ::testing::Test {
 protected:
  FailureLimiter Make(int max_failures = 20, std::size_t max_addresses = 65'536) {
    FailureLimiter::Options options;
    options.max_failures = max_failures;
    options.max_addresses = max_addresses;
    options.now = [this] { return now_; };
    return FailureLimiter(options);
  }

  std::int64_t now_ = 1'000'000;
};

TEST_F(FailureLimiterTest, TheTwentyFirstFailureWithinAMinuteIsOneTooMany) {
  FailureLimiter limiter = Make();
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(limiter.RecordFailure("10.0.0.1")) << i;
    now_ += 1000;
  }
  EXPECT_TRUE(limiter.RecordFailure("10.0.0.1"));
  EXPECT_FALSE(limiter.RecordFailure("10.0.0.2")) << "another address is not limited";
}

TEST_F(FailureLimiterTest, FailuresSpreadOverMoreThanAMinuteAreNotLimited) {
  FailureLimiter limiter = Make();
  for (int i = 0; i < 200; ++i) {
    EXPECT_FALSE(limiter.RecordFailure("10.0.0.1")) << i;
    now_ += 3100;  // 19.4 per minute
  }
}

TEST_F(FailureLimiterTest, AnAddressThatKeepsGuessingStaysLimitedUntilItPausesAWindow) {
  FailureLimiter limiter = Make(3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(limiter.RecordFailure("a"));
  }
  for (int i = 0; i < 100; ++i) {
    now_ += 10'000;  // refused attempts count: six a minute keep the window full
    EXPECT_TRUE(limiter.RecordFailure("a")) << i;
  }
  now_ += 60'001;
  EXPECT_FALSE(limiter.RecordFailure("a"));
}

TEST_F(FailureLimiterTest, MemoryStaysBoundedByAddressesAndFailures) {
  FailureLimiter limiter = Make(2, 100);
  for (int i = 0; i < 10'000; ++i) {
    limiter.RecordFailure("192.0.2." + std::to_string(i));
    EXPECT_LE(limiter.tracked(), 100u);
  }
  // A full table forgets the addresses whose failures all left the window.
  ASSERT_EQ(limiter.tracked(), 100u);
  now_ += 120'000;
  limiter.RecordFailure("fresh");
  EXPECT_EQ(limiter.tracked(), 1u);
}

TEST_F(FailureLimiterTest, ZeroMeansNoLimit) {
  FailureLimiter limiter = Make(0);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(limiter.RecordFailure("a"));
  }
  EXPECT_EQ(limiter.tracked(), 0u);
}

}  // namespace
}  // namespace pipy::auth
