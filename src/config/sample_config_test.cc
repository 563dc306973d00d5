// The shipped sample config must parse and spell out exactly the defaults.
#include <gtest/gtest.h>

#include "config/config.h"

namespace pipy::config {
namespace {

TEST(SampleConfig, ParsesToTheDefaults) {
  auto sample = LoadConfig(std::filesystem::path(PIPY_SOURCE_DIR) / "pipy.sample.toml", "/d");
  ASSERT_TRUE(sample) << sample.error().ToString();
  auto defaults = LoadConfig(std::nullopt, "/d");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(sample->server.listen, defaults->server.listen);
  EXPECT_EQ(sample->server.threads, defaults->server.threads);
  EXPECT_EQ(sample->access.allow, defaults->access.allow);
  EXPECT_EQ(sample->access.anonymous_read, defaults->access.anonymous_read);
  EXPECT_EQ(sample->limits.max_upload_bytes, defaults->limits.max_upload_bytes);
  EXPECT_EQ(sample->limits.max_header_bytes, defaults->limits.max_header_bytes);
  EXPECT_EQ(sample->limits.header_timeout, defaults->limits.header_timeout);
  EXPECT_EQ(sample->limits.idle_timeout, defaults->limits.idle_timeout);
  EXPECT_EQ(sample->limits.body_timeout, defaults->limits.body_timeout);
  EXPECT_EQ(sample->storage.backend, defaults->storage.backend);
  EXPECT_EQ(sample->catalog.backend, defaults->catalog.backend);
}

}  // namespace
}  // namespace pipy::config
