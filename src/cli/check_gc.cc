// `pipy check` and `pipy gc`: both read the catalog first and the blob listing second, and
// gc only deletes blobs older than --min-age, so a blob stored by an upload that has not
// yet committed its catalog row is never removed: both are safe while servers run.
#include <chrono>
#include <iostream>
#include <unordered_set>

#include "cli/blob_keys.h"
#include "cli/commands.h"
#include "core/sha256.h"
#include "upstream/proxy.h"

namespace pipy::cli {

namespace {

// The sha256 of a stored blob, read through the store.
Result<std::string> HashBlob(storage::BlobStore& blobs, std::string_view key) {
  PIPY_ASSIGN_OR_RETURN(auto reader, blobs.Open(key));
  Sha256 hasher;
  std::string buf(256 * 1024, '\0');
  while (true) {
    PIPY_ASSIGN_OR_RETURN(std::size_t n, reader->Read(buf.data(), buf.size()));
    if (n == 0) {
      break;
    }
    hasher.Update(std::string_view(buf.data(), n));
  }
  return hasher.HexDigest();
}

// Every blob key the catalog refers to (files, the blobs their attributes name, release
// manifests), and the upstream files this node has cached (under <data>/upstream).
Result<std::unordered_set<std::string>> ReferencedKeys(catalog::Catalog& catalog,
                                                       const std::filesystem::path& data_dir) {
  std::unordered_set<std::string> keys;
  PIPY_ASSIGN_OR_RETURN(std::vector<std::string> cached,
                        upstream::CachedBlobKeys(data_dir / "upstream"));
  keys.insert(cached.begin(), cached.end());
  PIPY_ASSIGN_OR_RETURN(auto referenced, CatalogBlobKeys(catalog));
  for (const auto& [key, referrer] : referenced) {
    keys.insert(key);
  }
  return keys;
}

// Checks one blob against what the catalog recorded; returns a problem or "".
std::string CheckBlob(storage::BlobStore& blobs, const std::string& key,
                      std::optional<std::uint64_t> size) {
  auto info = blobs.Stat(key);
  if (!info) {
    return info.error().code() == StatusCode::kNotFound ? "blob missing"
                                                         : info.error().message();
  }
  if (size && info->size != *size) {
    return "size " + std::to_string(info->size) + " != recorded " + std::to_string(*size);
  }
  auto hash = HashBlob(blobs, key);
  if (!hash) {
    return hash.error().message();
  }
  if (*hash != key) {
    return "sha256 " + *hash + " != recorded " + key;
  }
  return "";
}

}  // namespace

int Check(const config::Config& config) {
  auto repo = OpenRepository(config);
  if (!repo) {
    std::cerr << "pipy: " << repo.error().message() << "\n";
    return 2;
  }
  std::size_t files = 0;
  std::size_t bad = 0;
  Status walked = repo->catalog->ForEachFile([&](const catalog::FileRecord& file) {
    ++files;
    std::string problem = CheckBlob(*repo->blobs, file.sha256, file.size);
    // The blobs its attributes name (a wheel's METADATA): present and named by their sha256.
    std::vector<std::string> keys = catalog::BlobKeysOf(file);
    for (std::size_t i = 1; problem.empty() && i < keys.size(); ++i) {
      problem = CheckBlob(*repo->blobs, keys[i], std::nullopt);
      if (!problem.empty()) {
        problem = "metadata: " + problem;
      }
    }
    if (!problem.empty()) {
      ++bad;
      std::cout << "BAD " << file.filename << ": " << problem << "\n";
    }
    return Status::Ok();
  });
  if (!walked.ok()) {
    std::cerr << "pipy: " << walked.message() << "\n";
    return 2;
  }
  auto referenced = ReferencedKeys(*repo->catalog, config.data_dir);
  if (!referenced) {
    std::cerr << "pipy: " << referenced.error().message() << "\n";
    return 2;
  }
  std::size_t orphans = 0;
  Status listed = repo->blobs->List([&](const storage::BlobInfo& blob) {
    if (!referenced->contains(blob.key)) {
      ++orphans;
      std::cout << "ORPHAN " << blob.key << " (" << blob.size << " bytes)\n";
    }
    return Status::Ok();
  });
  if (!listed.ok()) {
    std::cerr << "pipy: " << listed.message() << "\n";
    return 2;
  }
  std::cout << files << " files checked, " << bad << " bad, " << orphans
            << " unreferenced blobs\n";
  return bad == 0 ? 0 : 1;
}

int Gc(const config::Config& config, std::chrono::seconds min_age) {
  auto repo = OpenRepository(config);
  if (!repo) {
    std::cerr << "pipy: " << repo.error().message() << "\n";
    return 2;
  }
  auto referenced = ReferencedKeys(*repo->catalog, config.data_dir);
  if (!referenced) {
    std::cerr << "pipy: " << referenced.error().message() << "\n";
    return 2;
  }
  std::int64_t cutoff = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() -
                        min_age.count();
  std::vector<storage::BlobInfo> doomed;
  Status listed = repo->blobs->List([&](const storage::BlobInfo& blob) {
    if (!referenced->contains(blob.key) && blob.modified_unix <= cutoff) {
      doomed.push_back(blob);
    }
    return Status::Ok();
  });
  if (!listed.ok()) {
    std::cerr << "pipy: " << listed.message() << "\n";
    return 2;
  }
  int failures = 0;
  std::size_t kept = 0;
  for (const auto& blob : doomed) {
    // An upload of the same bytes since the listing refreshed the blob's age (the stores
    // do that when asked to store bytes they have): it is about to be referenced.
    auto now = repo->blobs->Stat(blob.key);
    if (now && now->modified_unix > cutoff) {
      ++kept;
      continue;
    }
    Status removed = repo->blobs->Delete(blob.key);
    if (!removed.ok()) {
      ++failures;
      std::cerr << "pipy: cannot remove " << blob.key << ": " << removed.message() << "\n";
      continue;
    }
    std::cout << "removed " << blob.key << " (" << blob.size << " bytes)\n";
  }
  std::cout << doomed.size() - failures - kept << " unreferenced blobs removed\n";
  return failures == 0 ? 0 : 1;
}

}  // namespace pipy::cli
