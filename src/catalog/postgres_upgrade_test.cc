// Upgrade in place on PostgreSQL: a database written by the schema before formats
// (migrations 1 and 2, as released) opens with every project, release, file, yank, upload
// time, uploader, provenance, token and build record kept, and several nodes opening it at
// once migrate it once; the build queue of one written before build order (migration 4)
// keeps its jobs, as Python builds waiting for nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "catalog/postgres_build_queue.h"
#include "catalog/postgres_catalog.h"
#include "catalog/postgres_db.h"
#include "catalog/postgres_migrations.h"
#include "catalog/postgres_test_util.h"

namespace pipy::catalog {
namespace {

// The release `version` of `project`, as a subquery of the version 2 schema.
std::string ReleaseId(const std::string& project, const std::string& version) {
  return "(SELECT r.id FROM releases r JOIN projects p ON p.id = r.project_id"
         " WHERE p.name = '" + project + "' AND r.version = '" + version + "')";
}

std::string ProjectId(const std::string& project) {
  return "(SELECT id FROM projects WHERE name = '" + project + "')";
}

class PostgresUpgradeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = pgtest::FreshSchemaUrl();
    ASSERT_FALSE(url_.empty());
  }

  // Runs `sql` over a raw connection; fails the test on an error.
  void Exec(const std::string& sql) {
    std::string result = pgtest::Query(url_, sql);
    ASSERT_FALSE(result.starts_with("ERROR")) << result << "\n" << sql;
  }

  // Writes a database as Pipy before migration 3 left it. Ids come from the identity
  // columns, as they did in use, so later inserts do not collide with them.
  void WriteVersion2Database() {
    auto settings = pg::ConnectSettings::Parse(url_);
    ASSERT_TRUE(settings.has_value()) << settings.error().ToString();
    auto conn = pg::Connection::Open(*settings);
    ASSERT_TRUE(conn.has_value()) << conn.error().ToString();
    Status migrated = ApplyPostgresMigrations(**conn, /*max_version=*/2);
    ASSERT_TRUE(migrated.ok()) << migrated.ToString();
    ASSERT_EQ(pgtest::Query(url_, "SELECT string_agg(version::text, ',' ORDER BY version)"
                                  " FROM schema_migrations"),
              "1,2");
    Exec("INSERT INTO projects (name, display_name, created_ms) VALUES"
         " ('acme-logger', 'Acme.Logger', 1700000000000), ('other', 'Other', 1700000000500)");
    // One statement per release, so ids grow in this order: "1.0" is the older of the two
    // equal versions (an old race made both) and is the one kept.
    const char* releases[][9] = {
        {"acme-logger", "1.0", "Logs", "# Acme", "text/markdown", ">=3.8", "TRUE", "broken",
         "1700000000000"},
        {"acme-logger", "1.0.0", "", "", "", "", "FALSE", "", "1700000000100"},
        {"acme-logger", "2.0", "Logs 2", "", "", "", "FALSE", "", "1700000000200"},
        {"other", "0.1", "Other", "", "", "", "FALSE", "", "1700000000500"},
    };
    for (const auto& r : releases) {
      Exec(std::string("INSERT INTO releases (project_id, version, summary, description,"
                       " description_content_type, requires_python, yanked, yanked_reason,"
                       " created_ms) VALUES (") +
           ProjectId(r[0]) + ", '" + r[1] + "', '" + r[2] + "', '" + r[3] + "', '" + r[4] +
           "', '" + r[5] + "', " + r[6] + ", '" + r[7] + "', " + r[8] + ")");
    }
    const char* files[][15] = {
        {"acme-logger", "1.0", "acme_logger-1.0-py3-none-any.whl", "bdist_wheel", "111", "aa",
         "am", ">=3.8", "1700000000000", "ci", "mono", "c0ffee", "logger", "7", "passed"},
        {"acme-logger", "1.0.0", "acme_logger-1.0.0.tar.gz", "sdist", "222", "bb", "", "",
         "1700000000100", "ci", "", "", "", "0", ""},
        {"acme-logger", "2.0", "acme_logger-2.0-py3-none-any.whl", "bdist_wheel", "333", "cc",
         "cm", "", "1700000000200", "alice", "", "", "", "0", ""},
        {"other", "0.1", "other-0.1.tar.gz", "sdist", "444", "dd", "", "", "1700000000500", "bob",
         "", "", "", "0", ""},
    };
    for (const auto& f : files) {
      Exec(std::string("INSERT INTO files (release_id, project_id, filename, packagetype, size,"
                       " sha256, metadata_sha256, requires_python, upload_time_ms, uploader,"
                       " prov_source, prov_commit, prov_module, prov_build_id, prov_test_result)"
                       " VALUES (") +
           ReleaseId(f[0], f[1]) + ", " + ProjectId(f[0]) + ", '" + f[2] + "', '" + f[3] +
           "', " + f[4] + ", '" + f[5] + "', '" + f[6] + "', '" + f[7] + "', " + f[8] + ", '" +
           f[9] + "', '" + f[10] + "', '" + f[11] + "', '" + f[12] + "', " + f[13] + ", '" +
           f[14] + "')");
    }
    Exec("INSERT INTO tokens (name, hash, scopes, created_ms, revoked) VALUES"
         " ('ci', 'hash-ci', 'upload:acme-*', 1690000000000, FALSE),"
         " ('old', 'hash-old', 'read', 1, TRUE)");
    Exec("INSERT INTO builds (source, module, commit_sha, project, version, status, message,"
         " created_ms) VALUES ('mono', 'logger', 'c0ffee', 'acme-logger', '1.0', 'passed',"
         " 'published', 5)");
    Exec("UPDATE meta SET value = 41 WHERE key = 'change_seq'");
  }

