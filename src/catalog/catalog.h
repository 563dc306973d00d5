// Catalog: the metadata store — projects, releases, files, yanks, tags, deprecations,
// tombstones and API tokens, neutral to the package format.
//
// A project belongs to one format ("python", "npm", ...) and is unique by (format, name):
// the same name may exist once per format. A release is identified within its project by
// a version key the format computes (PEP 440-equal versions share one key); a file by its
// filename within its project. Format-specific fields are opaque attributes.
//
// AddFile is the repository's one commit point: a file is invisible before its row is
// inserted and complete after. A filename is unique within its project, so two concurrent
// uploads of one filename can never both win, and the release of a file is found or
// created by its version key inside the same transaction, so concurrent uploads of equal
// versions end in one release.
//
// Every implementation passes the conformance suite in catalog_conformance.h. All methods
// are thread-safe and may block on I/O. Implementations are reached through MakeCatalog
// (factory.h). Names and versions passed in are already normalized by the caller's format;
// the catalog stores what it is given and never interprets a version.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pipy::catalog {

// Format names as stored. A format is any short lowercase word; these are the ones Pipy
// serves.
inline constexpr std::string_view kPython = "python";
inline constexpr std::string_view kNpm = "npm";

// Per-format fields of a file or a release (a Python file's "packagetype",
// "metadata_sha256", "requires_python"; a release's "description_content_type"): stored
// as given, never interpreted by the catalog, with one rule every format keeps: a file
// attribute whose name ends in "_sha256" names a blob the file needs (a wheel's PEP 658
// METADATA), so `pipy check`, `gc` and `migrate` treat it as part of the file. Adding a
// format adds keys, not columns. Empty values are not stored.
using Attributes = std::map<std::string, std::string>;

// The value of `key` (a view into `attributes`), or "" when absent.
inline std::string_view AttributeOf(const Attributes& attributes, std::string_view key) {
  auto it = attributes.find(std::string(key));
  return it == attributes.end() ? std::string_view() : std::string_view(it->second);
}

// Where a file built by the monorepo builder came from; absent for uploaded files.
struct Provenance {
  std::string source;           // the [[sources]] name
  std::string commit;           // full hex sha the module was built at
  std::string module;           // the module's top-level folder
  std::int64_t build_id = 0;    // the BuildQueue job that built it
  std::string test_result;      // "passed"
};

struct FileRecord {
  std::string format = std::string(kPython);
  std::string project;          // normalized name, e.g. "acme-logger"
  // The release's version as stored (the spelling of its first file, e.g. "1.0rc1"): on
  // reads always the release's; on AddFile the new file's spelling.
  std::string version;
  // What identifies the release within the project (AddFile: the format's key of
  // `version`; empty = `version` itself). Reads return the release's key.
  std::string version_key;
  std::string filename;         // unique within its project
  std::uint64_t size = 0;
  std::string sha256;           // hex; also the blob key
  Attributes attributes;        // the format's fields of this file
  std::int64_t upload_time_ms = 0;  // Unix epoch milliseconds
  std::string uploader;         // token name, or "builder:<id>" etc.
  std::optional<Provenance> provenance;  // stored by AddFile, returned by every read
  // Filled on reads from the file's release (PEP 592 yanks apply to a whole release).
  bool yanked = false;
  std::string yanked_reason;
};

// Release-level metadata, taken from the first file of a release that carries it (a
// field is filled while empty, never overwritten).
struct ReleaseMetadata {
  std::string display_name;     // project name as the uploader spelled it
  std::string summary;
  std::string description;      // the README
  // sha256 of the manifest as published (npm's package.json), stored as a blob; "" = none.
  std::string manifest_sha256;
  Attributes attributes;        // the format's fields of the release
  // Tags (npm's dist-tags) AddFile points at this release in the same commit as the file,
  // so a publish never lands without the tags it asked for. Reads leave it empty.
  std::vector<std::string> tags;
};

struct ReleaseRecord {
  std::string format = std::string(kPython);
  std::string project;
  std::string version;          // as stored: the spelling of the release's first file
  std::string version_key;
  ReleaseMetadata metadata;
  bool yanked = false;
  std::string yanked_reason;
  std::string deprecated;       // npm's deprecation message; "" = not deprecated
  std::int64_t created_ms = 0;
};

// What a tombstone names: a removed release (by version key) or a removed file.
enum class TombstoneKind { kVersion, kFile };

