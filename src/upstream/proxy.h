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

#include <filesystem>
#include <memory>
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
#include "upstream/shared_downloads.h"
#include "upstream/url_policy.h"

namespace pipy::upstream {

struct ProxyOptions {
  config::UpstreamConfig config;
  std::filesystem::path dir;         // <data>/upstream (pages/, files/, downloads/ below it)
  std::chrono::milliseconds retry_after{30'000};
  // Downloads of uncached files (shared_downloads.h): distinct files fetched at once, how
  // long a request waits for a free fetch before its 503, and the largest file fetched.
  int max_fetches = 8;
  std::chrono::milliseconds fetch_slot_wait{2'000};
  std::uint64_t max_file_bytes = 8ull << 30;
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
  // fetched once, however many clients ask for it, and streamed to each of them while it is
  // stored (see shared_downloads.h); 503 while max_fetches other files are being fetched.
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
  http::Response Download(const FileEntry& entry, std::string_view sha256);

  ProxyOptions options_;
  UrlPolicy policy_;
  index::Index& index_;
  http::Metrics& metrics_;
  std::unique_ptr<Fetcher> fetcher_;
  std::unique_ptr<ProjectCache> pages_;
  // Last: its fetch threads use the members above until it is destroyed.
  std::unique_ptr<SharedDownloads> downloads_;
};

// The blob keys (files and their metadata) of every upstream file this node has cached
// under `dir` (<data>/upstream): `pipy check` and `pipy gc` count them as referenced.
Result<std::vector<std::string>> CachedBlobKeys(const std::filesystem::path& dir);

// Registers GET /upstream-files/{sha256}/{filename} (read access, like every file).
// `proxy` and `access` must outlive the router.
void RegisterRoutes(http::Router& router, Proxy& proxy, const app::Access& access);

}  // namespace pipy::upstream
