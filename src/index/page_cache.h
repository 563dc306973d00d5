// An in-memory cache of rendered pages (simple API HTML/JSON, UI pages), each tagged with
// the generation of the project it was built from, so a page built while the project was
// changing is never served after the change. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"

namespace pipy::index {

struct CachedPage {
  std::shared_ptr<const std::string> body;
  std::string content_type;
  std::string etag;        // quoted strong ETag, e.g. "\"3f2a...\""
  // Unix epoch milliseconds after which GetOrBuild rebuilds the page; 0 = valid until the
  // project changes. Set for pages of another origin (the upstream proxy's TTL).
  std::int64_t expires_ms = 0;
};

class PageCache {
 public:
  // The project whose changes invalidate the root project list.
  static constexpr std::string_view kRoot = "";

  // Returns the page cached under `key` for `project` when still current (and not past
  // its expires_ms), else calls
  // `build`, caches its result (unless `project` changed meanwhile) and returns it.
  // Errors from `build` are returned and not cached.
  // The page cached under `key` for `project` when still current, else nullopt (nothing
  // is built).
  std::optional<CachedPage> Find(std::string_view project, const std::string& key);

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
  std::uint64_t GenerationLocked(std::string_view project) const;

  mutable std::mutex mu_;
  std::uint64_t epoch_ = 0;                                   // bumped by InvalidateAll
  std::unordered_map<std::string, std::uint64_t> generations_; // project -> generation
  std::unordered_map<std::string, Entry> entries_;             // key -> page
};

// A strong ETag for `body`: a quoted prefix of its sha256.
std::string MakeEtag(std::string_view body);

}  // namespace pipy::index
