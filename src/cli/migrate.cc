// `pipy migrate`: copies a whole repository between backends (filesystem + SQLite and
// S3 + PostgreSQL, either way), then verifies every file of the target.
//
// The copy follows the repository's own commit order (DESIGN.md, "Data and the one commit
// point"): a file's blob and metadata blob are stored in the target first, streamed through
// the stores with the expected sha256 so that a source blob that does not match its key is
// refused and never copied; the catalog row (with its original uploader, upload time and
// provenance) is inserted last. Stopping anywhere leaves at most unreferenced blobs, and a
// re-run skips every file and token the target already has with the same hash: migrating
// is idempotent and resumable. The audit log is copied too, each record once (by its uid).
// Build jobs, build logs and upstream caches stay behind.
#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <tuple>

#include "cli/commands.h"
#include "core/sha256.h"

namespace pipy::cli {

namespace {

constexpr std::size_t kCopyBufferBytes = 1 << 20;

struct Tally {
  std::size_t projects = 0;
  std::size_t files_copied = 0;
  std::size_t files_present = 0;
  std::size_t blobs_copied = 0;
  std::size_t yanks_set = 0;
  std::size_t tokens_copied = 0;
  std::size_t tokens_present = 0;
  std::size_t audit_records = 0;
  std::size_t verified = 0;
  std::size_t problems = 0;
};

void Problem(Tally& tally, std::string_view what, const Status& status) {
  ++tally.problems;
  std::cerr << "pipy migrate: " << what << ": " << status.message() << "\n";
}

// Streams blob `key` from `from` into `to`. The target refuses (kDataLoss, storing nothing)
// bytes that do not hash to `key`; `size`, when given, must match too. Returns true when
// the blob was copied, false when the target already had it with the source's size. A
// target object of another size under the same key is damaged (an upload cut short by a
// crash, which some S3 servers keep) and is written over: its key names its only right
// content.
Result<bool> CopyBlob(storage::BlobStore& from, storage::BlobStore& to, const std::string& key,
                      std::optional<std::uint64_t> size) {
  auto existing = to.Stat(key);
  if (!existing.has_value() && existing.error().code() != StatusCode::kNotFound) {
    return existing.error().WithContext("target blob " + key);
  }
  if (existing.has_value()) {
    if (!size) {
      PIPY_ASSIGN_OR_RETURN(storage::BlobInfo source, from.Stat(key));
      size = source.size;
    }
    if (existing->size == *size) {
      return false;
    }
    std::cerr << "pipy migrate: target blob " << key << " has " << existing->size
              << " bytes, not " << *size << " (a cut-short upload); copying it again\n";
  }
  auto reader = from.Open(key);
  if (!reader.has_value()) {
    return reader.error().WithContext("source blob " + key);
  }
  if (size && (*reader)->size() != *size) {
    return DataLoss("source blob " + key + " has " + std::to_string((*reader)->size()) +
                    " bytes, the catalog records " + std::to_string(*size) + "; not copied");
  }
  PIPY_ASSIGN_OR_RETURN(auto writer, to.NewWriter());
  std::string buf(kCopyBufferBytes, '\0');
  for (;;) {
    auto n = (*reader)->Read(buf.data(), buf.size());
    if (!n.has_value()) {
      return n.error().WithContext("reading source blob " + key);
    }
    if (*n == 0) {
      break;
    }
    PIPY_RETURN_IF_ERROR(writer->Write(std::string_view(buf.data(), *n)));
  }
  auto committed = writer->Commit(key);
  if (!committed.has_value()) {
    if (committed.error().code() == StatusCode::kDataLoss) {
      return DataLoss("source blob " + key + " does not match its sha256 (corrupted?); not copied");
    }
    return committed.error().WithContext("writing target blob " + key);
  }
  return true;
}

// Copies one file: its blobs, then its catalog row (the commit point).
Status MigrateFile(Repository& from, Repository& to, const catalog::FileRecord& file,
                   const catalog::ReleaseMetadata& release, Tally& tally) {
  PIPY_ASSIGN_OR_RETURN(auto present, to.catalog->FindFile(file.format, file.project, file.filename));
  if (present.has_value()) {
    if (present->sha256 != file.sha256 || present->size != file.size) {
      return AlreadyExists("the target holds another file under this name (sha256 " +
                           present->sha256 + ", source " + file.sha256 + ")");
    }
    ++tally.files_present;
    return Status::Ok();
  }
  PIPY_ASSIGN_OR_RETURN(bool copied_file, CopyBlob(*from.blobs, *to.blobs, file.sha256, file.size));
  // The blobs its attributes name (a wheel's METADATA) go with it.
  std::vector<std::string> keys = catalog::BlobKeysOf(file);
  for (std::size_t i = 1; i < keys.size(); ++i) {
    auto copied_metadata = CopyBlob(*from.blobs, *to.blobs, keys[i], std::nullopt);
    if (!copied_metadata.has_value()) {
      if (copied_file) {
        // Leave nothing of a file that could not be copied whole (gc would remove it too).
        (void)to.blobs->Delete(file.sha256);
      }
      return copied_metadata.error().WithContext("metadata");
    }
    tally.blobs_copied += *copied_metadata ? 1 : 0;
  }
  tally.blobs_copied += copied_file ? 1 : 0;
  PIPY_ASSIGN_OR_RETURN(catalog::AddFileOutcome outcome, to.catalog->AddFile(file, release));
  ++(outcome == catalog::AddFileOutcome::kCreated ? tally.files_copied : tally.files_present);
  return Status::Ok();
}

// Copies one project's files in upload order (so the target's project and release creation
// times, taken from their first file, match the source's), then its releases' yank state.
Status MigrateProject(Repository& from, Repository& to, const catalog::ProjectRecord& project,
                      Tally& tally) {
  PIPY_ASSIGN_OR_RETURN(auto releases, from.catalog->ListReleases(project.format, project.name));
  PIPY_ASSIGN_OR_RETURN(auto files, from.catalog->ListFiles(project.format, project.name));
  std::map<std::string, const catalog::ReleaseRecord*> by_version;  // by version key
  for (const auto& release : releases) {
    by_version[release.version_key] = &release;
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return std::tie(a.upload_time_ms, a.filename) < std::tie(b.upload_time_ms, b.filename);
  });
  for (const auto& file : files) {
    catalog::ReleaseMetadata metadata;
    if (auto it = by_version.find(file.version_key); it != by_version.end()) {
      metadata = it->second->metadata;
    }
    metadata.display_name = project.display_name;
    Status status = MigrateFile(from, to, file, metadata, tally);
    if (!status.ok()) {
      Problem(tally, file.filename, status);
    }
  }
  // PEP 592 yanks belong to releases; match the source's state exactly (also un-yanks).
  PIPY_ASSIGN_OR_RETURN(auto target_releases, to.catalog->ListReleases(project.format, project.name));
  for (const auto& target : target_releases) {
    auto it = by_version.find(target.version_key);
    if (it == by_version.end()) {
      continue;  // a release only the target has: not ours to change
    }
    const catalog::ReleaseRecord& source = *it->second;
    if (source.yanked == target.yanked && source.yanked_reason == target.yanked_reason) {
      continue;
    }
    Status status =
        to.catalog->SetYanked(project.format, project.name, source.version_key, source.yanked,
                              source.yanked_reason);
    if (!status.ok()) {
      Problem(tally, project.name + " " + source.version + " (yank state)", status);
      continue;
    }
    ++tally.yanks_set;
  }
  // Deprecations and tags, as the source has them.
  for (const auto& [key, source] : by_version) {
    if (!source->deprecated.empty()) {
      Status status =
          to.catalog->SetDeprecated(project.format, project.name, key, source->deprecated);
      if (!status.ok()) {
        Problem(tally, project.name + " " + source->version + " (deprecation)", status);
      }
    }
  }
  PIPY_ASSIGN_OR_RETURN(auto tags, from.catalog->ListTags(project.format, project.name));
  for (const auto& [tag, key] : tags) {
    Status status = to.catalog->SetTag(project.format, project.name, tag, key);
    if (!status.ok()) {
      Problem(tally, project.name + " tag " + tag, status);
    }
  }
  return Status::Ok();
}

// Copies every token record as is: name, hash (the secret is never known), scopes,
// creation time, expiry, last use and revocation; a token already copied gets the source's
// revocation and later last use.
Status MigrateTokens(Repository& from, Repository& to, Tally& tally) {
  PIPY_ASSIGN_OR_RETURN(auto tokens, from.catalog->ListTokens());
  for (const auto& token : tokens) {
    const std::string what = "token \"" + token.name + "\"";
    auto present = to.catalog->FindTokenByHash(token.hash);
    if (!present.has_value()) {
      Problem(tally, what, present.error());
      continue;
    }
    if (!present->has_value()) {
      Status added = to.catalog->AddToken(token);
      if (!added.ok()) {
        Problem(tally, what,
                added.code() == StatusCode::kAlreadyExists
                    ? AlreadyExists("the target has a token of that name with "
                                    "another secret")
                    : added);
        continue;
      }
      ++tally.tokens_copied;
      continue;
    }
    const catalog::TokenRecord& target = **present;
    if (target.name != token.name || target.scopes != token.scopes) {
      Problem(tally, what,
              AlreadyExists("the target has its secret as token \"" + target.name +
                            "\" with other scopes or another name"));
      continue;
    }
    if (token.revoked && !target.revoked) {
      Status revoked = to.catalog->RevokeToken(token.name);
      if (!revoked.ok()) {
        Problem(tally, what, revoked);
        continue;
      }
    }
    // A re-run after the source served more requests carries the later last use over
    // (TouchToken only moves it forward).
    if (token.last_used_ms > target.last_used_ms) {
      Status touched = to.catalog->TouchToken(token.name, token.last_used_ms);
      if (!touched.ok()) {
        Problem(tally, what, touched);
        continue;
      }
    }
    ++tally.tokens_present;
  }
  return Status::Ok();
}

// Copies the audit log, oldest record first so the target lists them in the source's order.
// A record carries a uid the target stores it under once (Catalog::AppendAudit), so a
// re-run copies nothing twice. The source is read newest first in pages below a fixed top
// (records appended while this runs are left for the next run); only the page boundaries
// are kept in memory, then each page is read again and copied from its oldest end.
Status MigrateAudit(Repository& from, Repository& to, Tally& tally) {
  constexpr std::int64_t kPage = 500;
  PIPY_ASSIGN_OR_RETURN(auto newest, from.catalog->ListAudit({.limit = 1}));
  if (newest.empty()) {
    return Status::Ok();
  }
  std::vector<std::int64_t> tops = {newest.front().id + 1};  // before_id of each page
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(auto page, from.catalog->ListAudit({.before_id = tops.back(),
                                                              .limit = kPage}));
    if (static_cast<std::int64_t>(page.size()) < kPage) {
      break;
    }
    tops.push_back(page.back().id);
  }
  for (auto top = tops.rbegin(); top != tops.rend(); ++top) {
    PIPY_ASSIGN_OR_RETURN(auto page,
                          from.catalog->ListAudit({.before_id = *top, .limit = kPage}));
    for (auto record = page.rbegin(); record != page.rend(); ++record) {
      PIPY_RETURN_IF_ERROR(to.catalog->AppendAudit(*record));
      ++tally.audit_records;
    }
  }
  return Status::Ok();
}

