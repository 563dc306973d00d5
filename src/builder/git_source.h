// GitSource: the read-only view of one monorepo the builder needs. The real implementation
// (OpenLibgit2Source) keeps a bare mirror under <data>/git/<source>; tests may use it on
// repositories made with the git CLI, or a fake.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pipy::builder {

class GitSource {
 public:
  virtual ~GitSource() = default;

  // Clones (first call) or fetches every branch of the remote. kUnavailable when the
  // remote cannot be reached or read.
  virtual Status Fetch() = 0;
  // The full sha of `branch`'s head as last fetched; kNotFound when there is no such branch.
  virtual Result<std::string> BranchHead(std::string_view branch) = 0;
  // The full sha of a commit named by a sha or a unique prefix of one; kNotFound otherwise.
  virtual Result<std::string> ResolveCommit(std::string_view rev) = 0;
  // The top-level folders of `commit` that hold a pyproject.toml or a package.json (the
  // modules' folders; commit_modules.h reads which modules they are), sorted.
  virtual Result<std::vector<std::string>> ListModules(std::string_view commit) = 0;
  // The top-level folders in which `from` and `to` differ: added, modified and deleted
  // files, both sides of a rename. Files at the top level itself belong to no folder.
  virtual Result<std::set<std::string>> ChangedFolders(std::string_view from,
                                                       std::string_view to) = 0;
  // The contents of `path` at `commit`, or nullopt when there is no such file.
  virtual Result<std::optional<std::string>> ReadFile(std::string_view commit,
                                                      std::string_view path) = 0;
  // Writes the files of folder `folder` at `commit` into `dest` (created), keeping the
  // executable bit and symlinks. kNotFound when the folder does not exist at that commit.
  virtual Status CheckoutFolder(std::string_view commit, std::string_view folder,
                                const std::filesystem::path& dest) = 0;
};

// A GitSource for the remote `url` (a local path, file://, http(s):// or ssh URL), mirrored
// into `mirror_dir` (created when missing). Thread-safe (calls are serialized).
Result<std::unique_ptr<GitSource>> OpenLibgit2Source(std::string url,
                                                     std::filesystem::path mirror_dir);

}  // namespace pipy::builder
