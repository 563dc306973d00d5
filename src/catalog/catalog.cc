#include "catalog/catalog.h"

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

}  // namespace pipy::catalog
