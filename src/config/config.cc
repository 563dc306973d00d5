#include "config/config.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "core/units.h"

namespace pipy::config {

namespace {

// Reads typed values out of one TOML table, remembering which keys were used so that a
// misspelt key is reported instead of silently ignored.
class Section {
 public:
  Section(const toml::table* table, std::string name) : table_(table), name_(std::move(name)) {}

  Status String(std::string_view key, std::string* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) {
      return Status::Ok();
    }
    auto value = node->value<std::string>();
    if (!value) {
      return Bad(key, "a string");
    }
    *out = *value;
    return Status::Ok();
  }

  Status Bool(std::string_view key, bool* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) {
      return Status::Ok();
    }
    auto value = node->value<bool>();
    if (!value) {
      return Bad(key, "true or false");
    }
    *out = *value;
    return Status::Ok();
  }

  Status Int(std::string_view key, int* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) {
      return Status::Ok();
    }
    auto value = node->value<std::int64_t>();
    if (!value || *value < 0 || *value > 4096) {
      return Bad(key, "an integer from 0 to 4096");
    }
    *out = static_cast<int>(*value);
    return Status::Ok();
  }

  template <typename T>
  Status Bytes(std::string_view key, T* out, bool zero_ok = false) {
    const toml::node* node = Take(key);
    if (node == nullptr) {
      return Status::Ok();
    }
    if (auto n = node->value<std::int64_t>()) {
      if (*n < 0 || (*n == 0 && !zero_ok)) {
        return Bad(key, "a positive size");
      }
      *out = static_cast<T>(*n);
      return Status::Ok();
    }
    if (auto s = node->value<std::string>()) {
      auto size = ParseByteSize(*s);
      if (!size || (*size == 0 && !zero_ok)) {
        return Bad(key, "a size such as 512MiB");
      }
      *out = static_cast<T>(*size);
      return Status::Ok();
    }
    return Bad(key, "a size (an integer of bytes or a string such as \"512MiB\")");
  }

  Status Duration(std::string_view key, std::chrono::milliseconds* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) {
      return Status::Ok();
    }
    auto s = node->value<std::string>();
    if (!s) {
      return Bad(key, "a duration string such as \"30s\"");
    }
    auto duration = ParseDuration(*s);
    if (!duration || duration->count() <= 0) {
      return Bad(key, "a duration string such as \"30s\"");
    }
    *out = *duration;
    return Status::Ok();
  }

  Status StringList(std::string_view key, std::vector<std::string>* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) {
      return Status::Ok();
    }
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      return Bad(key, "an array of strings");
    }
    out->clear();
    for (const auto& item : *array) {
      auto s = item.value<std::string>();
      if (!s) {
        return Bad(key, "an array of strings");
      }
      out->push_back(*s);
    }
    return Status::Ok();
  }

  // Fails naming the first key of the table that nothing asked for.
  Status NoOtherKeys() const {
    if (table_ == nullptr) {
      return Status::Ok();
    }
    for (const auto& [key, value] : *table_) {
      if (!used_.contains(std::string(key.str()))) {
        return InvalidArgument("unknown key '" + std::string(key.str()) + "' in [" + name_ + "]");
      }
    }
    return Status::Ok();
  }

 private:
  const toml::node* Take(std::string_view key) {
    used_.insert(std::string(key));
    return table_ == nullptr ? nullptr : table_->get(key);
  }
  Status Bad(std::string_view key, std::string_view expected) const {
    return InvalidArgument("[" + name_ + "] " + std::string(key) + " must be " +
                           std::string(expected));
  }

  const toml::table* table_;
  std::string name_;
  std::set<std::string> used_;
};

