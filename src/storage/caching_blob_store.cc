#include "storage/caching_blob_store.h"

#include <vector>

namespace pipy::storage {

Result<std::unique_ptr<CachingBlobStore>> CachingBlobStore::Create(
    std::unique_ptr<BlobStore> remote, BlobCacheOptions options) {
  PIPY_ASSIGN_OR_RETURN(std::unique_ptr<FilesystemBlobStore> local,
                        FilesystemBlobStore::OpenAt(options.dir));
  std::unique_ptr<CachingBlobStore> store(
      new CachingBlobStore(std::move(remote), std::move(local), std::move(options)));
  // What an earlier run cached is still good (content-addressed); oldest first, so the
  // budget drops those first.
  std::vector<BlobInfo> existing;
  PIPY_RETURN_IF_ERROR(store->local_->List([&](const BlobInfo& info) {
    existing.push_back(info);
    return Status::Ok();
  }));
  std::sort(existing.begin(), existing.end(),
            [](const BlobInfo& a, const BlobInfo& b) { return a.modified_unix < b.modified_unix; });
  for (const BlobInfo& info : existing) {
    store->Touch(info.key, info.size);
  }
  return store;
}

void CachingBlobStore::Touch(const std::string& key, std::uint64_t size) {
  std::vector<std::string> doomed;
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.position);
    } else {
      lru_.push_front(key);
      entries_.emplace(key, Entry{size, lru_.begin()});
      bytes_ += size;
    }
    while (bytes_ > options_.budget_bytes && lru_.size() > 1) {
      auto victim = entries_.find(lru_.back());
      bytes_ -= victim->second.size;
      doomed.push_back(lru_.back());
      entries_.erase(victim);
      lru_.pop_back();
    }
  }
  // Readers holding a dropped blob open keep reading it (unlinked files live on).
  for (const std::string& victim : doomed) {
    (void)local_->Delete(victim);
  }
}

Status CachingBlobStore::Fill(std::string_view key, BlobReader& remote_reader) {
  PIPY_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, local_->NewWriter());
  std::string buf(256 * 1024, '\0');
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(std::size_t n, remote_reader.Read(buf.data(), buf.size()));
    if (n == 0) {
      break;
    }
    PIPY_RETURN_IF_ERROR(writer->Write(std::string_view(buf.data(), n)));
  }
  // The key is the sha256: bytes that do not hash to it are refused, never cached.
  PIPY_ASSIGN_OR_RETURN(BlobInfo info, writer->Commit(key));
  Touch(info.key, info.size);
  return Status::Ok();
}

Result<std::unique_ptr<BlobReader>> CachingBlobStore::Open(std::string_view key) {
  if (!IsValidKey(key)) {
    return InvalidArgument("invalid blob key");
  }
  std::string k(key);
  if (auto local = local_->Open(key); local.has_value()) {
    Touch(k, (*local)->size());
    return local;
  }
  PIPY_ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> remote_reader, remote_->Open(key));
  if (remote_reader->size() > options_.max_blob_bytes ||
      remote_reader->size() > options_.budget_bytes) {
    return remote_reader;
  }
  PIPY_RETURN_IF_ERROR(Fill(key, *remote_reader));
  return local_->Open(key);
}

Status CachingBlobStore::Delete(std::string_view key) {
  PIPY_RETURN_IF_ERROR(remote_->Delete(key));
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(std::string(key)); it != entries_.end()) {
      bytes_ -= it->second.size;
      lru_.erase(it->second.position);
      entries_.erase(it);
    }
  }
  return local_->Delete(key);
}

std::uint64_t CachingBlobStore::cached_bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace pipy::storage
