#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace pipy::config {
namespace {

TEST(Config, DefaultsWithoutAFile) {
  auto config = LoadConfig(std::nullopt, "/tmp/pipy-data");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->data_dir, "/tmp/pipy-data");
  EXPECT_EQ(config->server.listen, "127.0.0.1:8080");
  EXPECT_TRUE(config->access.anonymous_read);
  EXPECT_TRUE(config->access.allow.empty());
  EXPECT_EQ(config->limits.max_upload_bytes, 512ull * 1024 * 1024);
  EXPECT_EQ(config->storage.backend, "filesystem");
  EXPECT_EQ(config->catalog.backend, "sqlite");
}

TEST(Config, ReadsEveryKnownField) {
  auto config = ParseConfig(R"(
[server]
listen = "0.0.0.0:9000"
threads = 4
access_log = false
public_url = "https://pipy.internal"
[access]
allow = ["10.0.0.0/8", "::1"]
anonymous_read = false
[limits]
max_upload_bytes = "1MiB"
max_header_bytes = 8192
header_timeout = "5s"
idle_timeout = "1m"
body_timeout = "10m"
)", "test.toml", "/d");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->server.listen, "0.0.0.0:9000");
  EXPECT_EQ(config->server.threads, 4);
  EXPECT_FALSE(config->server.access_log);
  EXPECT_EQ(config->server.public_url, "https://pipy.internal/");  // made a base URL
  EXPECT_EQ(config->access.allow, (std::vector<std::string>{"10.0.0.0/8", "::1"}));
  EXPECT_FALSE(config->access.anonymous_read);
  EXPECT_EQ(config->limits.max_upload_bytes, 1024u * 1024u);
  EXPECT_EQ(config->limits.max_header_bytes, 8192u);
  EXPECT_EQ(config->limits.header_timeout, std::chrono::seconds(5));
  EXPECT_EQ(config->limits.idle_timeout, std::chrono::minutes(1));
  EXPECT_EQ(config->limits.body_timeout, std::chrono::minutes(10));
}

TEST(Config, TlsCertificateAndKeyComeTogether) {
  auto both = ParseConfig("[server]\ntls_cert = \"/etc/pipy/chain.pem\"\n"
                          "tls_key = \"/etc/pipy/key.pem\"\n", "t", "/d");
  ASSERT_TRUE(both) << both.error().ToString();
  EXPECT_EQ(both->server.tls_cert, "/etc/pipy/chain.pem");
  EXPECT_EQ(both->server.tls_key, "/etc/pipy/key.pem");
  auto neither = ParseConfig("[server]\n", "t", "/d");
  ASSERT_TRUE(neither);
  EXPECT_TRUE(neither->server.tls_cert.empty());
  EXPECT_TRUE(neither->server.tls_key.empty());

  // One alone is an error that names the missing one.
  auto cert_only = ParseConfig("[server]\ntls_cert = \"/c.pem\"\n", "t", "/d");
  ASSERT_FALSE(cert_only);
  EXPECT_NE(cert_only.error().message().find("tls_key"), std::string::npos)
      << cert_only.error().message();
  auto key_only = ParseConfig("[server]\ntls_key = \"/k.pem\"\n", "t", "/d");
  ASSERT_FALSE(key_only);
  EXPECT_NE(key_only.error().message().find("tls_cert"), std::string::npos)
      << key_only.error().message();
}

TEST(Config, PublicUrlMustBeAPlainBaseUrl) {
  auto kept = ParseConfig("[server]\npublic_url = \"http://h:8080/pipy/\"\n", "t", "/d");
  ASSERT_TRUE(kept) << kept.error().ToString();
  EXPECT_EQ(kept->server.public_url, "http://h:8080/pipy/");
  for (const char* bad : {"ftp://h/", "h/", "http://", "https:///x", "http://h/?q=1",
                          "http://u@h/", "http://h/#x", "http://h /"}) {
    auto config = ParseConfig(std::string("[server]\npublic_url = \"") + bad + "\"\n", "t", "/d");
    ASSERT_FALSE(config) << bad;
    EXPECT_NE(config.error().message().find("public_url"), std::string::npos)
        << config.error().message();
  }
}

