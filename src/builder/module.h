// A module of the monorepo: what the builder reads from its pyproject.toml (PEP 621
// [project] table, PEP 517 [build-system], and Pipy's own [tool.pipy]).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pipy::builder {

inline constexpr std::string_view kDefaultTestCommand = "python3 -m pytest";

struct ModuleConfig {
  std::string name;                       // [project] name, as written
  std::string normalized_name;            // PEP 503
  std::string version;                    // [project] version, PEP 440-normalized
  std::vector<std::string> dependencies;  // [project] dependencies (PEP 508 strings)
  std::vector<std::string> test_dependencies;  // [project.optional-dependencies] test
  std::string build_backend;              // [build-system] build-backend; "" when absent
  std::string test_command;               // [tool.pipy] test (a shell command)
};

// Parses a module's pyproject.toml. kInvalidArgument, with a message that names the problem
// ("pyproject.toml: line 3: ...", "[project] version is missing; ..."), when the TOML is
// malformed, the name is not a valid project name, or the version is missing (dynamic
// versions are not supported), not a string or not PEP 440.
Result<ModuleConfig> ParseModuleConfig(std::string_view pyproject);

// True for hatchling, which `python3 -m build --no-isolation` needs to run with `-x`.
bool NeedsSkipDependencyCheck(const ModuleConfig& module);

}  // namespace pipy::builder