// The sha256 of a stored blob, read back through the store.
Result<std::string> HashBlob(storage::BlobStore& blobs, std::string_view key) {
  PIPY_ASSIGN_OR_RETURN(auto reader, blobs.Open(key));
  Sha256 hasher;
  std::string buf(kCopyBufferBytes, '\0');
  for (;;) {
    PIPY_ASSIGN_OR_RETURN(std::size_t n, reader->Read(buf.data(), buf.size()));
    if (n == 0) {
      return hasher.HexDigest();
    }
    hasher.Update(std::string_view(buf.data(), n));
  }
}

Status VerifyBlob(storage::BlobStore& blobs, const std::string& key,
                  std::optional<std::uint64_t> size) {
  PIPY_ASSIGN_OR_RETURN(storage::BlobInfo info, blobs.Stat(key));
  if (size && info.size != *size) {
    return DataLoss("blob has " + std::to_string(info.size) + " bytes, recorded " +
                    std::to_string(*size));
  }
  PIPY_ASSIGN_OR_RETURN(std::string hash, HashBlob(blobs, key));
  if (hash != key) {
    return DataLoss("blob's sha256 is " + hash + ", recorded " + key);
  }
  return Status::Ok();
}

// Reads every file of the target back and checks it against its recorded sha256 and size.
Status VerifyTarget(Repository& to, Tally& tally) {
  return to.catalog->ForEachFile([&](const catalog::FileRecord& file) {
    Status status = VerifyBlob(*to.blobs, file.sha256, file.size);
    std::vector<std::string> keys = catalog::BlobKeysOf(file);
    for (std::size_t i = 1; status.ok() && i < keys.size(); ++i) {
      status = VerifyBlob(*to.blobs, keys[i], std::nullopt).WithContext("metadata");
    }
    if (!status.ok()) {
      Problem(tally, "verify " + file.filename, status);
    } else {
      ++tally.verified;
    }
    return Status::Ok();
  });
}

}  // namespace

