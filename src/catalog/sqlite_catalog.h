// SqliteCatalog: the embedded Catalog, one SQLite database file in WAL mode.
//
// Several SqliteCatalog objects (in one process or several) may share a file: writes take
// SQLite's write lock with BEGIN IMMEDIATE, waiting up to 5 s (then kUnavailable), and every
// write bumps a change counter stored in the database, so ChangeSequence sees writes made by
// any of them. The schema is created and migrated at open (migrations.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/sqlite_db.h"
#include "core/status.h"

namespace pipy::catalog {

class SqliteCatalog final : public Catalog {
 public:
  // Opens the database at `path`, creating the file when missing (its folder must exist), and
  // applies pending migrations in one transaction. kUnavailable when the file cannot be
  // opened; kInternal when the database was migrated by a newer Pipy.
  static Result<std::unique_ptr<SqliteCatalog>> Open(const std::filesystem::path& path);

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
  explicit SqliteCatalog(const std::filesystem::path& path);

  sqlite::ConnectionPool pool_;
};

}  // namespace pipy::catalog