// A name removed by an admin: it can never be published again in its project
// (Warehouse's and npm's rule). AddFile refuses files whose filename or version key is
// tombstoned.
struct Tombstone {
  TombstoneKind kind = TombstoneKind::kVersion;
  std::string name;             // the version key, or the filename
  std::int64_t removed_ms = 0;
  std::string removed_by;       // token name
};

struct ProjectRecord {
  std::string format = std::string(kPython);
  std::string name;             // normalized
  std::string display_name;
  std::int64_t created_ms = 0;
  std::int64_t last_upload_ms = 0;
};

struct TokenRecord {
  std::string name;             // unique, chosen by the admin
  std::string hash;             // hex sha256 of the secret; the secret itself is never stored
  std::vector<std::string> scopes;  // "read", "upload:<glob>", "admin"
  std::int64_t created_ms = 0;
  bool revoked = false;
  std::int64_t expires_ms = 0;    // Unix ms after which the token is refused; 0 = never
  std::int64_t last_used_ms = 0;  // last authentication, recorded at most once a minute; 0 = never
};

// One entry of the audit log (Catalog::AppendAudit): who changed what, from where, and how
// it ended. Never holds a secret: tokens appear by name only.
struct AuditRecord {
  std::int64_t id = 0;          // assigned by AppendAudit; grows with every append
  std::int64_t time_ms = 0;     // Unix epoch milliseconds
  std::string token;            // the caller's token name ("" = anonymous)
  std::string address;          // client IP; "cli" for pipy subcommands, "local" for the
                                // server's own work (the builder)
  std::string action;           // "publish", "yank", "token.create", ... (index/audit_log.h)
  std::string format;           // "python", "npm", or "" when the action has none
  std::string project;          // normalized name, or ""
  std::string target;           // what was acted on within the project, e.g. "1.0 a-1.0.whl"
  std::string outcome;          // "ok", or "denied: ...", "refused: ...", "failed: ..."
  // Identifies the record across repositories: `pipy migrate` copies a record only when the
  // target has none with this uid. Empty on AppendAudit = a fresh random one.
  std::string uid;
};

// Which audit records ListAudit returns: every field set must match; newest first.
struct AuditQuery {
  std::string project;          // "" = any
  std::string token;            // "" = any
  std::string action;           // "" = any
  std::int64_t since_ms = 0;    // time_ms at or after this; 0 = any
  std::int64_t before_id = 0;   // ids below this only (keyset paging); 0 = from the newest
  std::int64_t limit = 100;     // at most this many (at least 1)
};

enum class AddFileOutcome {
  kCreated,          // the row was inserted
  kIdenticalExists,  // the filename exists with the same sha256 and size; nothing changed
};

// A subscription to change notifications (Catalog::WatchChanges); destroying it unsubscribes.
class ChangeWatch {
 public:
  virtual ~ChangeWatch() = default;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  // Inserts `file`, creating its project (file.format, file.project) and its release (by
  // file.version_key) when missing, in one transaction. When the filename exists in the
  // project with the same sha256 and size: kIdenticalExists. With other bytes:
  // kAlreadyExists, nothing changed. A tombstoned filename or version key: kAlreadyExists
  // saying so, nothing changed. `release` fills release fields still empty.
  virtual Result<AddFileOutcome> AddFile(const FileRecord& file,
                                         const ReleaseMetadata& release) = 0;

  // The file `filename` of the project, or nullopt.
  virtual Result<std::optional<FileRecord>> FindFile(std::string_view format,
                                                     std::string_view project,
                                                     std::string_view filename) = 0;
  // The project, or nullopt.
  virtual Result<std::optional<ProjectRecord>> FindProject(std::string_view format,
                                                           std::string_view project) = 0;
  // Every project of `format`, ordered by name.
  virtual Result<std::vector<ProjectRecord>> ListProjects(std::string_view format) = 0;
  // Every release of the project (any order); empty when the project does not exist.
  virtual Result<std::vector<ReleaseRecord>> ListReleases(std::string_view format,
                                                          std::string_view project) = 0;
  // Every file of the project with its release's yank state (any order).
  virtual Result<std::vector<FileRecord>> ListFiles(std::string_view format,
                                                    std::string_view project) = 0;
  // Calls `fn` for every file of the catalog, every format; stops early with fn's non-OK
  // status.
  virtual Status ForEachFile(const std::function<Status(const FileRecord&)>& fn) = 0;

