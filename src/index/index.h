// The index service: the one place every protocol (twine uploads, npm publishes), the
// builder and imports go through to publish, yank and read. It validates, stores the
// blob, then commits the catalog row (the only commit point; see DESIGN.md), checks
// permissions, and keeps the page caches coherent.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/principal.h"
#include "catalog/catalog.h"
#include "core/status.h"
#include "index/audit_log.h"
#include "index/blob_cache.h"
#include "index/format.h"
#include "index/page_cache.h"
#include "storage/blob_store.h"

namespace pipy::index {

struct IndexOptions {
  // Limits every format's archive rules read uploads under (zip and tar bombs, hostile
  // archives): the members an archive may have, and the size of a metadata file read from
  // it (a wheel's METADATA, an npm package.json).
  std::uint64_t max_metadata_bytes = 4 * 1024 * 1024;
  std::uint64_t max_archive_entries = 100'000;
  // Unix epoch milliseconds: upload times and the revalidation period. Empty = the system
  // clock; tests inject their own.
  std::function<std::int64_t()> clock;
};

// One file to publish through the neutral path, in any format: what the format's own code
// (twine's upload, npm's publish, the builder) found valid in it.
struct PublishRequest {
  std::string project;               // as named by the client; normalized by the format
  std::string version;               // parsed by the format's scheme
  std::string filename;              // unique within the project
  std::filesystem::path file;        // the bytes; owned by the caller (see file_is_disposable)
  bool file_is_disposable = false;   // a private temp copy: may be moved into the store
  std::string declared_sha256;       // as the client sent it; empty = not sent
  catalog::Attributes attributes;    // the format's fields of the file
  catalog::ReleaseMetadata release;  // the release's fields, filled while empty
  // Bytes stored as blobs of their own beside the file, each blob's sha256 recorded in the
  // file's attributes under `attribute` (a wheel's METADATA, for PEP 658).
  struct ExtraBlob {
    std::string attribute;
    std::string bytes;
  };
  std::vector<ExtraBlob> extra_blobs;
  std::string manifest;              // stored as a blob (release.manifest_sha256); "" = none
  std::string uploader;
  std::optional<catalog::Provenance> provenance;
  // Runs after the cheap checks and the no-op test, before anything is stored: the
  // format's archive rules, which may fill the fields above. May be empty.
  std::function<Status(PublishRequest&)> inspect;
};

struct PublishResult {
  catalog::AddFileOutcome outcome;   // kCreated, or kIdenticalExists for a no-op re-upload
  catalog::FileRecord file;
};

// What a project page needs, in one consistent read.
struct ProjectView {
  catalog::ProjectRecord project;
  std::vector<catalog::ReleaseRecord> releases;   // newest version first (the format's order)
  std::vector<catalog::FileRecord> files;         // by version (newest first), then filename
};

class Index {
 public:
  // `blobs` and `catalog` must outlive the index.
  Index(storage::BlobStore& blobs, catalog::Catalog& catalog, IndexOptions options = {});

  // The one publish path every format goes through, in this order: the name and version by
  // the format's rules; `who` may upload to the project (upload:<glob> or admin, else
  // kPermissionDenied); a project that does not exist yet passes the new-project check; the
  // sha256 matches `declared_sha256`; a file already stored under the filename is a no-op
  // (same bytes) or kAlreadyExists (other bytes), and a tombstoned filename or version is
  // kAlreadyExists; `inspect`; then the blobs, then the one catalog commit, then the pages.
  // Nothing is stored on error (at most an unreferenced blob, for gc). Every call is
  // recorded in the audit log with its outcome (action "publish", or
  // "publish.shadow_override" when an admin created a project the new-project check would
  // have refused to anyone else: asked again without the admin scope, it says
  // kAlreadyExists).
  Result<PublishResult> Publish(const auth::Principal& who, const Format& format,
                                PublishRequest request);

  // Asked by Publish, after the upload permission check, before it creates a project that
  // does not exist yet in its format: OK lets the publish go on, an error refuses it as is.
  // The upstream proxies set it to refuse taking over public names (dependency confusion).
  // Set once before serving (not synchronized with publishes).
  using NewProjectCheck = std::function<Status(
      const auth::Principal& who, std::string_view format, std::string_view normalized_project)>;
  void SetNewProjectCheck(NewProjectCheck check) { new_project_check_ = std::move(check); }

  // The new-project check as Publish would run it for `project` (OK when the project
  // exists or no check is set): lets a format report the real reason before refusing a
  // malformed publish of a name it may not take anyway.
  Status CheckNewProject(const auth::Principal& who, const Format& format,
                         std::string_view project);

  const IndexOptions& options() const { return options_; }
  // The audit log every change above is recorded in; other services (the token API, the
  // builder's routes) record theirs here too.
  const AuditLog& audit() const { return audit_; }

  // Release changes in any format, each needing upload rights on the project; versions are
  // matched by the format's equality. kNotFound for a release or tag that does not exist.
  // These and the takedowns below record every call, refusals too, in the audit log.
  Status SetYanked(const auth::Principal& who, const Format& format, std::string_view project,
                   std::string_view version, bool yanked, std::string_view reason);
  Status SetDeprecated(const auth::Principal& who, const Format& format,
                       std::string_view project, std::string_view version,
                       std::string_view message);
  Status SetTag(const auth::Principal& who, const Format& format, std::string_view project,
                std::string_view tag, std::string_view version);
  Status RemoveTag(const auth::Principal& who, const Format& format, std::string_view project,
                   std::string_view tag);
  // Tag -> the stored version of its release.
  Result<std::map<std::string, std::string>> ListTags(const Format& format,
                                                     std::string_view project);
  // Takedowns (admin only): a release with its files, or one file; their names become
  // tombstones and can never be published again.
  Status RemoveRelease(const auth::Principal& who, const Format& format,
                       std::string_view project, std::string_view version);
  Status RemoveFile(const auth::Principal& who, const Format& format, std::string_view project,
                    std::string_view filename);

