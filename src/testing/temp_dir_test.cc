#include "testing/temp_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <optional>
#include <string>

namespace pipy::testing {
namespace {

namespace fs = std::filesystem;

// Points $TMPDIR at `dir` until destroyed, then puts the old value back.
class ScopedTmpdir {
 public:
  explicit ScopedTmpdir(const fs::path& dir) {
    if (const char* old = std::getenv("TMPDIR"); old != nullptr) {
      old_ = old;
    }
    ::setenv("TMPDIR", dir.c_str(), 1);
  }
  ~ScopedTmpdir() {
    if (old_) {
      ::setenv("TMPDIR", old_->c_str(), 1);
    } else {
      ::unsetenv("TMPDIR");
    }
  }
  ScopedTmpdir(const ScopedTmpdir&) = delete;
  ScopedTmpdir& operator=(const ScopedTmpdir&) = delete;

 private:
  std::optional<std::string> old_;
};

TEST(TempDirTest, MakesAnEmptyFolderNamedByThePrefixUnderTheTempPath) {
  TempDir dir("pipy-temp-dir-test");
  EXPECT_TRUE(fs::is_directory(dir.path()));
  EXPECT_TRUE(fs::is_empty(dir.path()));
  EXPECT_EQ(dir.path().parent_path(), fs::temp_directory_path());
  EXPECT_EQ(dir.path().filename().string().rfind("pipy-temp-dir-test-", 0), 0u)
      << dir.path();
  // Mode 0700: other users cannot look in.
  EXPECT_EQ(fs::status(dir.path()).permissions(), fs::perms::owner_all);
}

TEST(TempDirTest, TheDefaultPrefixIsPipyTest) {
  TempDir dir;
  EXPECT_EQ(dir.path().filename().string().rfind("pipy-test-", 0), 0u) << dir.path();
}

TEST(TempDirTest, EachInstanceGetsItsOwnFolder) {
  TempDir a("pipy-same");
  TempDir b("pipy-same");
  EXPECT_NE(a.path(), b.path());
  EXPECT_TRUE(fs::is_directory(a.path()));
  EXPECT_TRUE(fs::is_directory(b.path()));
}

TEST(TempDirTest, TheDestructorRemovesTheFolderAndItsContents) {
  fs::path kept;
  {
    TempDir dir;
    kept = dir.path();
    fs::create_directories(dir.path() / "a" / "b");
    std::ofstream(dir.path() / "a" / "b" / "file") << "bytes";
    std::ofstream(dir.path() / "top") << "bytes";
  }
  EXPECT_FALSE(fs::exists(kept));
}

TEST(TempDirTest, TheDestructorIgnoresAFolderTheTestRemovedItself) {
  std::optional<TempDir> dir;
  dir.emplace();
  fs::remove_all(dir->path());
  dir.reset();  // must not throw
  SUCCEED();
}

TEST(TempDirTest, MakesItsFolderUnderTmpdir) {
  TempDir outer("pipy-outer");
  ScopedTmpdir tmpdir(outer.path());
  fs::path inner_path;
  {
    TempDir inner("pipy-inner");
    inner_path = inner.path();
    EXPECT_TRUE(fs::is_directory(inner_path));
  }
  EXPECT_EQ(inner_path.parent_path(), outer.path());
  EXPECT_FALSE(fs::exists(inner_path));
}

TEST(TempDirTest, ThrowsWhenTheFolderCannotBeMade) {
  TempDir outer("pipy-outer");
  ScopedTmpdir tmpdir(outer.path() / "missing");
  EXPECT_THROW(TempDir("pipy-inner"), fs::filesystem_error);
}

}  // namespace
}  // namespace pipy::testing
