#include "catalog/catalog.h"

namespace pipy::catalog {

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
