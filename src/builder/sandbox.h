// The bubblewrap command line a build step runs under. Every step of a build runs code that
// Pipy did not write (the module's, its dependencies', a build backend's), so every step is
// sandboxed: a read-only root, private /tmp, /dev and /proc, its own PID namespace, the
// server's data folder and config file hidden, only the named folders writable, and no
// network unless the step downloads from Pipy.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace pipy::builder {

struct SandboxSpec {
  std::string bwrap = "bwrap";
  bool network = false;  // share the host's network (the steps that download from Pipy)
  // An empty tmpfs over each folder (the data folder: catalog, blobs, git mirrors, builds).
  std::vector<std::filesystem::path> hidden_dirs;
  // /dev/null over each file that exists (the config file, which may hold secrets).
  std::vector<std::filesystem::path> hidden_files;
  // Bound back after the hiding, in this order: read-only first, then writable, so a
  // writable folder may sit inside a read-only one (the work folder under the data folder).
  std::vector<std::filesystem::path> read_only;
  std::vector<std::filesystem::path> writable;
  std::filesystem::path chdir;  // empty = /
};

// bwrap's argv for running `command` as `spec` says. Paths must be absolute.
std::vector<std::string> SandboxArgv(const SandboxSpec& spec,
                                     const std::vector<std::string>& command);

}  // namespace pipy::builder