TEST(Config, NpmSection) {
  auto config = ParseConfig(R"([npm]
upstream = "https://registry.npmjs.org/"
ttl = "5m"
tarball_hosts = ["cdn.example:8443"]
internal_scopes = ["@acme", "@corp"]
allow_shadowing = ["left-pad"]
)", "t", "/d");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->npm.upstream, "https://registry.npmjs.org/");
  EXPECT_EQ(config->npm.ttl, std::chrono::minutes(5));
  EXPECT_EQ(config->npm.tarball_hosts, std::vector<std::string>{"cdn.example:8443"});
  EXPECT_EQ(config->npm.internal_scopes, (std::vector<std::string>{"@acme", "@corp"}));
  EXPECT_EQ(config->npm.allow_shadowing, std::vector<std::string>{"left-pad"});
  auto bad_scope = ParseConfig("[npm]\ninternal_scopes = [\"acme\"]\n", "t", "/d");
  ASSERT_FALSE(bad_scope);
  EXPECT_NE(bad_scope.error().message().find("internal_scopes"), std::string::npos);
  auto unknown = ParseConfig("[npm]\nregistry = \"x\"\n", "t", "/d");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("registry"), std::string::npos);
}

TEST(Config, IntegerByteSizes) {
  auto config = ParseConfig("[limits]\nmax_upload_bytes = 1000\n", "t", "/d");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->limits.max_upload_bytes, 1000u);
}

TEST(Config, ErrorsNameTheKey) {
  struct Case {
    const char* text;
    const char* needle;
  };
  for (const Case& c : {
           Case{"[access]\nalow = []\n", "alow"},
           Case{"[limits]\nmax_upload_bytes = \"lots\"\n", "max_upload_bytes"},
           Case{"[limits]\nheader_timeout = 5\n", "header_timeout"},
           Case{"[access]\nanonymous_read = \"no\"\n", "anonymous_read"},
           Case{"[nonsense]\nx = 1\n", "nonsense"},
           Case{"[storage]\nbackend = \"floppy\"\n", "floppy"},
           Case{"[catalog]\nbackend = \"oracle\"\n", "oracle"},
           Case{"[access\n", "t"},
           Case{"access = 3\n", "access"},
       }) {
    auto config = ParseConfig(c.text, "t", "/d");
    ASSERT_FALSE(config) << c.text;
    EXPECT_EQ(config.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(config.error().message().find(c.needle), std::string::npos)
        << c.text << " -> " << config.error().message();
  }
}

TEST(Config, FileValueWinsOverEnvironment) {
  ::setenv("AWS_SECRET_ACCESS_KEY", "from-env", 1);
  auto from_env = ParseConfig("", "t", "/d");
  ASSERT_TRUE(from_env);
  EXPECT_EQ(from_env->storage.secret_access_key, "from-env");
  auto from_file = ParseConfig("[storage]\nsecret_access_key = \"from-file\"\n", "t", "/d");
  ASSERT_TRUE(from_file);
  EXPECT_EQ(from_file->storage.secret_access_key, "from-file");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
}

TEST(Config, MissingFileIsAnError) {
  auto config = LoadConfig(std::filesystem::path("/nonexistent/pipy.toml"), "/d");
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message().find("/nonexistent/pipy.toml"), std::string::npos);
}

}  // namespace
}  // namespace pipy::config

