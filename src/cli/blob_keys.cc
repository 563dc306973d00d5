#include "cli/blob_keys.h"

#include <string_view>
#include <vector>

namespace pipy::cli {

Result<std::map<std::string, std::string>> CatalogBlobKeys(catalog::Catalog& catalog) {
  std::map<std::string, std::string> keys;
  Status status = catalog.ForEachFile([&](const catalog::FileRecord& file) {
    std::vector<std::string> file_keys = catalog::BlobKeysOf(file);
    for (std::size_t i = 0; i < file_keys.size(); ++i) {
      keys.emplace(file_keys[i], (i == 0 ? "file " : "metadata of ") + file.filename);
    }
    return Status::Ok();
  });
  if (!status.ok()) {
    return status;
  }
  // Releases keep their published manifest (npm's package.json) as a blob of its own.
  for (std::string_view format : {catalog::kPython, catalog::kNpm}) {
    PIPY_ASSIGN_OR_RETURN(auto projects, catalog.ListProjects(format));
    for (const catalog::ProjectRecord& project : projects) {
      PIPY_ASSIGN_OR_RETURN(auto releases, catalog.ListReleases(format, project.name));
      for (const catalog::ReleaseRecord& release : releases) {
        if (!release.metadata.manifest_sha256.empty()) {
          keys.emplace(release.metadata.manifest_sha256,
                       "manifest of " + project.name + " " + release.version);
        }
      }
    }
  }
  return keys;
}

}  // namespace pipy::cli
