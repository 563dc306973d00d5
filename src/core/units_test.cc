#include "core/units.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

namespace pipy {
namespace {

using std::chrono::milliseconds;

TEST(ParseDurationTest, SingleUnits) {
  struct Case {
    std::string_view text;
    std::int64_t millis;
  };
  const Case cases[] = {
      {"500ms", 500}, {"30s", 30000},   {"10m", 600000},  {"1h", 3600000},  {"0s", 0},
      {"0ms", 0},     {"  2s\n", 2000}, {"90m", 5400000}, {"1000ms", 1000}, {"007s", 7000},
      {"90d", 7776000000}, {"1d", 86400000},
  };
  for (const Case& c : cases) {
    auto d = ParseDuration(c.text);
    ASSERT_TRUE(d.has_value()) << c.text << ": " << d.error().ToString();
    EXPECT_EQ(d->count(), c.millis) << c.text;
  }
}

TEST(ParseDurationTest, CompoundValues) {
  EXPECT_EQ(ParseDuration("1h30m").value(), milliseconds(5400000));
  EXPECT_EQ(ParseDuration("2m30s").value(), milliseconds(150000));
  EXPECT_EQ(ParseDuration("1h1m1s1ms").value(), milliseconds(3661001));
  EXPECT_EQ(ParseDuration("1d12h").value(), milliseconds(129600000));
}

TEST(ParseDurationTest, RejectsBadValues) {
  const std::string_view bad[] = {
      "",
      "   ",
      "30",
      "s",
      "-5s",
      "1.5s",
      "10 s",
      "10sec",
      "5w",
      "1h1d",                   // days after hours
      "1x",
      "ms",
      "30m1h",                  // smallest unit first
      "1s1s",                   // unit twice
      "1m2",                    // trailing number without unit
      "99999999999999999999h",  // uint64 overflow while reading digits
      "9999999999999999h",      // overflow when converting to ms
      "1h 30m",                 // no spaces inside
  };
  for (std::string_view text : bad) {
    auto d = ParseDuration(text);
    ASSERT_FALSE(d.has_value()) << "'" << text << "' parsed as " << d->count();
    EXPECT_EQ(d.error().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(ParseByteSizeTest, GoodValues) {
  struct Case {
    std::string_view text;
    std::uint64_t bytes;
  };
  const Case cases[] = {
      {"1000", 1000},
      {"0", 0},
      {"512MiB", 512ull * 1024 * 1024},
      {"2GiB", 2ull * 1024 * 1024 * 1024},
      {"64KiB", 64ull * 1024},
      {"1TiB", 1ull << 40},
      {"10MB", 10000000},
      {"10mb", 10000000},
      {"3kB", 3000},
      {"3K", 3000},
      {"1GB", 1000000000},
      {"2TB", 2000000000000ull},
      {"7B", 7},
      {"512 MiB", 512ull * 1024 * 1024},
      {" 64kib ", 64ull * 1024},
      {"18446744073709551615", 18446744073709551615ull},
  };
  for (const Case& c : cases) {
    auto n = ParseByteSize(c.text);
    ASSERT_TRUE(n.has_value()) << c.text << ": " << n.error().ToString();
    EXPECT_EQ(*n, c.bytes) << c.text;
  }
}

TEST(ParseByteSizeTest, RejectsBadValues) {
  const std::string_view bad[] = {
      "",
      "MiB",
      "-1",
      "1.5GiB",
      "10XB",
      "10 M iB",
      "10MiBs",
      "ten",
      "1e6",
      "18446744073709551616",  // one past uint64 max
      "20000000TiB",           // overflow after scaling
      "5 5",
  };
  for (std::string_view text : bad) {
    auto n = ParseByteSize(text);
    ASSERT_FALSE(n.has_value()) << "'" << text << "' parsed as " << *n;
    EXPECT_EQ(n.error().code(), StatusCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace pipy
