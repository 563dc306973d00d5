#include "catalog/catalog.h"

#include <cstdio>
#include <random>

namespace pipy::catalog {

std::vector<std::string> BlobKeysOf(const FileRecord& file) {
  std::vector<std::string> keys = {file.sha256};
  for (const auto& [key, value] : file.attributes) {
    if (key.ends_with("_sha256") && !value.empty()) {
      keys.push_back(value);
    }
  }
  return keys;
}

Result<std::optional<FileRecord>> FindFileAnywhere(Catalog& catalog, std::string_view filename) {
  std::optional<FileRecord> found;
  Status s = catalog.ForEachFile([&](const FileRecord& f) {
    if (!found && f.filename == filename) {
      found = f;
    }
    return Status::Ok();
  });
  if (!s.ok()) {
    return s;
  }
  return found;
}

std::string NewAuditUid() {
  // Uniqueness, not secrecy: random_device reads the kernel's generator on Linux.
  static thread_local std::random_device device;
  std::string out;
  for (int i = 0; i < 4; ++i) {
    char part[9];
    std::snprintf(part, sizeof(part), "%08x", static_cast<unsigned>(device()));
    out += part;
  }
  return out;
}

}  // namespace pipy::catalog