  // Writes a database at schema `version` (as released) holding three builds: a passed one,
  // a queued one and one that node-1 was running.
  void WriteBuildsAtVersion(int version) {
    auto settings = pg::ConnectSettings::Parse(url_);
    ASSERT_TRUE(settings.has_value()) << settings.error().ToString();
    auto conn = pg::Connection::Open(*settings);
    ASSERT_TRUE(conn.has_value()) << conn.error().ToString();
    Status migrated = ApplyPostgresMigrations(**conn, version);
    ASSERT_TRUE(migrated.ok()) << migrated.ToString();
    // One statement per build, so ids grow in this order.
    Exec("INSERT INTO builds (source, module, commit_sha, project, version, status, message,"
         " runner, created_ms, started_ms, finished_ms) VALUES ('mono', 'logger', 'c0ffee',"
         " 'acme-logger', '1.0', 'passed', 'published', 'node-1/0', 5, 6, 7)");
    Exec("INSERT INTO builds (source, module, commit_sha, status, created_ms)"
         " VALUES ('mono', 'redis', 'c0ffee', 'queued', 8)");
    Exec("INSERT INTO builds (source, module, commit_sha, status, runner, created_ms,"
         " started_ms) VALUES ('mono', 'web', 'c0ffee', 'running', 'node-1/1', 9, 10)");
  }

  std::unique_ptr<PostgresCatalog> Open() {
    auto catalog = PostgresCatalog::Open(PostgresOptions{url_, 2});
    EXPECT_TRUE(catalog.has_value()) << catalog.error().ToString();
    return catalog.has_value() ? std::move(catalog).value() : nullptr;
  }

  std::string url_;
};

