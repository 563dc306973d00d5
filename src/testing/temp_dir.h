// Test support: the one way tests make a temporary folder.
#pragma once

#include <filesystem>
#include <string_view>

namespace pipy::testing {

// A fresh, empty folder "<temp>/<prefix>-XXXXXX", where <temp> is
// std::filesystem::temp_directory_path() ($TMPDIR, else /tmp). The destructor removes it with
// everything in it. Not copyable or movable: hold it as a member or local for as long as the
// folder is needed, and declare it before the members that keep files open in it, so they are
// destroyed first.
class TempDir {
 public:
  // Creates the folder with mkdtemp(3), so it is new (never one left by an earlier run) and
  // mode 0700. `prefix` is a file name (no '/'). Throws std::filesystem::filesystem_error when
  // the folder cannot be made: a test cannot go on without it.
  explicit TempDir(std::string_view prefix = "pipy-test");
  // Removes the folder and its contents, ignoring errors (the test may have removed it).
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace pipy::testing
