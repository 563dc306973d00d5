// Upgrade in place: a repository written by the schema before formats (migrations 1 and 2,
// as released) opens with every project, release, file, yank, upload time, uploader,
// provenance, token and build record kept.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "catalog/migrations.h"
#include "catalog/sqlite_catalog.h"
#include "testing/temp_dir.h"

namespace pipy::catalog {
namespace {

namespace fs = std::filesystem;

class SqliteUpgradeTest : public ::testing::Test {
 protected:
  // Writes a database as Pipy before migration 3 left it.
  void WriteVersion2Repository() {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    auto exec = [db](std::string_view sql) {
      char* error = nullptr;
      int rc = sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &error);
      EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "") << "\n" << sql;
      sqlite3_free(error);
    };
    exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
         "applied_at INTEGER NOT NULL)");
    auto migrations = SqliteMigrations();
    ASSERT_GE(migrations.size(), 3u);
    exec(migrations[0]);
    exec(migrations[1]);
    exec("INSERT INTO schema_migrations VALUES (1, 1000), (2, 2000)");
    exec(R"sql(
INSERT INTO projects (id, name, display_name, created_ms) VALUES
  (1, 'acme-logger', 'Acme.Logger', 1700000000000), (2, 'other', 'Other', 1700000000500);
INSERT INTO releases (id, project_id, version, summary, description, description_content_type,
                      requires_python, yanked, yanked_reason, created_ms) VALUES
  (10, 1, '1.0', 'Logs', '# Acme', 'text/markdown', '>=3.8', 1, 'broken', 1700000000000),
  (11, 1, '1.0.0', '', '', '', '', 0, '', 1700000000100),
  (12, 1, '2.0', 'Logs 2', '', '', '', 0, '', 1700000000200),
  (13, 2, '0.1', 'Other', '', '', '', 0, '', 1700000000500);
INSERT INTO files (id, release_id, project_id, filename, packagetype, size, sha256,
                   metadata_sha256, requires_python, upload_time_ms, uploader,
                   prov_source, prov_commit, prov_module, prov_build_id, prov_test_result) VALUES
  (100, 10, 1, 'acme_logger-1.0-py3-none-any.whl', 'bdist_wheel', 111, 'aa', 'am', '>=3.8',
   1700000000000, 'ci', 'mono', 'c0ffee', 'logger', 7, 'passed'),
  (101, 11, 1, 'acme_logger-1.0.0.tar.gz', 'sdist', 222, 'bb', '', '', 1700000000100, 'ci',
   '', '', '', 0, ''),
  (102, 12, 1, 'acme_logger-2.0-py3-none-any.whl', 'bdist_wheel', 333, 'cc', 'cm', '',
   1700000000200, 'alice', '', '', '', 0, ''),
  (103, 13, 2, 'other-0.1.tar.gz', 'sdist', 444, 'dd', '', '', 1700000000500, 'bob',
   '', '', '', 0, '');
INSERT INTO tokens (name, hash, scopes, created_ms, revoked) VALUES
  ('ci', 'hash-ci', 'upload:acme-*', 1690000000000, 0), ('old', 'hash-old', 'read', 1, 1);
INSERT INTO builds (source, module, commit_sha, project, version, status, message, created_ms)
  VALUES ('mono', 'logger', 'c0ffee', 'acme-logger', '1.0', 'passed', 'published', 5);
UPDATE meta SET value = 41 WHERE key = 'change_seq';
)sql");
    sqlite3_close(db);
  }

  pipy::testing::TempDir tmp_{"pipy-upgrade-test"};
  fs::path path_ = tmp_.path() / "catalog.db";
};