const toml::table* SubTable(const toml::table& root, std::string_view name, Status* status) {
  const toml::node* node = root.get(name);
  if (node == nullptr) {
    return nullptr;
  }
  if (!node->is_table()) {
    *status = InvalidArgument("'" + std::string(name) + "' must be a table ([" +
                              std::string(name) + "])");
    return nullptr;
  }
  return node->as_table();
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// [[sources]]: an array of tables, one per watched repository.
// [server] public_url: "http(s)://host[:port][/path]", stored with a trailing "/" so URLs
// are made by appending. No query, fragment, user info or spaces.
Status NormalizePublicUrl(std::string& url) {
  if (url.empty()) {
    return Status::Ok();
  }
  const bool http = url.starts_with("http://");
  if (!http && !url.starts_with("https://")) {
    return InvalidArgument("[server] public_url must start with http:// or https://: '" + url +
                           "'");
  }
  const std::string_view rest = std::string_view(url).substr(http ? 7 : 8);
  if (rest.empty() || rest.front() == '/' ||
      rest.find_first_of("?#@ \t\r\n\\") != std::string_view::npos) {
    return InvalidArgument("[server] public_url is not a plain base URL: '" + url + "'");
  }
  if (!url.ends_with('/')) {
    url += '/';
  }
  return Status::Ok();
}

Status ReadSources(const toml::table& root, Config& config) {
  const toml::node* node = root.get("sources");
  if (node == nullptr) {
    return Status::Ok();
  }
  const toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    return InvalidArgument("'sources' must be an array of tables ([[sources]])");
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    SourceConfig source;
    Section section(array->get(i)->as_table(), "sources #" + std::to_string(i + 1));
    PIPY_RETURN_IF_ERROR(section.String("name", &source.name));
    PIPY_RETURN_IF_ERROR(section.String("repo", &source.repo));
    PIPY_RETURN_IF_ERROR(section.String("branch", &source.branch));
    PIPY_RETURN_IF_ERROR(section.Duration("poll_interval", &source.poll_interval));
    PIPY_RETURN_IF_ERROR(section.String("webhook_secret", &source.webhook_secret));
    PIPY_RETURN_IF_ERROR(section.String("scope", &source.scope));
    PIPY_RETURN_IF_ERROR(section.NoOtherKeys());
    config.sources.push_back(std::move(source));
  }
  return Status::Ok();
}