namespace pipy::config {
namespace {

TEST(Config, BackendsNeedTheirSettings) {
  auto s3 = ParseConfig(R"([storage]
backend = "s3"
endpoint = "http://127.0.0.1:9000"
bucket = "pipy"
access_key_id = "k"
secret_access_key = "s"
multipart_threshold = "8MiB"
timeout = "5s"
cache_size = 0
[catalog]
backend = "postgres"
url = "postgresql://pipy@127.0.0.1/pipy"
pool_size = 4
)", "t", "/d");
  ASSERT_TRUE(s3) << s3.error().ToString();
  EXPECT_EQ(s3->storage.multipart_threshold, 8u * 1024 * 1024);
  EXPECT_EQ(s3->storage.timeout, std::chrono::seconds(5));
  EXPECT_EQ(s3->storage.cache_size, 0u);
  EXPECT_EQ(s3->catalog.pool_size, 4);
  for (const char* text : {"[storage]\nbackend = \"s3\"\nbucket = \"b\"\n",
                           "[catalog]\nbackend = \"postgres\"\n"}) {
    ::unsetenv("PIPY_CATALOG_URL");
    auto config = ParseConfig(text, "t", "/d");
    EXPECT_FALSE(config) << text;
  }
}

TEST(Config, UpstreamSourcesAndBuilder) {
  auto config = ParseConfig(R"([upstream]
url = "https://pypi.org/simple/"
ttl = "5m"
file_hosts = ["files.pythonhosted.org"]
allow_shadowing = ["acme-*"]
[builder]
concurrency = 2
timeout = "1m"
memory_limit = "1GiB"
[[sources]]
name = "mono"
repo = "/srv/git/mono.git"
webhook_secret = "s3cret"
scope = "acme-*"
[[sources]]
name = "other"
repo = "https://git.example/other.git"
branch = "trunk"
poll_interval = "5s"
)", "t", "/d");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->upstream.url, "https://pypi.org/simple/");
  EXPECT_EQ(config->upstream.ttl, std::chrono::minutes(5));
  EXPECT_EQ(config->upstream.file_hosts, std::vector<std::string>{"files.pythonhosted.org"});
  EXPECT_EQ(config->builder.concurrency, 2);
  EXPECT_EQ(config->builder.memory_limit, 1024ull * 1024 * 1024);
  ASSERT_EQ(config->sources.size(), 2u);
  EXPECT_EQ(config->sources[0].name, "mono");
  EXPECT_EQ(config->sources[0].branch, "main");
  EXPECT_EQ(config->sources[0].scope, "acme-*");
  EXPECT_EQ(config->sources[0].poll_interval, std::chrono::seconds(30));
  EXPECT_EQ(config->sources[1].branch, "trunk");
  EXPECT_EQ(config->sources[1].poll_interval, std::chrono::seconds(5));
}

TEST(Config, BadSourcesAreRefused) {
  for (const char* text : {
           "[[sources]]\nname = \"a/b\"\nrepo = \"/r\"\n",
           "[[sources]]\nname = \"a\"\n",
           "[[sources]]\nname = \"a\"\nrepo = \"/r\"\n[[sources]]\nname = \"a\"\nrepo = \"/s\"\n",
           "[[sources]]\nname = \"a\"\nrepo = \"/r\"\nbranchh = \"x\"\n",
           "sources = 3\n",
           "[builder]\nconcurrency = 0\n",
           "[upstream]\nurl = \"ftp://x/\"\n",
           "[upstream]\nmax_fetches = 0\n",
       }) {
    EXPECT_FALSE(ParseConfig(text, "t", "/d")) << text;
  }
}

TEST(Config, UpstreamFetchLimits) {
  auto config = ParseConfig("[upstream]\nmax_fetches = 3\nfetch_slot_wait = \"500ms\"\n"
                            "max_file_bytes = \"1GiB\"\n",
                            "t", "/d");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->upstream.max_fetches, 3);
  EXPECT_EQ(config->upstream.fetch_slot_wait, std::chrono::milliseconds(500));
  EXPECT_EQ(config->upstream.max_file_bytes, 1ull << 30);
}

}  // namespace
}  // namespace pipy::config