TEST_F(PostgresUpgradeTest, Version2DatabaseKeepsEverything) {
  WriteVersion2Database();
  auto opened = Open();
  ASSERT_NE(opened, nullptr);
  PostgresCatalog& catalog = *opened;

  auto projects = catalog.ListProjects("python");
  ASSERT_TRUE(projects.has_value()) << projects.status().ToString();
  ASSERT_EQ(projects->size(), 2u);
  EXPECT_EQ((*projects)[0].format, "python");
  EXPECT_EQ((*projects)[0].name, "acme-logger");
  EXPECT_EQ((*projects)[0].display_name, "Acme.Logger");
  EXPECT_EQ((*projects)[0].created_ms, 1700000000000);
  EXPECT_EQ((*projects)[0].last_upload_ms, 1700000000200);
  EXPECT_EQ((*projects)[1].name, "other");

  // "1.0" and "1.0.0" were two releases; they are one now, the older kept.
  auto releases = catalog.ListReleases("python", "acme-logger");
  ASSERT_TRUE(releases.has_value()) << releases.status().ToString();
  ASSERT_EQ(releases->size(), 2u);
  std::sort(releases->begin(), releases->end(),
            [](const auto& a, const auto& b) { return a.version < b.version; });
  const ReleaseRecord& first = (*releases)[0];
  EXPECT_EQ(first.format, "python");
  EXPECT_EQ(first.version, "1.0");
  EXPECT_EQ(first.version_key, "1");
  EXPECT_TRUE(first.yanked);
  EXPECT_EQ(first.yanked_reason, "broken");
  EXPECT_EQ(first.metadata.summary, "Logs");
  EXPECT_EQ(first.metadata.description, "# Acme");
  EXPECT_EQ(std::string(catalog::AttributeOf(first.metadata.attributes, "description_content_type")), "text/markdown");
  EXPECT_EQ(std::string(catalog::AttributeOf(first.metadata.attributes, "requires_python")), ">=3.8");
  EXPECT_EQ(first.metadata.attributes,
            (Attributes{{"description_content_type", "text/markdown"},
                        {"requires_python", ">=3.8"}}));
  EXPECT_EQ(first.deprecated, "");
  EXPECT_EQ(first.created_ms, 1700000000000);
  EXPECT_EQ((*releases)[1].version, "2.0");
  EXPECT_EQ((*releases)[1].version_key, "2");
  EXPECT_TRUE((*releases)[1].metadata.attributes.empty());
  EXPECT_FALSE((*releases)[1].yanked);

  auto files = catalog.ListFiles("python", "acme-logger");
  ASSERT_TRUE(files.has_value()) << files.status().ToString();
  ASSERT_EQ(files->size(), 3u);
  for (const FileRecord& f : *files) {
    EXPECT_EQ(f.format, "python");
    if (f.filename == "acme_logger-1.0-py3-none-any.whl") {
      EXPECT_EQ(f.version_key, "1");
      EXPECT_EQ(std::string(catalog::AttributeOf(f.attributes, "packagetype")), "bdist_wheel");
      EXPECT_EQ(f.size, 111u);
      EXPECT_EQ(f.sha256, "aa");
      EXPECT_EQ(std::string(catalog::AttributeOf(f.attributes, "metadata_sha256")), "am");
      EXPECT_EQ(std::string(catalog::AttributeOf(f.attributes, "requires_python")), ">=3.8");
      EXPECT_EQ(f.attributes, (Attributes{{"packagetype", "bdist_wheel"},
                                          {"metadata_sha256", "am"},
                                          {"requires_python", ">=3.8"}}));
      EXPECT_EQ(f.upload_time_ms, 1700000000000);
      EXPECT_EQ(f.uploader, "ci");
      EXPECT_TRUE(f.yanked);
      EXPECT_EQ(f.yanked_reason, "broken");
      ASSERT_TRUE(f.provenance.has_value());
      EXPECT_EQ(f.provenance->source, "mono");
      EXPECT_EQ(f.provenance->commit, "c0ffee");
      EXPECT_EQ(f.provenance->module, "logger");
      EXPECT_EQ(f.provenance->build_id, 7);
      EXPECT_EQ(f.provenance->test_result, "passed");
    } else if (f.filename == "acme_logger-1.0.0.tar.gz") {
      EXPECT_EQ(f.version, "1.0") << "the merged release's file follows it";
      EXPECT_EQ(f.version_key, "1");
      EXPECT_TRUE(f.yanked);
      EXPECT_EQ(std::string(catalog::AttributeOf(f.attributes, "packagetype")), "sdist");
      EXPECT_EQ(f.attributes, (Attributes{{"packagetype", "sdist"}}));
      EXPECT_EQ(std::string(catalog::AttributeOf(f.attributes, "metadata_sha256")), "");
      EXPECT_FALSE(f.provenance.has_value());
    } else {
      EXPECT_EQ(f.filename, "acme_logger-2.0-py3-none-any.whl");
      EXPECT_EQ(f.version_key, "2");
      EXPECT_EQ(f.uploader, "alice");
      EXPECT_EQ(std::string(catalog::AttributeOf(f.attributes, "metadata_sha256")), "cm");
      EXPECT_FALSE(f.yanked);
    }
  }
  auto other = catalog.FindFile("python", "other", "other-0.1.tar.gz");
  ASSERT_TRUE(other.has_value() && other->has_value());
  EXPECT_EQ((*other)->size, 444u);
  EXPECT_EQ((*other)->uploader, "bob");

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
  EXPECT_FALSE((*ci)->revoked);
  auto old = catalog.FindTokenByHash("hash-old");
  ASSERT_TRUE(old.has_value() && old->has_value());
  EXPECT_TRUE((*old)->revoked);

  EXPECT_EQ(pgtest::Query(url_, "SELECT module || ' ' || status || ' ' || commit_sha FROM builds"),
            "logger passed c0ffee");
  auto seq = catalog.ChangeSequence();
  ASSERT_TRUE(seq.has_value());
  EXPECT_GE(*seq, 41);
  auto applied = catalog.AppliedMigrations();
  ASSERT_TRUE(applied.has_value());
  ASSERT_EQ(applied->size(), PostgresMigrations().size());
  EXPECT_EQ((*applied)[2].first, 3);
  EXPECT_EQ(pgtest::Query(url_, "SELECT count(*) FROM meta WHERE key <> 'change_seq'"), "0")
      << "the version key step is still pending";
  // Python's columns are gone, and the format has no default: every insert names one.
  EXPECT_EQ(pgtest::Query(url_, "SELECT string_agg(table_name || '.' || column_name, ',')"
                                " FROM information_schema.columns"
                                " WHERE table_schema = current_schema() AND column_name IN"
                                " ('packagetype', 'metadata_sha256', 'requires_python',"
                                " 'description_content_type')"),
            "");
  EXPECT_EQ(pgtest::Query(url_, "SELECT COALESCE(column_default, 'none')"
                                " FROM information_schema.columns"
                                " WHERE table_schema = current_schema()"
                                " AND table_name = 'projects' AND column_name = 'format'"),
            "none");
}

