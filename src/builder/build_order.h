// The order in which the builder builds the modules one commit changes: a module's tests run
// against the versions of its internal dependencies this very commit publishes, so it waits
// for them; a cycle cannot be ordered and fails; a failed dependency skips its dependents.
// Pure: no I/O, no clock. The caller (the build runner) owns the builds' states.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "builder/module.h"
#include "builder/npm_module.h"
#include "core/status.h"

namespace pipy::builder {

inline constexpr std::string_view kPythonFormat = "python";
inline constexpr std::string_view kNpmFormat = "npm";

// A module changed by the commit, as the plan sees it.
struct ModuleNode {
  std::string id;       // unique within the commit: ModuleId(folder, format), e.g. "logger:npm"
  std::string format;   // kPythonFormat or kNpmFormat
  std::string package;  // the package's name: PEP 503-normalized for Python, as is for npm
  // The names of the packages it depends on (PEP 503-normalized for Python). Names of
  // packages that are not modules of this commit are allowed, and ignored.
  std::vector<std::string> dependencies;
};

// "<folder>:<format>": a folder with both a pyproject.toml and a package.json is two modules.
std::string ModuleId(std::string_view folder, std::string_view format);

// The PEP 503-normalized project name a PEP 508 requirement names ("Acme_Core[x]>=1 ; ..."
// -> "acme-core"); "" when the text does not start with a valid project name.
std::string RequirementName(std::string_view requirement);

// The node of a Python module: its [project] dependencies' names. Test-only dependencies
// ([project.optional-dependencies] test) are not ordering edges, see PythonNode's .cc.
ModuleNode PythonNode(std::string_view folder, const ModuleConfig& module);

// The node of an npm module: the names of its dependencies, optionalDependencies and
// peerDependencies; an alias ("log": "npm:@acme/log@^1") counts as the package it names.
// devDependencies are not ordering edges, as for Python.
ModuleNode NpmNode(std::string_view folder, const NpmModuleConfig& module);

enum class PlanState {
  kBuild,        // to be built once every module in waits_for has finished
  kCycle,        // in a dependency cycle: fails without being built
  kBehindCycle,  // depends (maybe transitively) on a module in a cycle: skipped, not built
};

struct PlannedModule {
  std::string id;
  std::string format;
  std::string package;
  // The ids of the modules of this commit it depends on DIRECTLY, sorted. Direct is enough:
  // a dependency only finishes after its own dependencies did, so waiting for the direct
  // ones waits for the transitive closure too, and "which build waited for which" is what
  // the builds API shows. A module never waits for itself (a self-dependency is ignored:
  // it orders nothing, and the install step judges it). Other formats' modules never count:
  // a Python and an npm package with equal names are unrelated.
  std::vector<std::string> waits_for;
  // The ids of the modules of this commit that depend on it directly, sorted.
  std::vector<std::string> dependents;
  PlanState state = PlanState::kBuild;
  // For kCycle: "dependency cycle: acme-a (a:npm) -> acme-b (b:npm) -> acme-a (a:npm)", the
  // shortest cycle through this module. For kBehindCycle: "skipped: its dependency acme-a
  // (a:npm) is in a dependency cycle". "" for kBuild.
  std::string message;
};

struct Plan {
  std::map<std::string, PlannedModule> modules;  // every input module, by id
  // The ids of the kBuild modules, each after everything it waits for; among modules free
  // to go at the same time, the smaller id first. The same for any order of the input.
  std::vector<std::string> order;
};

// Plans the builds of one commit's modules. kInvalidArgument when an id is empty or appears
// twice. Only dependencies on OTHER modules of the input with the SAME format count; when
// several modules of a format have the same package name, a dependent waits for all of them.
Result<Plan> PlanBuilds(const std::vector<ModuleNode>& modules);

// The modules to mark skipped after the build of `failed_id` failed or was skipped without
// publishing: every kBuild module depending on it, directly or transitively, each with the
// message "skipped: its dependency <package> (<failed_id>) failed in this commit" naming the
// module whose failure caused it. Empty for an unknown id or a module nothing depends on.
std::map<std::string, std::string> SkipAfterFailure(const Plan& plan, std::string_view failed_id);

// The kBuild modules that may start now, in plan order: not finished, not running, and every
// module in waits_for finished. `finished` holds every module whose build has ended, whatever
// its outcome, including the ones marked skipped; the caller marks SkipAfterFailure's modules
// skipped (adding them to `finished`) before asking again, so a failed dependency's
// dependents are never returned. Start at most `[builder] concurrency` minus running.size()
// of them. Empty with nothing running and every kBuild module finished: the commit is done.
std::vector<std::string> Ready(const Plan& plan, const std::set<std::string>& finished,
                               const std::set<std::string>& running);

}  // namespace pipy::builder
