// The upstream's project pages, cached in memory and on local disk (per node, under
// <data>/upstream/pages/<normalized name>), fresh for `ttl`, then revalidated with
// If-None-Match / If-Modified-Since (a 304 renews the copy). When the upstream fails
// (down, slow, nonsense), the copy keeps being served, stale, and the upstream is asked
// again after `retry_after`; without a copy the error is returned (502 / 504).
//
// Bounded: at most `max_entries` projects are held in memory (least recently used ones are
// dropped first; "not upstream" answers count too and are kept only `negative_ttl`), and
// only pages that exist upstream (200) are written to disk, so requests for made-up names
// grow neither memory nor disk.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"
#include "upstream/fetcher.h"
#include "upstream/simple_parse.h"
#include "upstream/url_policy.h"

namespace pipy::upstream {

// Default cap on the projects held in memory (pages and "not upstream" answers alike).
inline constexpr std::size_t kDefaultMaxProjectEntries = 10'000;
// Default time a "not upstream" (404 / 410) answer is believed.
inline constexpr std::chrono::milliseconds kDefaultNegativeTtl{60'000};

struct ProjectCacheOptions {
  std::string upstream_url;                         // simple base URL, e.g. ".../simple/"
  std::chrono::milliseconds ttl{600'000};
  std::chrono::milliseconds negative_ttl = kDefaultNegativeTtl;  // 404 / 410; at most ttl
  std::size_t max_entries = kDefaultMaxProjectEntries;           // in memory; 0 counts as 1
  std::chrono::milliseconds retry_after{30'000};    // after a failed revalidation
  std::uint64_t max_page_bytes = 16ull * 1024 * 1024;
  std::filesystem::path dir;                        // empty = memory only
  std::function<std::int64_t()> now_ms;             // clock (epoch ms); empty = system clock
  // Called with a short kind ("timeout", "unreachable", "bad_status", "bad_page", ...) for
  // every failed upstream exchange (metrics); may be empty.
  std::function<void(std::string_view kind, const Status& error)> on_error;

  // Another kind of upstream (npm's registry): the page URL of a name, the Accept header,
  // the file name of a name's disk copy (nullopt: no disk copy), and a check of a 200
  // answer (an error makes it a failed exchange). When `page_url` is set, the body is kept
  // (CachedProject::body) instead of being parsed as a simple page. Empty = PEP 503 / 691.
  std::function<std::string(std::string_view name)> page_url;
  std::string accept;
  std::function<std::optional<std::string>(std::string_view name)> disk_name;
  std::function<Status(std::string_view body)> check_body;
};

// The upstream's answer for one project.
struct CachedProject {
  bool exists = false;               // false: the upstream answered 404 / 410
  UpstreamProject project;           // servable files only (SelectServable)
  std::string body;                  // the page as fetched, when `keep_body` (npm's packuments)
  std::int64_t fetched_ms = 0;       // when the upstream last confirmed it
  std::int64_t fresh_until_ms = 0;   // no upstream request before this
  bool stale = false;                // kept after a failed revalidation
};

// The kind of error for metrics: "timeout" (kDeadlineExceeded), "refused_url"
// (kPermissionDenied), "unreachable" or "bad_response" (kBadGateway), else "other".
std::string_view ErrorKind(const Status& error);

class ProjectCache {
 public:
  // `fetcher` and `policy` must outlive the cache.
  ProjectCache(Fetcher& fetcher, const UrlPolicy& policy, ProjectCacheOptions options);

  // The upstream's `normalized` project: the copy while fresh, else asked of the upstream
  // (at most one request per project at a time; concurrent callers wait for it).
  // Errors (only without any copy): kBadGateway, kDeadlineExceeded, kPermissionDenied.
  // Thread-safe.
  Result<std::shared_ptr<const CachedProject>> Get(std::string_view normalized);

  // The copy in memory or on disk, fresh or stale, without asking the upstream; nullptr
  // when there is none. Thread-safe.
  std::shared_ptr<const CachedProject> Peek(std::string_view normalized);

  // The page URL asked for `normalized`: upstream_url + normalized + "/" (or page_url's).
  std::string PageUrl(std::string_view normalized) const;

  // The number of projects held in memory: at most max_entries, except that a project
  // whose upstream request is in progress is never dropped (so the overshoot is bounded by
  // the number of concurrent callers). Thread-safe.
  std::size_t EntryCount() const;

 private:
  struct Slot {
    std::mutex fetch_mu;                        // one upstream request at a time
    std::mutex copy_mu;                         // guards copy, loaded
    std::shared_ptr<const CachedProject> copy;
    std::string etag;                           // validators of copy (guarded by copy_mu)
    std::string last_modified;
    bool loaded = false;                        // disk was read
  };

  struct Entry {
    std::shared_ptr<Slot> slot;
    std::list<std::string>::iterator lru;  // its place in lru_
  };

  // The slot of `normalized`, created if needed, marked most recently used.
  std::shared_ptr<Slot> SlotFor(std::string_view normalized);
  // Drops least recently used slots nobody else holds until at most `keep` remain or
  // none can go. slots_mu_ must be held.
  void EvictLocked(std::size_t keep);
  // Where the disk copy of `normalized` lives; nullopt without a directory or for a name
  // that is not a normalized project name (never a path outside `dir`).
  std::optional<std::filesystem::path> DiskPath(std::string_view normalized) const;
  // Loads the disk copy into `slot` once.
  void LoadLocked(Slot& slot, std::string_view normalized);
  std::int64_t Now() const;
  // What an answer (fetched, or read from disk) means for the cache.
  Result<CachedProject> Read(int status, std::string_view content_type, std::string_view body,
                             const std::string& url, std::string_view normalized) const;
  Result<std::shared_ptr<const CachedProject>> Fetch(Slot& slot, std::string_view normalized,
                                                     std::shared_ptr<const CachedProject> copy);
  // Writes a 200 page to disk (nothing else is ever written).
  void Persist(std::string_view normalized, const FetchHead& head, std::string_view body,
               std::int64_t fetched_ms);
  // Removes the disk copy of a project the upstream no longer has.
  void Unpersist(std::string_view normalized);

  Fetcher& fetcher_;
  const UrlPolicy& policy_;
  ProjectCacheOptions options_;
  mutable std::mutex slots_mu_;
  std::list<std::string> lru_;                      // names, most recently used first
  std::unordered_map<std::string, Entry> slots_;
};

}  // namespace pipy::upstream