  // Reads. Names must be normalized; kNotFound when the project does not exist.
  Result<std::shared_ptr<const ProjectView>> GetProject(const Format& format,
                                                        std::string_view project);
  Result<std::vector<catalog::ProjectRecord>> ListProjects(const Format& format);
  // The catalog row of `filename` in the project; kNotFound when absent. Served from memory
  // after the first lookup: a published file never changes (its yank state, which can, is
  // not reliable here — read it from GetProject).
  Result<catalog::FileRecord> FindFile(const Format& format, std::string_view project,
                                       std::string_view filename);
  // A stored blob's bytes (a release manifest, say) when at most `max_bytes` (kTooLarge
  // otherwise).
  Result<std::string> ReadBlob(std::string_view sha256, std::uint64_t max_bytes);
  // Opens a stored blob (a file's or a metadata blob's) for reading.
  Result<std::unique_ptr<storage::BlobReader>> OpenBlob(std::string_view sha256);

  // A blob to send: `small` holds the bytes (kept in memory, shared) when the blob is at
  // most 64 KiB — small wheels, every .metadata file — else `reader` is open on it.
  struct BlobContent {
    std::shared_ptr<const std::string> small;
    std::unique_ptr<storage::BlobReader> reader;
  };
  Result<BlobContent> ReadBlobForServing(std::string_view sha256);
  std::optional<std::string> DirectUrl(std::string_view sha256);

  // Rendered pages, invalidated whenever the project (or the project list) changes here
  // or, in another process, at once through the catalog's change notifications
  // (Catalog::WatchChanges, when the backend has them) and, as a fallback, through its
  // change sequence, which these two check first (Revalidate): handlers just ask.
  std::optional<CachedPage> FindPage(std::string_view project, const std::string& key);
  Result<CachedPage> GetOrBuildPage(std::string_view project, const std::string& key,
                                    const std::function<Result<CachedPage>()>& build);
  // The cache itself, for tests and for pages of another origin with their own expiry.
  PageCache& pages() { return pages_; }
  // Re-reads the catalog's change sequence and drops every cached page when it moved.
  // Called before serving from the cache; cheap (one query at most every 250 ms).
  void Revalidate();

  // True when the project exists in `format` (checked now, not from a cache).
  Result<bool> HasProject(const Format& format, std::string_view project);
  // Blobs of another origin kept in this repository's store (the upstream proxy's cache):
  // referenced by no catalog row, so `pipy gc` applies to them as to any orphan.
  Result<storage::BlobInfo> StoreBlob(std::string_view bytes);
  Result<storage::BlobInfo> AdoptBlob(const std::filesystem::path& file, std::string_view sha256);
  // True when blobs are files on this machine (opening one does not block on a network).
  bool BlobsAreLocal() const { return blobs_.is_local(); }

 private:
  // A release named by a client, its project normalized and its version parsed, after the
  // permission check (upload rights, or admin when `admin_only`).
  struct ReleaseRef {
    std::string project;
    FormatVersion version;
  };
  Result<ReleaseRef> ResolveRelease(const auth::Principal& who, const Format& format,
                                    std::string_view project, std::string_view version,
                                    bool admin_only);
  // Publish without the audit record; sets `shadow_override` (see Publish).
  Result<PublishResult> PublishUnaudited(const auth::Principal& who, const Format& format,
                                         PublishRequest request, bool& shadow_override);
  // True when the new-project check refuses `project` to `who` without its admin scope.
  bool AdminOverridesNewProjectCheck(const auth::Principal& who, const Format& format,
                                     const std::string& project);
  // Drop the filename cache (all of it, or one project's rows): removed files must stop
  // being served at once, on this node and, through the change notifications, on others.
  void ForgetFiles();
  void ForgetFiles(std::string_view project);

  storage::BlobStore& blobs_;
  catalog::Catalog& catalog_;
  IndexOptions options_;
  AuditLog audit_;
  PageCache pages_;
  NewProjectCheck new_project_check_;  // empty = any new project is fine
  SmallBlobCache small_blobs_{64 * 1024, 16 * 1024 * 1024};
  // project -> format and filename (NUL-separated) -> the file's catalog row, for the
  // download path. Per project, so another node's change to one project (a takedown)
  // drops only that project's rows.
  std::mutex files_mu_;
  std::unordered_map<std::string, std::unordered_map<std::string, catalog::FileRecord>> files_;
  std::size_t cached_files_ = 0;  // rows in files_, guarded by files_mu_
  static constexpr std::size_t kMaxCachedFiles = 200'000;

  std::int64_t seen_sequence_ = -1;              // guarded by revalidate_mu_
  std::atomic<std::int64_t> next_check_ms_{0};   // read without the lock on every request
  std::mutex revalidate_mu_;
  // Last member: destroyed first, so no notification reaches a half-destroyed index.
  std::unique_ptr<catalog::ChangeWatch> change_watch_;
};

}  // namespace pipy::index
