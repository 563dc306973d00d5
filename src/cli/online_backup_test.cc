#include "cli/online_backup.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <string>
#include <thread>

#include "testing/temp_dir.h"

namespace pipy::cli {
namespace {

namespace fs = std::filesystem;

sqlite3* Open(const fs::path& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  return db;
}

void Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error != nullptr ? error : "");
}

std::int64_t Scalar(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  std::int64_t value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return value;
}

TEST(OnlineBackupTest, CopiesOneConsistentSnapshotWhileAWriterCommits) {
  testing::TempDir dir;
  const fs::path source = dir.path() / "catalog.db";
  sqlite3* writer = Open(source);
  Exec(writer, "PRAGMA journal_mode = WAL");
  // Two tables that every transaction changes together: a torn copy would show them apart.
  Exec(writer,
       "CREATE TABLE files (id INTEGER PRIMARY KEY, body TEXT);"
       "CREATE TABLE counter (n INTEGER); INSERT INTO counter VALUES (0)");
  const std::string body(2000, 'x');  // many pages, so the copy takes many steps
  for (int i = 0; i < 500; ++i) {
    Exec(writer, "BEGIN; INSERT INTO files (body) VALUES ('" + body +
                     "'); UPDATE counter SET n = n + 1; COMMIT");
  }
  std::atomic<bool> stop{false};
  std::atomic<int> commits{0};
  std::thread uploads([&] {
    while (!stop) {
      Exec(writer, "BEGIN; INSERT INTO files (body) VALUES ('" + body +
                       "'); UPDATE counter SET n = n + 1; COMMIT");
      ++commits;
    }
  });
  // One page per step: the longest a copy can take, with the writer running throughout.
  Status status = OnlineBackup(source, dir.path() / "copy.db", 1);
  int during = commits.load();
  stop = true;
  uploads.join();
  sqlite3_close(writer);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_GT(during, 0) << "the writer was blocked for the whole backup";

  sqlite3* copy = Open(dir.path() / "copy.db");
  EXPECT_EQ(Scalar(copy, "SELECT count(*) FROM files"), Scalar(copy, "SELECT n FROM counter"));
  EXPECT_GE(Scalar(copy, "SELECT n FROM counter"), 500);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(copy, "PRAGMA integrity_check", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "ok");
  sqlite3_finalize(stmt);
  sqlite3_close(copy);
}

TEST(OnlineBackupTest, CommitsBetweenStepsNeitherAppearNorRestartTheCopy) {
  testing::TempDir dir;
  const fs::path source = dir.path() / "catalog.db";
  sqlite3* writer = Open(source);
  Exec(writer, "PRAGMA journal_mode = WAL");
  Exec(writer, "CREATE TABLE files (id INTEGER PRIMARY KEY, body TEXT)");
  const std::string body(2000, 'x');
  for (int i = 0; i < 200; ++i) {
    Exec(writer, "INSERT INTO files (body) VALUES ('" + body + "')");
  }
  // An upload commits after every step, while the copy is under way.
  int commits = 0;
  Status status = OnlineBackup(source, dir.path() / "copy.db", 2, [&] {
    if (commits < 30) {
      Exec(writer, "INSERT INTO files (body) VALUES ('" + body + "')");
      ++commits;
    }
  });
  sqlite3_close(writer);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(commits, 30);
  // The copy is the snapshot taken when it started; without it, each commit would restart
  // the copy and the copy would hold the later rows.
  sqlite3* copy = Open(dir.path() / "copy.db");
  EXPECT_EQ(Scalar(copy, "SELECT count(*) FROM files"), 200);
  sqlite3_close(copy);
}

TEST(OnlineBackupTest, NeverCreatesAMissingSource) {
  testing::TempDir dir;
  Status status = OnlineBackup(dir.path() / "missing.db", dir.path() / "copy.db");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir.path() / "missing.db"));
}

TEST(OnlineBackupTest, NeverOverwritesTheDestination) {
  testing::TempDir dir;
  sqlite3* db = Open(dir.path() / "a.db");
  Exec(db, "CREATE TABLE t (x)");
  sqlite3_close(db);
  ASSERT_TRUE(OnlineBackup(dir.path() / "a.db", dir.path() / "b.db").ok());
  EXPECT_EQ(OnlineBackup(dir.path() / "a.db", dir.path() / "b.db").code(),
            StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace pipy::cli
