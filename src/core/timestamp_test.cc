#include "core/timestamp.h"

#include <gtest/gtest.h>

namespace pipy {
namespace {

TEST(TimestampTest, MillisecondsAndMicroseconds) {
  EXPECT_EQ(FormatUtcTimestamp(1'700'000'000'123, 3), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatUtcTimestamp(1'700'000'000'123, 6), "2023-11-14T22:13:20.123000Z");
  EXPECT_EQ(FormatUtcTimestamp(0, 3), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUtcTimestamp(-1, 3), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace pipy
