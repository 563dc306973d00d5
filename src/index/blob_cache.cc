#include "index/blob_cache.h"

namespace pipy::index {

std::shared_ptr<const std::string> SmallBlobCache::Get(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) {
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second.position);
  return it->second.bytes;
}

void SmallBlobCache::Put(std::string_view key, std::shared_ptr<const std::string> bytes) {
  if (!bytes || bytes->size() > max_blob_bytes_ || bytes->size() > budget_bytes_) {
    return;
  }
  std::lock_guard lock(mu_);
  std::string k(key);
  if (entries_.contains(k)) {
    return;  // same key, same bytes: content-addressed
  }
  lru_.push_front(k);
  bytes_ += bytes->size();
  entries_.emplace(std::move(k), Entry{std::move(bytes), lru_.begin()});
  while (bytes_ > budget_bytes_ && !lru_.empty()) {
    auto victim = entries_.find(lru_.back());
    bytes_ -= victim->second.bytes->size();
    entries_.erase(victim);
    lru_.pop_back();
  }
}

std::uint64_t SmallBlobCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

std::size_t SmallBlobCache::entries() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace pipy::index
