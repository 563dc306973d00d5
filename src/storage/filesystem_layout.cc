#include "storage/filesystem_layout.h"

#include <cassert>

#include "storage/blob_store.h"

namespace pipy::storage {

std::filesystem::path BlobsDir(const std::filesystem::path& root) { return root / "blobs"; }

std::filesystem::path TempDir(const std::filesystem::path& root) { return root / "tmp"; }

std::filesystem::path BlobDir(const std::filesystem::path& root, std::string_view key) {
  assert(IsValidKey(key));
  return BlobsDir(root) / key.substr(0, 2) / key.substr(2, 2);
}

std::filesystem::path BlobPath(const std::filesystem::path& root, std::string_view key) {
  return BlobDir(root, key) / key;
}

}  // namespace pipy::storage
