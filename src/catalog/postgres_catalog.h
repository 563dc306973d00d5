// PostgresCatalog: the Catalog in a PostgreSQL database shared by several Pipy nodes.
//
// Same behaviour as SqliteCatalog (the conformance suite runs against both): AddFile is one
// transaction whose arbiter is the UNIQUE constraint on files(project_id, filename), so of
// concurrent uploads of one filename from any number of nodes exactly one is kCreated; the
// release is found or created by (project_id, version_key) in it, so equal versions uploaded
// at once share one release. Every write transaction bumps meta.change_seq (ChangeSequence,
// read by every node) and NOTIFYs pg::kChangeChannel with the project's name, which
// WatchChanges delivers on every node.
//
// Connections come from a bounded pool (pool_size). A lost connection is dropped and
// replaced, and a call that failed on one before changing anything is retried once on a
// fresh connection, so the catalog recovers by itself when the server comes back. While the
// server is down, calls fail fast with kUnavailable and the server's message (connect_timeout
// 5 s unless the URL sets it). Serialization failures and deadlocks are retried up to three
// times, then kUnavailable. The schema lives in the connection's search_path and is migrated
// at open under an advisory lock (postgres_migrations.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/postgres_db.h"
#include "catalog/postgres_listener.h"
#include "core/status.h"

namespace pipy::catalog {

struct PostgresOptions {
  std::string url;             // libpq URL or keyword=value string
  std::size_t pool_size = 8;   // connections at most
};

class PostgresCatalog final : public Catalog {
 public:
  // Connects, checks the credentials and database, and migrates the schema. kInvalidArgument
  // for an unparsable URL; kUnavailable naming the database when it cannot be reached or
  // refuses the login; kInternal when the schema is newer than this Pipy.
  static Result<std::unique_ptr<PostgresCatalog>> Open(const PostgresOptions& options);
  ~PostgresCatalog() override;

  Result<AddFileOutcome> AddFile(const FileRecord& file, const ReleaseMetadata& release) override;
  Result<std::optional<FileRecord>> FindFile(std::string_view format, std::string_view project,
                                             std::string_view filename) override;
  Result<std::optional<ProjectRecord>> FindProject(std::string_view format,
                                                   std::string_view project) override;
  Result<std::vector<ProjectRecord>> ListProjects(std::string_view format) override;
  Result<std::vector<ReleaseRecord>> ListReleases(std::string_view format,
                                                  std::string_view project) override;
  Result<std::vector<FileRecord>> ListFiles(std::string_view format,
                                            std::string_view project) override;
  Status ForEachFile(const std::function<Status(const FileRecord&)>& fn) override;
  Status SetYanked(std::string_view format, std::string_view project,
                   std::string_view version_key, bool yanked, std::string_view reason) override;
  Status SetDeprecated(std::string_view format, std::string_view project,
                       std::string_view version_key, std::string_view message) override;
  Status SetTag(std::string_view format, std::string_view project, std::string_view tag,
                std::string_view version_key) override;
  Status RemoveTag(std::string_view format, std::string_view project,
                   std::string_view tag) override;
  Result<std::map<std::string, std::string>> ListTags(std::string_view format,
                                                     std::string_view project) override;
  Status RemoveRelease(std::string_view format, std::string_view project,
                       std::string_view version_key, std::string_view removed_by) override;
  Status RemoveFile(std::string_view format, std::string_view project, std::string_view filename,
                    std::string_view removed_by) override;
  Result<std::vector<Tombstone>> ListTombstones(std::string_view format,
                                                std::string_view project) override;
  Result<std::int64_t> ChangeSequence() override;
  Result<std::unique_ptr<ChangeWatch>> WatchChanges(
      std::function<void(std::string_view project)> on_change) override;
  Status AddToken(const TokenRecord& token) override;
  Result<std::optional<TokenRecord>> FindTokenByHash(std::string_view hash) override;
  Result<std::vector<TokenRecord>> ListTokens() override;
  Status RevokeToken(std::string_view name) override;
  Status TouchToken(std::string_view name, std::int64_t used_ms) override;
  Status AppendAudit(const AuditRecord& record) override;
  Result<std::vector<AuditRecord>> ListAudit(const AuditQuery& query) override;

  // The versions recorded in schema_migrations with their applied_at (Unix ms), ascending.
  Result<std::vector<std::pair<std::int64_t, std::int64_t>>> AppliedMigrations();

 private:
  PostgresCatalog(pg::ConnectSettings settings, std::size_t pool_size);

  Status Read(const std::function<Status(pg::Connection&)>& fn) { return pool_.Read(fn); }
  Status Write(const std::function<Status(pg::Connection&)>& fn) { return pool_.Write(fn); }

  pg::ConnectionPool pool_;
  std::mutex listener_mu_;
  std::unique_ptr<pg::ChangeListener> listener_;  // created by the first WatchChanges
};

// Adds one to meta.change_seq and notifies pg::kChangeChannel with `project`, inside the
// caller's transaction: both take effect exactly when it commits.
Status PostgresRecordChange(pg::Connection& conn, std::string_view project);

}  // namespace pipy::catalog
