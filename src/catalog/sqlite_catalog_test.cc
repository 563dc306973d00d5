#include "catalog/sqlite_catalog.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "catalog/catalog_conformance.h"
#include "catalog/factory.h"
#include "catalog/sqlite_db.h"
#include "testing/temp_dir.h"

namespace pipy::catalog {
namespace {

namespace fs = std::filesystem;

// A new subfolder of one temp folder for the whole binary, which is removed at exit.
fs::path NewDir() {
  static const pipy::testing::TempDir root("pipy-catalog-test");
  static std::atomic<int> counter{0};
  fs::path dir = root.path() / ("db" + std::to_string(counter.fetch_add(1)));
  fs::create_directories(dir);
  return dir;
}

std::unique_ptr<Catalog> FreshSqliteCatalog() {
  auto catalog = SqliteCatalog::Open(NewDir() / "catalog.db");
  if (!catalog.has_value()) {
    ADD_FAILURE() << catalog.error().ToString();
    return nullptr;
  }
  return std::move(catalog).value();
}

INSTANTIATE_TEST_SUITE_P(Sqlite, CatalogConformanceTest,
                         ::testing::Values(CatalogConformanceParam{"sqlite", FreshSqliteCatalog}),
                         CatalogConformanceName);

// A raw connection, as another tool or process would have.
class RawDb {
 public:
  explicit RawDb(const fs::path& path) { sqlite3_open(path.c_str(), &db_); }
  ~RawDb() { sqlite3_close(db_); }
  int Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  std::string QueryText(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

ReleaseMetadata Meta() { return ReleaseMetadata{.display_name = "Acme", .summary = "summary"}; }

class SqliteCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = NewDir() / "catalog.db"; }

  std::unique_ptr<SqliteCatalog> OpenCatalog() {
    auto catalog = SqliteCatalog::Open(path_);
    EXPECT_TRUE(catalog.has_value()) << catalog.error().ToString();
    return catalog.has_value() ? std::move(catalog).value() : nullptr;
  }

