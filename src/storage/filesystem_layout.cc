#include "storage/filesystem_layout.h"

#include <cassert>

#include "storage/blob_store.h"

namespace pipy::storage {

std::filesystem::path BlobsDir(const std::filesystem::path& root) { return root / "blobs"; }

std::filesystem::path TempDir(const std::filesystem::path& root) { return root / "tmp"; }

std::filesystem::path BlobDir(const std::filesystem::path& root, std::string_view key) {
  assert(IsValidKey(key));
  return BlobsDir(root) / key.substr(0, 2);
}

std::filesystem::path BlobPath(const std::filesystem::path& root, std::string_view key) {
  return BlobDir(root, key) / key;
}

std::vector<std::string> BucketNames() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::vector<std::string> names;
  names.reserve(256);
  for (int i = 0; i < 256; ++i) {
    names.push_back({kHex[i >> 4], kHex[i & 15]});
  }
  return names;
}

}  // namespace pipy::storage