int Migrate(const config::Config& from_config, const config::Config& to_config) {
  auto from = OpenRepository(from_config);
  if (!from) {
    std::cerr << "pipy migrate: source: " << from.error().message() << "\n";
    return 2;
  }
  auto to = OpenRepository(to_config);
  if (!to) {
    std::cerr << "pipy migrate: target: " << to.error().message() << "\n";
    return 2;
  }
  Tally tally;
  for (std::string_view format : {catalog::kPython, catalog::kNpm}) {
    auto projects = from->catalog->ListProjects(format);
    if (!projects) {
      std::cerr << "pipy migrate: source: " << projects.error().message() << "\n";
      return 2;
    }
    for (const auto& project : *projects) {
      ++tally.projects;
      Status status = MigrateProject(*from, *to, project, tally);
      if (!status.ok()) {
        Problem(tally, "project " + project.name, status);
      }
    }
  }
  Status tokens = MigrateTokens(*from, *to, tally);
  if (!tokens.ok()) {
    Problem(tally, "tokens", tokens);
  }
  Status audit = MigrateAudit(*from, *to, tally);
  if (!audit.ok()) {
    Problem(tally, "audit log", audit);
  }
  Status verified = VerifyTarget(*to, tally);
  if (!verified.ok()) {
    Problem(tally, "verify", verified);
  }
  std::cout << "migrated " << tally.audit_records
            << " audit records (copied, or already present)\n";
  std::cout << "migrated " << tally.projects << " projects: " << tally.files_copied
            << " files copied, " << tally.files_present << " already present ("
            << tally.blobs_copied << " blobs written), " << tally.yanks_set << " yank states set; "
            << tally.tokens_copied << " tokens copied, " << tally.tokens_present
            << " already present; " << tally.verified << " target files verified; "
            << tally.problems << " problems\n";
  return tally.problems == 0 ? 0 : 1;
}

}  // namespace pipy::cli