  fs::path path_;
};

TEST_F(SqliteCatalogTest, ReopeningKeepsDataAndDoesNotRerunMigrations) {
  std::vector<std::pair<std::int64_t, std::int64_t>> applied;
  {
    auto catalog = OpenCatalog();
    ASSERT_NE(catalog, nullptr);
    ASSERT_TRUE(catalog->AddFile(TestFile("acme", "1.0"), Meta()).has_value());
    auto migrations = catalog->AppliedMigrations();
    ASSERT_TRUE(migrations.has_value());
    ASSERT_FALSE(migrations->empty());
    EXPECT_EQ(migrations->front().first, 1);
    applied = *migrations;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto catalog = OpenCatalog();
  ASSERT_NE(catalog, nullptr);
  auto found = catalog->FindFile("python", TestFile("acme", "1.0").project, TestFile("acme", "1.0").filename);
  ASSERT_TRUE(found.has_value() && found->has_value());
  auto migrations = catalog->AppliedMigrations();
  ASSERT_TRUE(migrations.has_value());
  EXPECT_EQ(*migrations, applied) << "migrations ran again";
}

TEST_F(SqliteCatalogTest, ASecondCatalogOnTheSameFileSeesWritesAndTheSequenceMove) {
  auto a = OpenCatalog();
  auto b = OpenCatalog();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  std::int64_t before = b->ChangeSequence().value_or(-1);
  ASSERT_TRUE(a->AddFile(TestFile("acme", "1.0"), Meta()).has_value());
  EXPECT_GT(b->ChangeSequence().value_or(-1), before);
  auto found = b->FindFile("python", TestFile("acme", "1.0").project, TestFile("acme", "1.0").filename);
  ASSERT_TRUE(found.has_value() && found->has_value());

  std::int64_t a_before = a->ChangeSequence().value_or(-1);
  ASSERT_TRUE(b->SetYanked("python", "acme", "1.0", true, "from b").ok());
  EXPECT_GT(a->ChangeSequence().value_or(-1), a_before);
  auto files = a->ListFiles("python", "acme");
  ASSERT_TRUE(files.has_value() && files->size() == 1);
  EXPECT_TRUE((*files)[0].yanked);
  // The same filename from the other object is still refused.
  EXPECT_EQ(b->AddFile(TestFile("acme", "1.0", "other"), Meta()).status().code(),
            StatusCode::kAlreadyExists);
}

TEST_F(SqliteCatalogTest, UsesWalAndForeignKeys) {
  auto catalog = OpenCatalog();
  ASSERT_NE(catalog, nullptr);
  RawDb raw(path_);
  EXPECT_EQ(raw.QueryText("PRAGMA journal_mode"), "wal");
  // The schema's foreign keys are declared (enforced on the catalog's own connections).
  EXPECT_NE(raw.QueryText("SELECT sql FROM sqlite_master WHERE name = 'files'")
                .find("REFERENCES releases"),
            std::string::npos);
  EXPECT_NE(raw.QueryText("SELECT name FROM sqlite_master WHERE name = 'files_by_project'"), "");
}

TEST_F(SqliteCatalogTest, WaitsForAnotherWritersLock) {
  auto catalog = OpenCatalog();
  ASSERT_NE(catalog, nullptr);
  RawDb raw(path_);
  ASSERT_EQ(raw.Exec("BEGIN IMMEDIATE"), SQLITE_OK);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    raw.Exec("COMMIT");
  });
  auto outcome = catalog->AddFile(TestFile("acme", "1.0"), Meta());
  release.join();
  ASSERT_TRUE(outcome.has_value()) << outcome.status().ToString();
  EXPECT_EQ(*outcome, AddFileOutcome::kCreated);
}

TEST_F(SqliteCatalogTest, ForEachFilePagesThroughManyFiles) {
  auto catalog = OpenCatalog();
  ASSERT_NE(catalog, nullptr);
  // Bulk-insert past one page (512) through a raw connection, then check every row is visited
  // once while `fn` itself reads the catalog.
  ASSERT_TRUE(catalog->AddFile(TestFile("acme", "1.0"), Meta()).has_value());
  RawDb raw(path_);
  ASSERT_EQ(
      raw.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1100)"
               " INSERT INTO files (release_id, project_id, filename, attributes, size,"
               " sha256, upload_time_ms) SELECT 1, 1, 'f' || i || '.whl',"
               " '{\"packagetype\":\"bdist_wheel\"}', i, 'x', 0 FROM n"),
      SQLITE_OK);
  int visits = 0;
  ASSERT_TRUE(catalog
                  ->ForEachFile([&](const FileRecord& f) {
                    ++visits;
                    return catalog->FindProject("python", f.project).status();
                  })
                  .ok());
  EXPECT_EQ(visits, 1101);
}

TEST_F(SqliteCatalogTest, NewerSchemaIsRefused) {
  ASSERT_NE(OpenCatalog(), nullptr);
  {
    RawDb raw(path_);
    ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)"),
              SQLITE_OK);
  }
  auto catalog = SqliteCatalog::Open(path_);
  ASSERT_FALSE(catalog.has_value());
  EXPECT_NE(catalog.error().message().find("999"), std::string::npos);
}

TEST_F(SqliteCatalogTest, UnopenableFileIsUnavailable) {
  auto catalog = SqliteCatalog::Open(path_.parent_path() / "missing-dir" / "catalog.db");
  ASSERT_FALSE(catalog.has_value());
  EXPECT_EQ(catalog.error().code(), StatusCode::kUnavailable) << catalog.error().ToString();
}

