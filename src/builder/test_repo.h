// Test support: a git repository made with the git CLI in a temp folder.
#pragma once

#include <filesystem>
#include <string>

#include "testing/temp_dir.h"

namespace pipy::builder::testing {

class TestRepo {
 public:
  // `git init -b main` in a new temp folder (removed by the destructor).
  TestRepo();
  TestRepo(const TestRepo&) = delete;
  TestRepo& operator=(const TestRepo&) = delete;

  const std::filesystem::path& path() const { return dir_.path(); }
  // Writes `content` to `rel` (folders created).
  void Write(const std::string& rel, const std::string& content);
  // Runs `git <args>` in the repository and returns its stdout (trimmed); fails the test on
  // a non-zero exit.
  std::string Git(const std::string& args);
  // Stages everything and commits; returns the new commit's sha.
  std::string Commit(const std::string& message);
  // A minimal module: <folder>/pyproject.toml for `name` `version` (+ `extra` TOML) and a
  // module file.
  void WriteModule(const std::string& folder, const std::string& name, const std::string& version,
                   const std::string& extra = "");

 private:
  pipy::testing::TempDir dir_{"pipy-git"};
};

}  // namespace pipy::builder::testing
