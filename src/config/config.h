// The configuration: one typed tree, parsed and validated once at start-up from the TOML
// file (see pipy.sample.toml for every field with its default) and the command line.
// Secrets may come from the environment; a value in the file wins over the environment.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace pipy::config {

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  int threads = 0;                              // 0 = number of cores
  bool access_log = true;
  // The server's public base URL, ending in "/" (e.g. "https://pipy.internal/"), for every
  // absolute URL Pipy writes (npm's tarball URLs); "" = built from the request's Host.
  std::string public_url;
  // HTTPS only when both are set: the PEM certificate (then its chain) and the PEM private
  // key, re-read on SIGHUP. Both "" = plain HTTP; one alone is a config error.
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
};

struct AccessConfig {
  std::vector<std::string> allow;               // CIDRs; empty = everyone
  bool anonymous_read = true;
};

struct LimitsConfig {
  std::uint64_t max_upload_bytes = 512ull * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds body_timeout{600'000};
  // Bodies of the small-body routes (JSON APIs, the webhook) must arrive within this.
  std::chrono::milliseconds small_body_timeout{10'000};
  // Open connections per client address; 0 = no limit.
  int max_connections_per_address = 128;
  // Failed authentications per client address within a minute before its further failures
  // get 429 (its valid tokens keep working); 0 = no limit.
  int max_failed_auth_per_minute = 20;
};

struct StorageConfig {
  std::string backend = "filesystem";           // "filesystem" | "s3"
  std::string endpoint;                         // s3: e.g. "http://127.0.0.1:9000"
  std::string bucket;                           // s3: must exist
  std::string region = "us-east-1";
  std::string prefix;                           // s3: every key starts with it
  bool path_style = true;                       // s3: false = virtual-host URLs
  std::string access_key_id;                    // or AWS_ACCESS_KEY_ID
  std::string secret_access_key;                // or AWS_SECRET_ACCESS_KEY
  bool redirect_downloads = false;              // s3: 302 to a presigned URL
  std::uint64_t multipart_threshold = 64ull * 1024 * 1024;  // s3: multipart upload above
  std::chrono::milliseconds timeout{30'000};    // s3: per request
  std::uint64_t cache_size = 1ull << 30;        // s3: local read-through cache; 0 = none
};

struct CatalogConfig {
  std::string backend = "sqlite";               // "sqlite" | "postgres"
  std::string url;                              // postgres; or PIPY_CATALOG_URL
  int pool_size = 8;                            // postgres connections per node
};

// [upstream]: proxy and cache of a public simple index (off when `url` is empty).
struct UpstreamConfig {
  std::string url;                              // e.g. "https://pypi.org/simple/"
  std::chrono::milliseconds ttl{600'000};       // page freshness
  std::chrono::milliseconds timeout{10'000};    // per upstream request
  std::vector<std::string> file_hosts;          // extra hosts files may come from
  std::vector<std::string> allow_shadowing;     // globs of internal names that may shadow
  std::uint64_t max_page_bytes = 16ull * 1024 * 1024;
  // Uncached upstream files: distinct files fetched at once (one fetch per file however
  // many clients ask), how long a request waits for a free fetch before its 503, and the
  // largest file fetched.
  int max_fetches = 8;
  std::chrono::milliseconds fetch_slot_wait{2'000};
  std::uint64_t max_file_bytes = 8ull << 30;
};

// [npm]: proxy and cache of a public npm registry (off when `upstream` is empty).
struct NpmConfig {
  std::string upstream;                         // e.g. "https://registry.npmjs.org/"
  std::chrono::milliseconds ttl{600'000};       // packument freshness
  std::chrono::milliseconds timeout{10'000};    // per upstream request
  std::vector<std::string> tarball_hosts;       // extra "host" / "host:port" tarballs come from
  std::vector<std::string> internal_scopes;     // e.g. "@acme": never looked up upstream
  std::vector<std::string> allow_shadowing;     // globs of internal names that may shadow
  std::uint64_t max_packument_bytes = 64ull * 1024 * 1024;
  int max_fetches = 8;                          // distinct tarballs fetched at once
  std::uint64_t max_tarball_bytes = 1ull << 30;
};

// [[sources]]: a git repository whose top-level modules the builder tests and publishes.
struct SourceConfig {
  std::string name;                             // used in URLs: /hooks/git/<name>
  std::string repo;                             // local path, file://, http(s):// or ssh
  std::string branch = "main";
  std::chrono::milliseconds poll_interval{30'000};
  std::string webhook_secret;                   // empty = webhook disabled
  std::string scope = "*";                      // glob of project names it may publish
};

// [builder]: how modules are tested and built.
struct BuilderConfig {
  int concurrency = 1;
  std::chrono::milliseconds timeout{600'000};   // test command and all it starts
  std::uint64_t memory_limit = 2ull * 1024 * 1024 * 1024;
  std::uint64_t max_log_bytes = 4ull * 1024 * 1024;
};

struct Config {
  std::filesystem::path data_dir;               // --data; created if missing
  std::filesystem::path config_file;            // --config as an absolute path; empty = none
  ServerConfig server;
  AccessConfig access;
  LimitsConfig limits;
  StorageConfig storage;
  CatalogConfig catalog;
  UpstreamConfig upstream;
  NpmConfig npm;
  std::vector<SourceConfig> sources;
  BuilderConfig builder;
};

// Reads `config_file` (when given) over the defaults, then applies the environment for
// secrets. Unknown sections or keys, wrong types and invalid values are errors that name
// the key. `data_dir` is required.
Result<Config> LoadConfig(const std::optional<std::filesystem::path>& config_file,
                          const std::filesystem::path& data_dir);

// Same, from TOML text (for tests). `origin` names the source in messages.
Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin,
                           const std::filesystem::path& data_dir);

}  // namespace pipy::config
