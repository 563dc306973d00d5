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
};

struct StorageConfig {
  std::string backend = "filesystem";           // "filesystem" | "s3"
  std::string endpoint;
  std::string bucket;
  std::string region = "us-east-1";
  std::string prefix;
  bool path_style = true;
  std::string access_key_id;                    // or AWS_ACCESS_KEY_ID
  std::string secret_access_key;                // or AWS_SECRET_ACCESS_KEY
  bool redirect_downloads = false;
};

struct CatalogConfig {
  std::string backend = "sqlite";               // "sqlite" | "postgres"
  std::string url;                              // or PIPY_CATALOG_URL
};

struct Config {
  std::filesystem::path data_dir;               // --data; created if missing
  ServerConfig server;
  AccessConfig access;
  LimitsConfig limits;
  StorageConfig storage;
  CatalogConfig catalog;
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
