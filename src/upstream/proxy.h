// The upstream proxy: serves the upstream's projects that do not exist internally, with
// every file linked through Pipy, and guards against dependency confusion both ways (an
// internal project hides its upstream namesake; a public name is not created internally
// by accident).
//
// Files are content-addressed in the BlobStore (key = the upstream's sha256, verified on
// the way in); which ones this node has served is recorded under <data>/upstream/files/
// (one small file "<sha256>.record": filename, metadata sha256, upstream URL), so a cached file
// stays servable even after the upstream page changed or while it is down. Blobs are
// shared by every node of a repository; pages and records are per node (another node
// re-reads the upstream page once, then finds the blob already stored).
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/access.h"
#include "auth/principal.h"
#include "config/config.h"
#include "http/message.h"
#include "http/metrics.h"
#include "index/index.h"
#include "python/unknown_projects.h"
#include "upstream/fetcher.h"
#include "upstream/project_cache.h"
#include "upstream/url_policy.h"

namespace pipy::upstream {

struct ProxyOptions {
  config::UpstreamConfig config;
  std::filesystem::path dir;         // <data>/upstream (pages/ and files/ below it)
  std::chrono::milliseconds retry_after{30'000};
};

class Proxy : public python::UnknownProjects {
 public:
  // `index` and `metrics` must outlive the proxy. `fetcher` = nullptr: libcurl.
  // kInvalidArgument for a bad [upstream] url or file_hosts entry.
  static Result<std::unique_ptr<Proxy>> Create(ProxyOptions options, index::Index& index,
                                               http::Metrics& metrics,
                                               std::unique_ptr<Fetcher> fetcher = nullptr);
  // Aborts downloads still running and waits for their threads.
  ~Proxy() override;

  // python::UnknownProjects: the upstream page rendered with Pipy's file URLs; kNotFound
  // when the upstream has no such project; kBadGateway / kDeadlineExceeded when it fails
  // and nothing is cached.
  Result<index::CachedPage> ProjectPage(std::string_view normalized,
                                        python::SimpleFormat format) override;

  // The Index::NewProjectCheck: see DecideNewProject (hijack.h).
  Status CheckNewProject(const auth::Principal& who, std::string_view normalized);

  // GET /upstream-files/{sha256}/{filename} (and "<filename>.metadata", PEP 658 / 714):
  // 404 when the project exists internally (checked now), or when the file is not one of
  // the upstream project's verifiable files; the stored blob when there is one; otherwise
  // fetched and streamed while it is stored (see file_proxy.cc).
  http::Response ServeFile(const http::Request& request);

 private:
  struct FileEntry {
    std::string filename;
    std::string url;
    std::string metadata_sha256;
    bool recorded = false;           // read from this node's record
  };
  Proxy(ProxyOptions options, UrlPolicy policy, index::Index& index, http::Metrics& metrics,
        std::unique_ptr<Fetcher> fetcher);

  void CountError(std::string_view kind, const Status& error);
  // The upstream file `sha256` named `filename` of `project`: the local record, else the
  // cached page, else the page fetched now. kNotFound when the upstream does not list it.
  Result<FileEntry> FindEntry(std::string_view project, std::string_view sha256,
                              std::string_view filename);
  std::filesystem::path RecordPath(std::string_view sha256) const;
  void WriteRecord(std::string_view sha256, const FileEntry& entry);
  http::Response ServeMetadata(const FileEntry& entry, std::string_view sha256);
  http::Response Download(const FileEntry& entry, std::string_view sha256,
                          const http::Request& request);

  ProxyOptions options_;
  UrlPolicy policy_;
  index::Index& index_;
  http::Metrics& metrics_;
  std::unique_ptr<Fetcher> fetcher_;
  std::unique_ptr<ProjectCache> pages_;

  // Downloads running on their own threads, waited for by the destructor.
  std::mutex downloads_mu_;
  std::condition_variable downloads_cv_;
  int downloads_ = 0;
  std::atomic<bool> stopping_{false};
};

// The blob keys (files and their metadata) of every upstream file this node has cached
// under `dir` (<data>/upstream): `pipy check` and `pipy gc` count them as referenced.
Result<std::vector<std::string>> CachedBlobKeys(const std::filesystem::path& dir);

// Registers GET /upstream-files/{sha256}/{filename} (read access, like every file).
// `proxy` and `access` must outlive the router.
void RegisterRoutes(http::Router& router, Proxy& proxy, const app::Access& access);

}  // namespace pipy::upstream