TEST_F(SqliteUpgradeTest, Version2RepositoryKeepsEverything) {
  WriteVersion2Repository();
  auto opened = SqliteCatalog::Open(path_);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  SqliteCatalog& catalog = **opened;

  auto projects = catalog.ListProjects("python");
  ASSERT_TRUE(projects.has_value());
  ASSERT_EQ(projects->size(), 2u);
  EXPECT_EQ((*projects)[0].name, "acme-logger");
  EXPECT_EQ((*projects)[0].display_name, "Acme.Logger");
  EXPECT_EQ((*projects)[0].created_ms, 1700000000000);
  EXPECT_EQ((*projects)[0].last_upload_ms, 1700000000200);

  // "1.0" and "1.0.0" were two releases (an old race); they are one now, the older kept.
  auto releases = catalog.ListReleases("python", "acme-logger");
  ASSERT_TRUE(releases.has_value());
  ASSERT_EQ(releases->size(), 2u);
  std::sort(releases->begin(), releases->end(),
            [](const auto& a, const auto& b) { return a.version < b.version; });
  const ReleaseRecord& first = (*releases)[0];
  EXPECT_EQ(first.version, "1.0");
  EXPECT_EQ(first.version_key, "1");
  EXPECT_TRUE(first.yanked);
  EXPECT_EQ(first.yanked_reason, "broken");
  EXPECT_EQ(first.metadata.summary, "Logs");
  EXPECT_EQ(first.metadata.description, "# Acme");
  EXPECT_EQ(std::string(catalog::AttributeOf(first.metadata.attributes, "description_content_type")), "text/markdown");
  EXPECT_EQ(std::string(catalog::AttributeOf(first.metadata.attributes, "requires_python")), ">=3.8");
  EXPECT_EQ(first.created_ms, 1700000000000);
  EXPECT_EQ((*releases)[1].version_key, "2");

  auto files = catalog.ListFiles("python", "acme-logger");
  ASSERT_TRUE(files.has_value());
  ASSERT_EQ(files->size(), 3u);
  for (const FileRecord& f : *files) {
    EXPECT_EQ(f.format, "python");
    if (f.filename == "acme_logger-1.0-py3-none-any.whl") {
      EXPECT_EQ(std::string(catalog::AttributeOf(f.attributes, "packagetype")), "bdist_wheel");
      EXPECT_EQ(f.size, 111u);
      EXPECT_EQ(f.sha256, "aa");
      EXPECT_EQ(std::string(catalog::AttributeOf(f.attributes, "metadata_sha256")), "am");
      EXPECT_EQ(std::string(catalog::AttributeOf(f.attributes, "requires_python")), ">=3.8");
      EXPECT_EQ(f.upload_time_ms, 1700000000000);
      EXPECT_EQ(f.uploader, "ci");
      EXPECT_TRUE(f.yanked);
      ASSERT_TRUE(f.provenance.has_value());
      EXPECT_EQ(f.provenance->source, "mono");
      EXPECT_EQ(f.provenance->commit, "c0ffee");
      EXPECT_EQ(f.provenance->module, "logger");
      EXPECT_EQ(f.provenance->build_id, 7);
      EXPECT_EQ(f.provenance->test_result, "passed");
    } else if (f.filename == "acme_logger-1.0.0.tar.gz") {
      EXPECT_EQ(f.version, "1.0") << "the merged release's file follows it";
      EXPECT_TRUE(f.yanked);
      EXPECT_EQ(std::string(catalog::AttributeOf(f.attributes, "packagetype")), "sdist");
      EXPECT_FALSE(f.provenance.has_value());
    } else {
      EXPECT_EQ(f.filename, "acme_logger-2.0-py3-none-any.whl");
      EXPECT_EQ(f.uploader, "alice");
    }
  }
  auto other = catalog.FindFile("python", "other", "other-0.1.tar.gz");
  ASSERT_TRUE(other.has_value() && other->has_value());
  EXPECT_EQ((*other)->size, 444u);

  auto tokens = catalog.ListTokens();
  ASSERT_TRUE(tokens.has_value());
  ASSERT_EQ(tokens->size(), 2u);
  auto ci = catalog.FindTokenByHash("hash-ci");
  ASSERT_TRUE(ci.has_value() && ci->has_value());
  EXPECT_EQ((*ci)->scopes, std::vector<std::string>{"upload:acme-*"});
  EXPECT_EQ((*ci)->created_ms, 1690000000000);
  auto old = catalog.FindTokenByHash("hash-old");
  ASSERT_TRUE(old.has_value() && old->has_value());
  EXPECT_TRUE((*old)->revoked);

  auto seq = catalog.ChangeSequence();
  ASSERT_TRUE(seq.has_value());
  EXPECT_GE(*seq, 41);
  auto applied = catalog.AppliedMigrations();
  ASSERT_TRUE(applied.has_value());
  ASSERT_EQ(applied->size(), SqliteMigrations().size());
  EXPECT_EQ(applied->back().first, 3);

  // New uploads land in the upgraded schema, equal versions still join their release.
  FileRecord wheel;
  wheel.project = "acme-logger";
  wheel.version = "2.0.0";
  wheel.version_key = "2";
  wheel.filename = "acme_logger-2.0.0.tar.gz";
  wheel.size = 5;
  wheel.sha256 = "ee";
  ASSERT_TRUE(catalog.AddFile(wheel, ReleaseMetadata{}).has_value());
  releases = catalog.ListReleases("python", "acme-logger");
  ASSERT_TRUE(releases.has_value());
  EXPECT_EQ(releases->size(), 2u);
}

TEST_F(SqliteUpgradeTest, TheBuildQueueSurvivesTheUpgrade) {
  WriteVersion2Repository();
  ASSERT_TRUE(SqliteCatalog::Open(path_).has_value());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT module, status, commit_sha FROM builds", -1, &stmt,
                               nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "logger");
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)), "passed");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

}  // namespace
}  // namespace pipy::catalog
