// The modules of one commit as the watcher plans their builds: which top-level folders are
// modules of which format, the package each publishes and the internal dependencies that
// order their builds (build_order.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "builder/build_order.h"
#include "builder/git_source.h"
#include "core/status.h"

namespace pipy::builder {

struct CommitModule {
  std::string folder;
  std::string format;   // kPythonFormat or kNpmFormat
  std::string version;  // normalized; "" when the metadata cannot be read
  // node.package is "" when the metadata cannot be read: the module is still built, so that
  // its record says why, and orders nothing.
  ModuleNode node;
};

// The modules in `folders` at `commit`, by folder then format (python before npm): a
// folder's pyproject.toml makes a Python module and its package.json an npm module, unless
// that package.json says "private": true (a workspace root, tooling). Folders without
// either are ignored.
Result<std::vector<CommitModule>> ReadCommitModules(GitSource& git, std::string_view commit,
                                                    const std::vector<std::string>& folders);

}  // namespace pipy::builder