Status ReadTables(const toml::table& root, Config& config) {
  static const std::set<std::string, std::less<>> kKnown = {
      "server", "access", "limits", "storage", "catalog", "upstream", "npm", "sources",
      "builder"};
  for (const auto& [key, value] : root) {
    if (!kKnown.contains(key.str())) {
      return InvalidArgument("unknown section '" + std::string(key.str()) +
                             "' (known: [server], [access], [limits], [storage], [catalog], "
                             "[upstream], [npm], [[sources]], [builder])");
    }
  }
  Status status;
  Section server(SubTable(root, "server", &status), "server");
  Section access(SubTable(root, "access", &status), "access");
  Section limits(SubTable(root, "limits", &status), "limits");
  Section storage(SubTable(root, "storage", &status), "storage");
  Section catalog(SubTable(root, "catalog", &status), "catalog");
  Section upstream(SubTable(root, "upstream", &status), "upstream");
  Section builder(SubTable(root, "builder", &status), "builder");
  Section npm(SubTable(root, "npm", &status), "npm");
  PIPY_RETURN_IF_ERROR(status);

  PIPY_RETURN_IF_ERROR(server.String("listen", &config.server.listen));
  PIPY_RETURN_IF_ERROR(server.Int("threads", &config.server.threads));
  PIPY_RETURN_IF_ERROR(server.Bool("access_log", &config.server.access_log));
  PIPY_RETURN_IF_ERROR(server.String("public_url", &config.server.public_url));
  std::string tls_cert;
  std::string tls_key;
  PIPY_RETURN_IF_ERROR(server.String("tls_cert", &tls_cert));
  PIPY_RETURN_IF_ERROR(server.String("tls_key", &tls_key));
  PIPY_RETURN_IF_ERROR(server.NoOtherKeys());
  PIPY_RETURN_IF_ERROR(NormalizePublicUrl(config.server.public_url));
  if (tls_cert.empty() != tls_key.empty()) {
    return InvalidArgument(tls_cert.empty() ? "[server] tls_key is set but tls_cert is not"
                                            : "[server] tls_cert is set but tls_key is not");
  }
  config.server.tls_cert = tls_cert;
  config.server.tls_key = tls_key;

  PIPY_RETURN_IF_ERROR(access.StringList("allow", &config.access.allow));
  PIPY_RETURN_IF_ERROR(access.Bool("anonymous_read", &config.access.anonymous_read));
  PIPY_RETURN_IF_ERROR(access.NoOtherKeys());

  PIPY_RETURN_IF_ERROR(limits.Bytes("max_upload_bytes", &config.limits.max_upload_bytes));
  PIPY_RETURN_IF_ERROR(limits.Bytes("max_header_bytes", &config.limits.max_header_bytes));
  PIPY_RETURN_IF_ERROR(limits.Duration("header_timeout", &config.limits.header_timeout));
  PIPY_RETURN_IF_ERROR(limits.Duration("idle_timeout", &config.limits.idle_timeout));
  PIPY_RETURN_IF_ERROR(limits.Duration("body_timeout", &config.limits.body_timeout));
  PIPY_RETURN_IF_ERROR(limits.Duration("small_body_timeout", &config.limits.small_body_timeout));
  PIPY_RETURN_IF_ERROR(limits.Int("max_connections_per_address",
                                  &config.limits.max_connections_per_address));
  PIPY_RETURN_IF_ERROR(limits.Int("max_failed_auth_per_minute",
                                  &config.limits.max_failed_auth_per_minute));
  if (config.limits.max_failed_auth_per_minute < 0) {
    return InvalidArgument("[limits] max_failed_auth_per_minute must be 0 (no limit) or more");
  }
  PIPY_RETURN_IF_ERROR(limits.NoOtherKeys());

  StorageConfig& s = config.storage;
  PIPY_RETURN_IF_ERROR(storage.String("backend", &s.backend));
  PIPY_RETURN_IF_ERROR(storage.String("endpoint", &s.endpoint));
  PIPY_RETURN_IF_ERROR(storage.String("bucket", &s.bucket));
  PIPY_RETURN_IF_ERROR(storage.String("region", &s.region));
  PIPY_RETURN_IF_ERROR(storage.String("prefix", &s.prefix));
  PIPY_RETURN_IF_ERROR(storage.Bool("path_style", &s.path_style));
  PIPY_RETURN_IF_ERROR(storage.String("access_key_id", &s.access_key_id));
  PIPY_RETURN_IF_ERROR(storage.String("secret_access_key", &s.secret_access_key));
  PIPY_RETURN_IF_ERROR(storage.Bool("redirect_downloads", &s.redirect_downloads));
  PIPY_RETURN_IF_ERROR(storage.Bytes("multipart_threshold", &s.multipart_threshold));
  PIPY_RETURN_IF_ERROR(storage.Duration("timeout", &s.timeout));
  PIPY_RETURN_IF_ERROR(storage.Bytes("cache_size", &s.cache_size, /*zero_ok=*/true));
  PIPY_RETURN_IF_ERROR(storage.NoOtherKeys());

  PIPY_RETURN_IF_ERROR(catalog.String("backend", &config.catalog.backend));
  PIPY_RETURN_IF_ERROR(catalog.String("url", &config.catalog.url));
  PIPY_RETURN_IF_ERROR(catalog.Int("pool_size", &config.catalog.pool_size));
  PIPY_RETURN_IF_ERROR(catalog.NoOtherKeys());

  UpstreamConfig& u = config.upstream;
  PIPY_RETURN_IF_ERROR(upstream.String("url", &u.url));
  PIPY_RETURN_IF_ERROR(upstream.Duration("ttl", &u.ttl));
  PIPY_RETURN_IF_ERROR(upstream.Duration("timeout", &u.timeout));
  PIPY_RETURN_IF_ERROR(upstream.StringList("file_hosts", &u.file_hosts));
  PIPY_RETURN_IF_ERROR(upstream.StringList("allow_shadowing", &u.allow_shadowing));
  PIPY_RETURN_IF_ERROR(upstream.Bytes("max_page_bytes", &u.max_page_bytes));
  PIPY_RETURN_IF_ERROR(upstream.Int("max_fetches", &u.max_fetches));
  PIPY_RETURN_IF_ERROR(upstream.Duration("fetch_slot_wait", &u.fetch_slot_wait));
  PIPY_RETURN_IF_ERROR(upstream.Bytes("max_file_bytes", &u.max_file_bytes));
  if (u.max_fetches < 1) {
    return InvalidArgument("[upstream] max_fetches must be at least 1");
  }
  PIPY_RETURN_IF_ERROR(upstream.NoOtherKeys());

  NpmConfig& n = config.npm;
  PIPY_RETURN_IF_ERROR(npm.String("upstream", &n.upstream));
  PIPY_RETURN_IF_ERROR(npm.Duration("ttl", &n.ttl));
  PIPY_RETURN_IF_ERROR(npm.Duration("timeout", &n.timeout));
  PIPY_RETURN_IF_ERROR(npm.StringList("tarball_hosts", &n.tarball_hosts));
  PIPY_RETURN_IF_ERROR(npm.StringList("internal_scopes", &n.internal_scopes));
  PIPY_RETURN_IF_ERROR(npm.StringList("allow_shadowing", &n.allow_shadowing));
  PIPY_RETURN_IF_ERROR(npm.Bytes("max_packument_bytes", &n.max_packument_bytes));
  PIPY_RETURN_IF_ERROR(npm.Int("max_fetches", &n.max_fetches));
  PIPY_RETURN_IF_ERROR(npm.Bytes("max_tarball_bytes", &n.max_tarball_bytes));
  PIPY_RETURN_IF_ERROR(npm.NoOtherKeys());
  if (n.max_fetches < 1) {
    return InvalidArgument("[npm] max_fetches must be at least 1");
  }
  for (std::string& scope : n.internal_scopes) {
    if (scope.size() < 2 || scope.front() != '@' || scope.find('/') != std::string::npos) {
      return InvalidArgument("[npm] internal_scopes entries are scopes such as \"@acme\": '" +
                             scope + "'");
    }
  }

  PIPY_RETURN_IF_ERROR(builder.Int("concurrency", &config.builder.concurrency));
  PIPY_RETURN_IF_ERROR(builder.Duration("timeout", &config.builder.timeout));
  PIPY_RETURN_IF_ERROR(builder.Bytes("memory_limit", &config.builder.memory_limit));
  PIPY_RETURN_IF_ERROR(builder.Bytes("max_log_bytes", &config.builder.max_log_bytes));
  PIPY_RETURN_IF_ERROR(builder.NoOtherKeys());

  return ReadSources(root, config);
}