TEST(CatalogFactoryTest, SqliteBackendCreatesItsFolder) {
  CatalogOptions options;
  options.sqlite_path = NewDir() / "new" / "catalog.db";
  auto catalog = MakeCatalog(options);
  ASSERT_TRUE(catalog.has_value()) << catalog.error().ToString();
  EXPECT_TRUE(fs::exists(options.sqlite_path));
  EXPECT_TRUE((*catalog)->AddFile(TestFile("acme", "1.0"), Meta()).has_value());
}

TEST(CatalogFactoryTest, UnknownBackendIsNamed) {
  CatalogOptions options;
  options.backend = "oracle";
  auto catalog = MakeCatalog(options);
  ASSERT_FALSE(catalog.has_value());
  EXPECT_EQ(catalog.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(catalog.error().message().find("oracle"), std::string::npos);
}

TEST(CatalogFactoryTest, SqliteWithoutPathIsRejected) {
  auto catalog = MakeCatalog(CatalogOptions{});
  ASSERT_FALSE(catalog.has_value());
  EXPECT_EQ(catalog.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pipy::catalog

// --- LogSync: the group commit of the write-ahead log -----------------------------------

namespace pipy::catalog::sqlite {
namespace {

TEST(LogSyncTest, CommitsWaitingBehindAFlushShareTheNextOne) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> flushes{0};
  LogSync sync("/nonexistent/catalog.db", [&]() -> Status {
    if (flushes.fetch_add(1) == 0) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return release; });  // the first flush is slow
    }
    return Status::Ok();
  });
  std::thread first([&] { EXPECT_TRUE(sync.Sync().ok()); });
  while (flushes.load() == 0) {
    std::this_thread::yield();
  }
  // Five commits finish while the first flush runs: it may have begun before them, so
  // none may return on it; one more flush covers all five.
  std::vector<std::thread> later;
  std::atomic<int> returned{0};
  for (int i = 0; i < 5; ++i) {
    later.emplace_back([&] {
      EXPECT_TRUE(sync.Sync().ok());
      ++returned;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(returned.load(), 0) << "a commit returned on a flush that began before it";
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  first.join();
  for (std::thread& t : later) {
    t.join();
  }
  EXPECT_EQ(returned.load(), 5);
  EXPECT_EQ(flushes.load(), 2);
  EXPECT_EQ(sync.flushes(), 2u);
}

TEST(LogSyncTest, AFailedFlushIsTheCallersErrorAndTheNextCallFlushesAgain) {
  int calls = 0;
  LogSync sync("/nonexistent/catalog.db", [&]() -> Status {
    return ++calls == 1 ? Unavailable("catalog: cannot sync: I/O error") : Status::Ok();
  });
  EXPECT_EQ(sync.Sync().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(sync.Sync().ok());
  EXPECT_EQ(calls, 2);
}

TEST(LogSyncTest, ADurableCommitFlushesTheRealLog) {
  auto dir = std::filesystem::temp_directory_path() /
             ("pipy-logsync-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    auto conn = Connection::Open(dir / "c.db");
    ASSERT_TRUE(conn.has_value()) << conn.error().ToString();
    ASSERT_TRUE((*conn)->Exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x)").ok());
    std::shared_ptr<LogSync> log = LogSync::For(dir / "c.db");
    const std::uint64_t before = log->flushes();
    auto txn = Transaction::Begin(**conn);
    ASSERT_TRUE(txn.has_value());
    ASSERT_TRUE((*conn)->Exec("INSERT INTO t VALUES (1)").ok());
    ASSERT_TRUE(txn->Commit().ok());
    EXPECT_EQ(log->flushes(), before + 1) << "Commit() returned without a flush";
    auto unsynced = Transaction::Begin(**conn);
    ASSERT_TRUE(unsynced.has_value());
    ASSERT_TRUE((*conn)->Exec("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(unsynced->CommitUnsynced().ok());
    EXPECT_EQ(log->flushes(), before + 1);
    EXPECT_TRUE(std::filesystem::exists(dir / "c.db-wal"));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pipy::catalog::sqlite