  // Marks the release whose version key is `version_key` yanked (with `reason`) or
  // un-yanks it. kNotFound when the release does not exist. Idempotent.
  virtual Status SetYanked(std::string_view format, std::string_view project,
                           std::string_view version_key, bool yanked,
                           std::string_view reason) = 0;
  // Sets a release's deprecation message ("" un-deprecates). kNotFound when the release
  // does not exist. Idempotent.
  virtual Status SetDeprecated(std::string_view format, std::string_view project,
                               std::string_view version_key, std::string_view message) = 0;

  // Tags (npm's dist-tags): tag -> the version key of one of the project's releases.
  // SetTag: kNotFound when the release does not exist. RemoveTag: kNotFound when the tag
  // does not exist.
  virtual Status SetTag(std::string_view format, std::string_view project, std::string_view tag,
                        std::string_view version_key) = 0;
  virtual Status RemoveTag(std::string_view format, std::string_view project,
                           std::string_view tag) = 0;
  // Every tag of the project (empty when none, or no such project).
  virtual Result<std::map<std::string, std::string>> ListTags(std::string_view format,
                                                             std::string_view project) = 0;

  // Takedowns. RemoveRelease deletes the release with its files and tags and tombstones
  // its version key and every filename; RemoveFile deletes one file (its release stays)
  // and tombstones the filename. kNotFound when there is no such release or file. The
  // blobs stay until `pipy gc` finds them unreferenced.
  virtual Status RemoveRelease(std::string_view format, std::string_view project,
                               std::string_view version_key, std::string_view removed_by) = 0;
  virtual Status RemoveFile(std::string_view format, std::string_view project,
                            std::string_view filename, std::string_view removed_by) = 0;
  // The project's tombstones (any order).
  virtual Result<std::vector<Tombstone>> ListTombstones(std::string_view format,
                                                        std::string_view project) = 0;

  // A number that grows whenever anything above changes, from any process sharing the
  // catalog: caches compare it to decide whether they are stale.
  virtual Result<std::int64_t> ChangeSequence() = 0;

  // Calls `on_change(project)` on a background thread soon after any process sharing the
  // catalog commits a change to `project` ("" for changes tied to no project, e.g. tokens),
  // until the returned watch is destroyed (which waits for a running call to return). Best
  // effort: notifications are lost during an outage, so callers keep comparing
  // ChangeSequence too. nullptr when the backend has no notifications (the default).
  virtual Result<std::unique_ptr<ChangeWatch>> WatchChanges(
      std::function<void(std::string_view project)> on_change) {
    return std::unique_ptr<ChangeWatch>();
  }

  // Tokens. AddToken stores the record as given (hash, scopes, created_ms, revoked,
  // expires_ms and last_used_ms, so `pipy migrate` copies tokens with it); fails with
  // kAlreadyExists when the name is taken.
  virtual Status AddToken(const TokenRecord& token) = 0;
  // The token with this hash (revoked or not), or nullopt.
  virtual Result<std::optional<TokenRecord>> FindTokenByHash(std::string_view hash) = 0;
  virtual Result<std::vector<TokenRecord>> ListTokens() = 0;
  // Marks the named token revoked; kNotFound when there is none.
  virtual Status RevokeToken(std::string_view name) = 0;
  // Records that the named token authenticated at `used_ms` (kept only when later than the
  // stored value). Does not advance ChangeSequence nor notify watchers: a last-use stamp
  // changes nothing a cache holds. kNotFound when there is no such token.
  virtual Status TouchToken(std::string_view name, std::int64_t used_ms) = 0;

  // The audit log. AppendAudit stores `record` (its id is assigned; an empty uid becomes a
  // fresh random one) and does not advance ChangeSequence: nothing cached depends on it. A
  // record whose uid is already stored is not stored again (OK: `pipy migrate` re-runs).
  virtual Status AppendAudit(const AuditRecord& record) = 0;
  // The records matching `query`, newest (highest id) first. The next page: the same query
  // with before_id = the last record's id.
  virtual Result<std::vector<AuditRecord>> ListAudit(const AuditQuery& query) = 0;
};

// A fresh random audit uid: 32 hex characters (128 bits).
std::string NewAuditUid();

// Every blob `file` needs: its own, then those its attributes name (see Attributes).
std::vector<std::string> BlobKeysOf(const FileRecord& file);

// The file named `filename` in any project of any format (the first found), or nullopt. A
// full scan through ForEachFile: for tools and tests, never for a request path.
Result<std::optional<FileRecord>> FindFileAnywhere(Catalog& catalog, std::string_view filename);

}  // namespace pipy::catalog