// True for names that are safe in a URL path segment: [A-Za-z0-9._-]+.
bool IsUrlSafeName(std::string_view name) {
  if (name.empty() || name.size() > 100) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

Status ValidateBackends(const Config& config) {
  const StorageConfig& s = config.storage;
  if (s.backend == "s3") {
    if (s.endpoint.empty() || s.bucket.empty()) {
      return InvalidArgument("[storage] backend \"s3\" needs endpoint and bucket");
    }
    if (s.access_key_id.empty() || s.secret_access_key.empty()) {
      return InvalidArgument(
          "[storage] backend \"s3\" needs access_key_id and secret_access_key (or "
          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
    }
  } else if (s.backend != "filesystem") {
    return InvalidArgument("[storage] backend '" + s.backend +
                           "' is not supported (known: \"filesystem\", \"s3\")");
  }
  const CatalogConfig& c = config.catalog;
  if (c.backend == "postgres") {
    if (c.url.empty()) {
      return InvalidArgument("[catalog] backend \"postgres\" needs url (or PIPY_CATALOG_URL)");
    }
    if (c.pool_size < 1) {
      return InvalidArgument("[catalog] pool_size must be at least 1");
    }
  } else if (c.backend != "sqlite") {
    return InvalidArgument("[catalog] backend '" + c.backend +
                           "' is not supported (known: \"sqlite\", \"postgres\")");
  }
  return Status::Ok();
}

Status ValidateSources(const Config& config) {
  std::set<std::string> names;
  for (const SourceConfig& source : config.sources) {
    if (!IsUrlSafeName(source.name)) {
      return InvalidArgument("[[sources]] name '" + source.name +
                             "' must be letters, digits, '.', '_' or '-'");
    }
    if (!names.insert(source.name).second) {
      return InvalidArgument("[[sources]] name '" + source.name + "' is used twice");
    }
    if (source.repo.empty()) {
      return InvalidArgument("[[sources]] '" + source.name + "' needs repo");
    }
    if (source.branch.empty() || source.scope.empty()) {
      return InvalidArgument("[[sources]] '" + source.name + "' has an empty branch or scope");
    }
  }
  if (config.builder.concurrency < 1) {
    return InvalidArgument("[builder] concurrency must be at least 1");
  }
  return Status::Ok();
}

Status Validate(const Config& config) {
  PIPY_RETURN_IF_ERROR(ValidateBackends(config));
  PIPY_RETURN_IF_ERROR(ValidateSources(config));
  const UpstreamConfig& u = config.upstream;
  if (!u.url.empty() && !u.url.starts_with("http://") && !u.url.starts_with("https://")) {
    return InvalidArgument("[upstream] url must start with http:// or https://");
  }
  if (config.limits.max_header_bytes < 1024) {
    return InvalidArgument("[limits] max_header_bytes must be at least 1024");
  }
  return Status::Ok();
}

}  // namespace

Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin,
                           const std::filesystem::path& data_dir) {
  Config config;
  config.data_dir = data_dir;
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << e.source().begin;
    return InvalidArgument(std::string(origin) + ": " + std::string(e.description()) + " (" +
                           where.str() + ")");
  }
  Status status = ReadTables(root, config);
  if (!status.ok()) {
    return status.WithContext(origin);
  }
  // Secrets from the environment when the file leaves them unset.
  if (config.storage.access_key_id.empty()) {
    config.storage.access_key_id = Env("AWS_ACCESS_KEY_ID");
  }
  if (config.storage.secret_access_key.empty()) {
    config.storage.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
  }
  if (config.catalog.url.empty()) {
    config.catalog.url = Env("PIPY_CATALOG_URL");
  }
  status = Validate(config);
  if (!status.ok()) {
    return status.WithContext(origin);
  }
  return config;
}

Result<Config> LoadConfig(const std::optional<std::filesystem::path>& config_file,
                          const std::filesystem::path& data_dir) {
  if (data_dir.empty()) {
    return InvalidArgument("--data is required");
  }
  if (!config_file) {
    return ParseConfig("", "defaults", data_dir);
  }
  std::ifstream in(*config_file, std::ios::binary);
  if (!in) {
    return InvalidArgument("cannot read config file " + config_file->string());
  }
  std::ostringstream text;
  text << in.rdbuf();
  Result<Config> config = ParseConfig(text.str(), config_file->string(), data_dir);
  if (config) {
    // The builder hides this file from the code it runs (it may hold secrets).
    std::error_code ec;
    config->config_file = std::filesystem::absolute(*config_file, ec);
  }
  return config;
}

}  // namespace pipy::config