// Migration 4 on its own, from each released schema before it: the old jobs are Python
// builds waiting for nothing, a pending one still dedupes and runs, and new jobs may wait.
TEST_F(PostgresUpgradeTest, OldJobsBecomePythonBuildsWaitingForNothing) {
  for (int version : {2, 3}) {
    SCOPED_TRACE("schema version " + std::to_string(version));
    url_ = pgtest::FreshSchemaUrl();
    ASSERT_FALSE(url_.empty());
    WriteBuildsAtVersion(version);
    auto opened = PostgresBuildQueue::Open(PostgresOptions{url_, 2});
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
    EXPECT_EQ((*jobs)[2].message, "published");
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
    npm.waits_for = {running.id, queued.id};
    auto added = queue.Enqueue(npm);
    ASSERT_TRUE(added.has_value()) << added.status().ToString();
    EXPECT_GT(added->id, running.id) << "the identity continues after the old jobs";
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
    EXPECT_EQ(pgtest::Query(url_, "SELECT max(version) FROM schema_migrations"),
              std::to_string(PostgresMigrations().size()));
  }
}

TEST_F(PostgresUpgradeTest, TheUpgradedConstraintsAreTheNewOnes) {
  WriteVersion2Database();
  auto catalog = Open();
  ASSERT_NE(catalog, nullptr);
  // An equal version joins its release (UNIQUE(project_id, version_key)).
  FileRecord sdist;
  sdist.project = "acme-logger";
  sdist.version = "2.0.0";
  sdist.version_key = "2";
  sdist.filename = "acme_logger-2.0.0.tar.gz";
  sdist.size = 5;
  sdist.sha256 = "ee";
  auto added = catalog->AddFile(sdist, ReleaseMetadata{});
  ASSERT_TRUE(added.has_value()) << added.status().ToString();
  EXPECT_EQ(*added, AddFileOutcome::kCreated);
  auto releases = catalog->ListReleases("python", "acme-logger");
  ASSERT_TRUE(releases.has_value());
  EXPECT_EQ(releases->size(), 2u);
  // A filename is unique per project now, not across the catalog (the old UNIQUE(filename)
  // is gone), and one name may be a project of each format (the old UNIQUE(name) too).
  FileRecord copy = sdist;
  copy.project = "other";
  copy.version = "0.1";
  copy.version_key = "0.1";
  added = catalog->AddFile(copy, ReleaseMetadata{});
  ASSERT_TRUE(added.has_value()) << added.status().ToString();
  EXPECT_EQ(*added, AddFileOutcome::kCreated);
  FileRecord npm = sdist;
  npm.format = "npm";
  npm.version = "1.0.0";
  npm.version_key = "1.0.0";
  npm.filename = "acme-logger-1.0.0.tgz";
  added = catalog->AddFile(npm, ReleaseMetadata{});
  ASSERT_TRUE(added.has_value()) << added.status().ToString();
  auto npm_project = catalog->FindProject("npm", "acme-logger");
  ASSERT_TRUE(npm_project.has_value() && npm_project->has_value());
  auto python_projects = catalog->ListProjects("python");
  ASSERT_TRUE(python_projects.has_value());
  EXPECT_EQ(python_projects->size(), 2u);
  // The old filename still refuses other bytes within its project.
  FileRecord tampered = sdist;
  tampered.sha256 = "ff";
  EXPECT_EQ(catalog->AddFile(tampered, ReleaseMetadata{}).status().code(),
            StatusCode::kAlreadyExists);
}

