// Upgrade in place: a repository written by the schema before formats (migrations 1 and 2,
// as released) opens with every project, release, file, yank, upload time, uploader,
// provenance, token and build record kept; the build queue of one written before build order
// (migration 4) keeps its jobs, as Python builds waiting for nothing.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <vector>

#include "catalog/migrations.h"
#include "catalog/sqlite_build_queue.h"
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

  // Writes a database at schema `version` (as released) holding three builds: a passed one,
  // a queued one and one that node-1 was running.
  void WriteBuildsAtVersion(int version) {
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
    ASSERT_GT(migrations.size(), static_cast<std::size_t>(version));
    for (int v = 1; v <= version; ++v) {
      exec(migrations[static_cast<std::size_t>(v - 1)]);
      exec("INSERT INTO schema_migrations VALUES (" + std::to_string(v) + ", 1000)");
    }
    exec(R"sql(
INSERT INTO builds (source, module, commit_sha, project, version, status, message, runner,
                    created_ms, started_ms, finished_ms) VALUES
  ('mono', 'logger', 'c0ffee', 'acme-logger', '1.0', 'passed', 'published', 'node-1/0', 5, 6, 7),
  ('mono', 'redis', 'c0ffee', '', '', 'queued', '', '', 8, 0, 0),
  ('mono', 'web', 'c0ffee', '', '', 'running', '', 'node-1/1', 9, 10, 0);
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
  // Tokens made before expiry existed never expire and have not been used since.
  EXPECT_EQ((*ci)->expires_ms, 0);
  EXPECT_EQ((*ci)->last_used_ms, 0);
  EXPECT_TRUE(catalog.TouchToken("ci", 1700000000000).ok());
  auto old = catalog.FindTokenByHash("hash-old");
  ASSERT_TRUE(old.has_value() && old->has_value());
  EXPECT_TRUE((*old)->revoked);

  auto seq = catalog.ChangeSequence();
  ASSERT_TRUE(seq.has_value());
  EXPECT_GE(*seq, 41);
  auto applied = catalog.AppliedMigrations();
  ASSERT_TRUE(applied.has_value());
  ASSERT_EQ(applied->size(), SqliteMigrations().size());
  EXPECT_EQ(applied->back().first, static_cast<std::int64_t>(SqliteMigrations().size()));

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
  auto queue = SqliteBuildQueue::Open(path_);
  ASSERT_TRUE(queue.has_value()) << queue.error().ToString();
  auto jobs = (*queue)->List(0, 10);
  ASSERT_TRUE(jobs.has_value()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 1u);
  const BuildJob& job = jobs->front();
  EXPECT_EQ(job.module, "logger");
  EXPECT_EQ(job.commit, "c0ffee");
  EXPECT_EQ(job.status, BuildStatus::kPassed);
  EXPECT_EQ(job.message, "published");
  EXPECT_EQ(job.format, "python");
  EXPECT_TRUE(job.waits_for.empty());
  EXPECT_EQ(job.blocked_by, 0);
}

// Migration 4 on its own, from each released schema before it: the old jobs are Python
// builds waiting for nothing, a pending one still dedupes and runs, and new jobs may wait.
TEST_F(SqliteUpgradeTest, OldJobsBecomePythonBuildsWaitingForNothing) {
  for (int version : {2, 3}) {
    SCOPED_TRACE("schema version " + std::to_string(version));
    path_ = tmp_.path() / ("version" + std::to_string(version) + ".db");
    WriteBuildsAtVersion(version);
    auto opened = SqliteBuildQueue::Open(path_);
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    BuildQueue& queue = **opened;
    auto jobs = queue.List(0, 10);
    ASSERT_TRUE(jobs.has_value()) << jobs.status().ToString();
    ASSERT_EQ(jobs->size(), 3u);
    for (const BuildJob& job : *jobs) {
      EXPECT_EQ(job.format, "python") << job.module;
      EXPECT_TRUE(job.waits_for.empty()) << job.module;
      EXPECT_EQ(job.blocked_by, 0) << job.module;
    }
    const BuildJob& running = (*jobs)[0];
    const BuildJob& queued = (*jobs)[1];
    EXPECT_EQ(running.status, BuildStatus::kRunning);
    EXPECT_EQ(queued.status, BuildStatus::kQueued);
    EXPECT_EQ((*jobs)[2].status, BuildStatus::kPassed);
    EXPECT_EQ((*jobs)[2].finished_ms, 7);

    NewBuild again;
    again.source = "mono";
    again.module = "redis";
    again.commit = "c0ffee";
    again.created_ms = 20;
    auto deduped = queue.Enqueue(again);
    ASSERT_TRUE(deduped.has_value()) << deduped.status().ToString();
    EXPECT_EQ(deduped->id, queued.id) << "the old queued job is a pending Python build";
    NewBuild npm = again;
    npm.format = "npm";
    npm.waits_for = {queued.id, running.id};
    auto added = queue.Enqueue(npm);
    ASSERT_TRUE(added.has_value()) << added.status().ToString();
    EXPECT_EQ(added->format, "npm");
    EXPECT_EQ(added->waits_for, (std::vector<std::int64_t>{queued.id, running.id}));

    EXPECT_EQ(queue.RequeueRunning("node-1/").value_or(-1), 1);
    auto first = queue.ClaimNext("node-2/0", 30);
    ASSERT_TRUE(first.has_value() && first->has_value());
    EXPECT_EQ((*first)->id, queued.id);
    auto second = queue.ClaimNext("node-2/1", 30);
    ASSERT_TRUE(second.has_value() && second->has_value());
    EXPECT_EQ((*second)->id, running.id);
    auto none = queue.ClaimNext("node-2/2", 30);
    ASSERT_TRUE(none.has_value());
    EXPECT_FALSE(none->has_value()) << "the new job waits for the old ones";
    BuildResult result;
    result.status = BuildStatus::kFailed;
    ASSERT_TRUE(queue.Finish(queued.id, result).ok());
    result.status = BuildStatus::kPassed;
    ASSERT_TRUE(queue.Finish(running.id, result).ok());
    auto third = queue.ClaimNext("node-2/2", 50);
    ASSERT_TRUE(third.has_value() && third->has_value());
    EXPECT_EQ((*third)->id, added->id);
    result.status = BuildStatus::kSkipped;
    result.blocked_by = queued.id;
    ASSERT_TRUE(queue.Finish(added->id, result).ok());
    auto got = queue.Get(added->id);
    ASSERT_TRUE(got.has_value() && got->has_value());
    EXPECT_EQ((*got)->blocked_by, queued.id);
  }
}

}  // namespace
}  // namespace pipy::catalog
