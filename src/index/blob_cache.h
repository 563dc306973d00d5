// A bounded in-memory cache of small blobs (small wheels, every .metadata file), so that
// serving them costs no file open or S3 request. Blobs are content-addressed and never
// change, so entries are never stale; the least recently used go when the byte budget is
// exceeded. Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pipy::index {

class SmallBlobCache {
 public:
  // Blobs larger than `max_blob_bytes` are never cached; the total stays under
  // `budget_bytes`.
  SmallBlobCache(std::uint64_t max_blob_bytes, std::uint64_t budget_bytes)
      : max_blob_bytes_(max_blob_bytes), budget_bytes_(budget_bytes) {}

  std::uint64_t max_blob_bytes() const { return max_blob_bytes_; }

  // The cached bytes of `key`, or null.
  std::shared_ptr<const std::string> Get(std::string_view key);
  // Caches `bytes` under `key` (ignored when larger than max_blob_bytes).
  void Put(std::string_view key, std::shared_ptr<const std::string> bytes);

  std::uint64_t bytes() const;
  std::size_t entries() const;

 private:
  using Lru = std::list<std::string>;  // keys, most recently used first
  struct Entry {
    std::shared_ptr<const std::string> bytes;
    Lru::iterator position;
  };

  const std::uint64_t max_blob_bytes_;
  const std::uint64_t budget_bytes_;
  mutable std::mutex mu_;
  Lru lru_;
  std::unordered_map<std::string, Entry> entries_;
  std::uint64_t bytes_ = 0;
};

}  // namespace pipy::index
