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
  EXPECT_EQ(sample->server.public_url, defaults->server.public_url);
  EXPECT_EQ(sample->server.tls_cert, defaults->server.tls_cert);
  EXPECT_EQ(sample->server.tls_key, defaults->server.tls_key);
  EXPECT_EQ(sample->access.allow, defaults->access.allow);
  EXPECT_EQ(sample->access.anonymous_read, defaults->access.anonymous_read);
  EXPECT_EQ(sample->limits.max_upload_bytes, defaults->limits.max_upload_bytes);
  EXPECT_EQ(sample->limits.max_header_bytes, defaults->limits.max_header_bytes);
  EXPECT_EQ(sample->limits.header_timeout, defaults->limits.header_timeout);
  EXPECT_EQ(sample->limits.idle_timeout, defaults->limits.idle_timeout);
  EXPECT_EQ(sample->limits.body_timeout, defaults->limits.body_timeout);
  EXPECT_EQ(sample->limits.small_body_timeout, defaults->limits.small_body_timeout);
  EXPECT_EQ(sample->limits.max_connections_per_address,
            defaults->limits.max_connections_per_address);
  EXPECT_EQ(sample->limits.max_failed_auth_per_minute,
            defaults->limits.max_failed_auth_per_minute);
  EXPECT_EQ(sample->storage.backend, defaults->storage.backend);
  EXPECT_EQ(sample->catalog.backend, defaults->catalog.backend);
  EXPECT_EQ(sample->upstream.url, defaults->upstream.url);
  EXPECT_EQ(sample->upstream.ttl, defaults->upstream.ttl);
  EXPECT_EQ(sample->upstream.timeout, defaults->upstream.timeout);
  EXPECT_EQ(sample->upstream.file_hosts, defaults->upstream.file_hosts);
  EXPECT_EQ(sample->upstream.allow_shadowing, defaults->upstream.allow_shadowing);
  EXPECT_EQ(sample->upstream.max_page_bytes, defaults->upstream.max_page_bytes);
  EXPECT_EQ(sample->upstream.max_fetches, defaults->upstream.max_fetches);
  EXPECT_EQ(sample->npm.upstream, defaults->npm.upstream);
  EXPECT_EQ(sample->npm.ttl, defaults->npm.ttl);
  EXPECT_EQ(sample->npm.timeout, defaults->npm.timeout);
  EXPECT_EQ(sample->npm.tarball_hosts, defaults->npm.tarball_hosts);
  EXPECT_EQ(sample->npm.internal_scopes, defaults->npm.internal_scopes);
  EXPECT_EQ(sample->npm.allow_shadowing, defaults->npm.allow_shadowing);
  EXPECT_EQ(sample->npm.max_packument_bytes, defaults->npm.max_packument_bytes);
  EXPECT_EQ(sample->npm.max_fetches, defaults->npm.max_fetches);
  EXPECT_EQ(sample->npm.max_tarball_bytes, defaults->npm.max_tarball_bytes);
  EXPECT_EQ(sample->upstream.fetch_slot_wait, defaults->upstream.fetch_slot_wait);
  EXPECT_EQ(sample->upstream.max_file_bytes, defaults->upstream.max_file_bytes);
  EXPECT_EQ(sample->builder.concurrency, defaults->builder.concurrency);
  EXPECT_EQ(sample->builder.timeout, defaults->builder.timeout);
  EXPECT_EQ(sample->builder.memory_limit, defaults->builder.memory_limit);
  EXPECT_EQ(sample->builder.max_log_bytes, defaults->builder.max_log_bytes);
  EXPECT_TRUE(sample->sources.empty());
}

}  // namespace
}  // namespace pipy::config
