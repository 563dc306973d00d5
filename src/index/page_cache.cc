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
  std::shared_ptr<Flight> flight;
  {
    std::unique_lock lock(mu_);
    const std::uint64_t epoch = epoch_;
    const std::uint64_t generation = GenerationLocked(project);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.generation == generation && it->second.epoch == epoch &&
        !Expired(it->second.page)) {
      return it->second.page;
    }
    std::shared_ptr<Flight>& current = flights_[key];
    if (current && current->epoch == epoch && current->generation == generation) {
      // Someone is building this very page: N concurrent requests for a slow page (a
      // hostile README) cost one build, not N.
      std::shared_ptr<Flight> joined = current;
      joined->done_cv.wait(lock, [&joined] { return joined->done; });
      return *joined->result;
    }
    // No build, or one begun before the project changed (its page would be stale for
    // this caller): this caller leads a new one.
    current = std::make_shared<Flight>();
    current->epoch = epoch;
    current->generation = generation;
    flight = current;
  }
  // Built outside the lock: a slow page must not stall every other page.
  try {
    Result<CachedPage> result = build();
    if (result) {
      Spill(*result);
    }
    FinishFlight(project, key, flight, result);
    return result;
  } catch (...) {
    // Waiters must not wait forever for a build that threw.
    FinishFlight(project, key, flight, Internal("building the page failed"));
    throw;
  }
}

void PageCache::FinishFlight(std::string_view project, const std::string& key,
                             const std::shared_ptr<Flight>& flight, Result<CachedPage> result) {
  std::lock_guard lock(mu_);
  // Store only if nothing changed while building; otherwise the page may be stale, and the
  // next request rebuilds it.
  // A body spilled to a file the spill has since left behind is not kept either: the
  // sweep of old files may have run already.
  const bool stale_file = result && result->spilled.file != nullptr &&
                          result->spilled.file.get() != spill_->current_file();
  if (result && !stale_file && flight->epoch == epoch_ &&
      flight->generation == GenerationLocked(project)) {
    Entry entry{flight->epoch, flight->generation, *result};
    if (auto old = entries_.find(key); old != entries_.end()) {
      bytes_ -= SizeOf(key, old->second);
    }
    bytes_ += SizeOf(key, entry);
    entries_[key] = std::move(entry);
    if (bytes_ > max_bytes_) {
      EvictLocked();
    }
    if (spill_ != nullptr && spill_->file_number() != spill_file_number_) {
      DropOldSpillLocked();
    }
  }
  flight->result = std::move(result);
  flight->done = true;
  flight->done_cv.notify_all();
  auto it = flights_.find(key);
  if (it != flights_.end() && it->second == flight) {
    flights_.erase(it);
  }
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
  bytes_ = 0;
}

std::uint64_t PageCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

void PageCache::SetSpill(std::unique_ptr<PageSpill> spill, std::uint64_t min_bytes) {
  std::lock_guard lock(mu_);
  spill_ = std::move(spill);
  spill_min_bytes_ = min_bytes;
}

void PageCache::Spill(CachedPage& page) const {
  if (spill_ == nullptr || page.body == nullptr || page.body->size() < spill_min_bytes_) {
    return;
  }
  if (std::optional<SpilledBytes> spilled = spill_->Write(*page.body)) {
    page.spilled = std::move(*spilled);
    page.body.reset();
  }
}

void PageCache::DropOldSpillLocked() {
  spill_file_number_ = spill_->file_number();
  const SpillFile* current = spill_->current_file();
  for (auto it = entries_.begin(); it != entries_.end();) {
    const SpillFile* file = it->second.page.spilled.file.get();
    if (file != nullptr && file != current) {
      bytes_ -= SizeOf(it->first, it->second);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

std::uint64_t PageCache::SizeOf(const std::string& key, const Entry& entry) {
  return key.size() + (entry.page.body ? entry.page.body->size() : entry.page.spilled.length) +
         entry.page.content_type.size() + entry.page.etag.size() + 64;
}

void PageCache::EvictLocked() {
  // Any page may go: a dropped one is rebuilt on its next request. (Hash order is as good
  // as any here, and costs no bookkeeping on the hot path.)
  const std::uint64_t target = max_bytes_ / 4 * 3;
  for (auto it = entries_.begin(); it != entries_.end() && bytes_ > target;) {
    bytes_ -= SizeOf(it->first, it->second);
    it = entries_.erase(it);
  }
}

std::string MakeEtag(std::string_view body) {
  return "\"" + Sha256Hex(body).substr(0, 32) + "\"";
}

}  // namespace pipy::index