TEST_F(PostgresUpgradeTest, NodesOpeningAnOldDatabaseTogetherMigrateItOnce) {
  WriteVersion2Database();
  constexpr int kNodes = 3;
  std::vector<std::unique_ptr<PostgresCatalog>> nodes(kNodes);
  std::vector<std::string> errors(kNodes);
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      auto opened = PostgresCatalog::Open(PostgresOptions{url_, 1});
      if (opened.has_value()) {
        nodes[i] = std::move(opened).value();
      } else {
        errors[i] = opened.error().ToString();
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (int i = 0; i < kNodes; ++i) {
    ASSERT_NE(nodes[i], nullptr) << errors[i];
  }
  EXPECT_EQ(pgtest::Query(url_, "SELECT count(*) FROM schema_migrations WHERE version = 3"), "1");
  EXPECT_EQ(pgtest::Query(url_, "SELECT count(*) FROM releases"), "3");
  EXPECT_EQ(pgtest::Query(url_, "SELECT count(*) FROM files"), "4");
  for (const auto& node : nodes) {
    auto files = node->ListFiles("python", "acme-logger");
    ASSERT_TRUE(files.has_value()) << files.status().ToString();
    EXPECT_EQ(files->size(), 3u);
  }
}

}  // namespace
}  // namespace pipy::catalog
