#include "index/page_cache.h"

#include <chrono>

#include "core/sha256.h"

namespace pipy::index {
namespace {

bool Expired(const CachedPage& page) {
  if (page.expires_ms == 0) {
    return false;
  }
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return now.count() >= page.expires_ms;
}

}  // namespace

std::uint64_t PageCache::GenerationLocked(std::string_view project) const {
  auto it = generations_.find(std::string(project));
  return it == generations_.end() ? 0 : it->second;
}

std::optional<CachedPage> PageCache::Find(std::string_view project, const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.generation == GenerationLocked(project) &&
      it->second.epoch == epoch_ && !Expired(it->second.page)) {
    return it->second.page;
  }
  return std::nullopt;
}

Result<CachedPage> PageCache::GetOrBuild(std::string_view project, const std::string& key,
                                         const std::function<Result<CachedPage>()>& build) {
  std::uint64_t epoch;
  std::uint64_t generation;
  {
    std::lock_guard lock(mu_);
    epoch = epoch_;
    generation = GenerationLocked(project);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.generation == generation && it->second.epoch == epoch &&
        !Expired(it->second.page)) {
      return it->second.page;
    }
  }
  // Built outside the lock: a slow page must not stall every other page.
  PIPY_ASSIGN_OR_RETURN(CachedPage page, build());
  std::lock_guard lock(mu_);
  // Store only if nothing changed while building; otherwise the page may be stale, and the
  // next request rebuilds it.
  if (epoch == epoch_ && generation == GenerationLocked(project)) {
    entries_[key] = Entry{epoch, generation, page};
  }
  return page;
}

void PageCache::Invalidate(std::string_view project) {
  std::lock_guard lock(mu_);
  ++generations_[std::string(project)];
  if (project != kRoot) {
    ++generations_[std::string(kRoot)];
  }
}

void PageCache::InvalidateAll() {
  std::lock_guard lock(mu_);
  ++epoch_;
  entries_.clear();
}

std::string MakeEtag(std::string_view body) {
  return "\"" + Sha256Hex(body).substr(0, 32) + "\"";
}

}  // namespace pipy::index
