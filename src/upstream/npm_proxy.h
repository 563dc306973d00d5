// The npm upstream proxy ([npm] upstream): serves the public registry's packages that do
// not exist internally, with every tarball URL pointing at Pipy, and guards against
// dependency confusion both ways: a package that exists internally is served from Pipy
// alone (its versions are never merged with the upstream's), names in [npm]
// internal_scopes are never looked up upstream, and a new internal package may not take
// a public name by accident (hijack.h).
//
// Packuments are cached per node in memory and under <dir>/packuments (fresh for ttl,
// then revalidated; served stale while the upstream is down). Tarballs are fetched once
// however many clients ask (shared_downloads.h), verified against the upstream's sha512
// integrity (else its sha1 shasum) before a byte is served or anything is kept,
// and stored as content-addressed blobs; <dir>/tarballs/ records which blob is which
// tarball, so a cached one is served while the upstream is down.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/principal.h"
#include "config/config.h"
#include "http/metrics.h"
#include "index/index.h"
#include "npm/unknown_packages.h"
#include "upstream/fetcher.h"
#include "upstream/project_cache.h"
#include "upstream/shared_downloads.h"
#include "upstream/url_policy.h"

namespace pipy::upstream {

struct NpmProxyOptions {
  config::NpmConfig config;
  std::filesystem::path dir;  // <data>/upstream/npm
  std::chrono::milliseconds retry_after{30'000};
  std::chrono::milliseconds fetch_slot_wait{2'000};
};

class NpmProxy : public npm::UnknownPackages {
 public:
  // `index` and `metrics` must outlive the proxy. `fetcher` = nullptr: libcurl.
  // kInvalidArgument for a bad [npm] upstream or tarball_hosts entry.
  static Result<std::unique_ptr<NpmProxy>> Create(NpmProxyOptions options, index::Index& index,
                                                  http::Metrics& metrics,
                                                  std::unique_ptr<Fetcher> fetcher = nullptr);
  ~NpmProxy() override;

  Result<index::CachedPage> Document(const std::string& name, const std::string& kind,
                                     const std::string& registry_url) override;
  Result<npm::TarballSource> Tarball(const std::string& name, const std::string& file) override;

  // The Index::NewProjectCheck for npm names: names in internal_scopes pass without
  // asking the upstream; otherwise DecideNewProject (hijack.h).
  Status CheckNewProject(const auth::Principal& who, std::string_view name);
  // True for names in [npm] internal_scopes ("@acme/x" for "@acme").
  bool InInternalScope(std::string_view name) const;

 private:
  struct Record {
    std::string sha256;  // the blob
    std::string integrity;
    std::string shasum;
  };
  NpmProxy(NpmProxyOptions options, UrlPolicy policy, index::Index& index, http::Metrics& metrics,
           std::unique_ptr<Fetcher> fetcher);
  void CountError(std::string_view kind, const Status& error);
  std::filesystem::path RecordPath(std::string_view name, std::string_view file) const;
  std::optional<Record> ReadRecord(std::string_view name, std::string_view file) const;
  void WriteRecord(std::string_view name, std::string_view file, const Record& record);

  NpmProxyOptions options_;
  UrlPolicy policy_;
  index::Index& index_;
  http::Metrics& metrics_;
  std::unique_ptr<Fetcher> fetcher_;
  std::unique_ptr<ProjectCache> packuments_;
  // Last: its fetch threads use the members above until it is destroyed.
  std::unique_ptr<SharedDownloads> downloads_;
};

}  // namespace pipy::upstream
