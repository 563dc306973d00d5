// Catalog: the metadata store — projects, releases, files, yanks and API tokens.
//
// AddFile is the repository's one commit point: a file is invisible before its row is
// inserted and complete after. Filenames are unique across the catalog, so two concurrent
// uploads of one filename can never both win.
//
// Every implementation passes the conformance suite in catalog_conformance.h. All methods
// are thread-safe and may block on I/O. Implementations are reached through MakeCatalog
// (factory.h). Names passed in are already normalized (PEP 503) and versions normalized
// (PEP 440) by the caller; the catalog stores what it is given.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pipy::catalog {

// Where a file built by the monorepo builder came from; absent for uploaded files.
struct Provenance {
  std::string source;           // the [[sources]] name
  std::string commit;           // full hex sha the module was built at
  std::string module;           // the module's top-level folder
  std::int64_t build_id = 0;    // the BuildQueue job that built it
  std::string test_result;      // "passed"
};

struct FileRecord {
  std::string project;          // normalized name, e.g. "acme-logger"
  std::string version;          // normalized version, e.g. "1.0rc1"
  std::string filename;         // unique across the catalog
  std::string packagetype;      // "bdist_wheel" or "sdist"
  std::uint64_t size = 0;
  std::string sha256;           // hex; also the blob key
  std::string metadata_sha256;  // hex of the PEP 658 metadata blob; empty when none
  std::string requires_python;  // as declared; empty when none
  std::int64_t upload_time_ms = 0;  // Unix epoch milliseconds
  std::string uploader;         // token name, or "builder:<id>" etc.
  std::optional<Provenance> provenance;  // stored by AddFile, returned by every read
  // Filled on reads from the file's release (PEP 592 yanks apply to a whole release).
  bool yanked = false;
  std::string yanked_reason;
};

// Release-level metadata, taken from the first file of a release that carries it.
struct ReleaseMetadata {
  std::string display_name;     // project name as the uploader spelled it
  std::string summary;
  std::string description;      // the README
  std::string description_content_type;
  std::string requires_python;
};

struct ReleaseRecord {
  std::string project;
  std::string version;
  ReleaseMetadata metadata;
  bool yanked = false;
  std::string yanked_reason;
  std::int64_t created_ms = 0;
};

struct ProjectRecord {
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

  // Inserts `file`, creating its project and release when missing, in one transaction.
  // When the filename exists with the same sha256 and size: kIdenticalExists. With other
  // bytes: kAlreadyExists, nothing changed. `release` fills release fields still empty.
  virtual Result<AddFileOutcome> AddFile(const FileRecord& file,
                                         const ReleaseMetadata& release) = 0;

  // The file named `filename`, or nullopt.
  virtual Result<std::optional<FileRecord>> FindFile(std::string_view filename) = 0;
  // The project, or nullopt.
  virtual Result<std::optional<ProjectRecord>> FindProject(std::string_view project) = 0;
  // Every project, ordered by name.
  virtual Result<std::vector<ProjectRecord>> ListProjects() = 0;
  // Every release of `project` (any order); empty when the project does not exist.
  virtual Result<std::vector<ReleaseRecord>> ListReleases(std::string_view project) = 0;
  // Every file of `project` with its release's yank state (any order).
  virtual Result<std::vector<FileRecord>> ListFiles(std::string_view project) = 0;
  // Calls `fn` for every file of the catalog; stops early with fn's non-OK status.
  virtual Status ForEachFile(const std::function<Status(const FileRecord&)>& fn) = 0;

  // Marks a release yanked (with `reason`) or un-yanks it. kNotFound when the release
  // does not exist. Idempotent.
  virtual Status SetYanked(std::string_view project, std::string_view version, bool yanked,
                           std::string_view reason) = 0;

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

  // Tokens. AddToken stores the record as given (hash, scopes, created_ms and revoked, so
  // `pipy migrate` copies tokens with it); fails with kAlreadyExists when the name is taken.
  virtual Status AddToken(const TokenRecord& token) = 0;
  // The token with this hash (revoked or not), or nullopt.
  virtual Result<std::optional<TokenRecord>> FindTokenByHash(std::string_view hash) = 0;
  virtual Result<std::vector<TokenRecord>> ListTokens() = 0;
  // Marks the named token revoked; kNotFound when there is none.
  virtual Status RevokeToken(std::string_view name) = 0;
};

}  // namespace pipy::catalog
