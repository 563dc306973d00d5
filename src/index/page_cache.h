// An in-memory cache of rendered pages (simple API HTML/JSON, UI pages), each tagged with
// the generation of the project it was built from, so a page built while the project was
// changing is never served after the change. Concurrent requests for a page that is not
// cached build it once (single-flight, see GetOrBuild). Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"
#include "index/page_spill.h"

namespace pipy::index {

struct CachedPage {
  // The body: in memory, or (once cached with a spill, see PageCache::SetSpill) in a spill
  // file, `body` then null.
  std::shared_ptr<const std::string> body;
  std::string content_type;
  std::string etag;        // quoted strong ETag, e.g. "\"3f2a...\""
  // Unix epoch milliseconds after which GetOrBuild rebuilds the page; 0 = valid until the
  // project changes. Set for pages of another origin (the upstream proxy's TTL).
  std::int64_t expires_ms = 0;
  SpilledBytes spilled;  // last, so that {body, type, etag} initializers keep working
};

class PageCache {
 public:
  // Beyond `max_bytes` of pages (bodies and keys) in all, pages are dropped until 3/4 of it
  // is left, so no client can grow the cache without bound by asking for many pages (names,
  // Hosts, upstream packages).
  static constexpr std::uint64_t kDefaultMaxBytes = 512ull * 1024 * 1024;
  explicit PageCache(std::uint64_t max_bytes = kDefaultMaxBytes) : max_bytes_(max_bytes) {}
  // From now on, bodies of at least `min_bytes` are moved to `spill` when cached (pages
  // built before stay as they are). Call before serving.
  void SetSpill(std::unique_ptr<PageSpill> spill, std::uint64_t min_bytes);
  // The bytes of the pages held now (for tests and metrics).
  std::uint64_t bytes() const;

  // The project whose changes invalidate the root project list.
  static constexpr std::string_view kRoot = "";

  // The page cached under `key` for `project` when still current, else nullopt (nothing
  // is built).
  std::optional<CachedPage> Find(std::string_view project, const std::string& key);

  // Returns the page cached under `key` for `project` when still current (and not past
  // its expires_ms), else calls `build`, caches its result (unless `project` changed
  // meanwhile) and returns it. Errors from `build` are returned and not cached.
  // Single-flight: while one caller builds `key`, other callers for the same key and the
  // same generation of `project` do not call `build`; they wait for that build and get
  // its result (its error too). A caller that arrives after `project` changed does not
  // take the result of a build begun before the change: it builds anew. `build` runs
  // without the cache's lock held; it must not call GetOrBuild for the same key.
  Result<CachedPage> GetOrBuild(std::string_view project, const std::string& key,
                                const std::function<Result<CachedPage>()>& build);
  // Invalidates every page of `project` and the root list.
  void Invalidate(std::string_view project);
  void InvalidateAll();

 private:
  struct Entry {
    std::uint64_t epoch;
    std::uint64_t generation;
    CachedPage page;
  };
  // One build in progress; its waiters share mu_ and wait on `done_cv`.
  struct Flight {
    std::uint64_t epoch;
    std::uint64_t generation;
    bool done = false;
    std::optional<Result<CachedPage>> result;
    std::condition_variable done_cv;
  };
  std::uint64_t GenerationLocked(std::string_view project) const;
  static std::uint64_t SizeOf(const std::string& key, const Entry& entry);
  // Drops entries until the cache holds at most 3/4 of max_bytes_ (mu_ held).
  void EvictLocked();
  // Moves a built page's body to the spill file when it is large enough (outside mu_);
  // on a write error the page keeps its body in memory.
  void Spill(CachedPage& page) const;
  // After the spill began a new file: drops the pages in older ones (mu_ held).
  void DropOldSpillLocked();
  // Records the leader's result: caches it when still current, wakes the waiters and
  // forgets the flight.
  void FinishFlight(std::string_view project, const std::string& key,
                    const std::shared_ptr<Flight>& flight, Result<CachedPage> result);

  mutable std::mutex mu_;
  std::uint64_t epoch_ = 0;                                   // bumped by InvalidateAll
  std::unordered_map<std::string, std::uint64_t> generations_; // project -> generation
  std::unordered_map<std::string, Entry> entries_;             // key -> page
  const std::uint64_t max_bytes_;
  std::uint64_t bytes_ = 0;                                    // SizeOf every entry
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;  // key -> newest build
  std::unique_ptr<PageSpill> spill_;        // null: every body stays in memory
  std::uint64_t spill_min_bytes_ = 0;
  std::uint64_t spill_file_number_ = 0;     // the spill's file when entries were last swept
};

// A strong ETag for `body`: a quoted prefix of its sha256.
std::string MakeEtag(std::string_view body);

}  // namespace pipy::index
