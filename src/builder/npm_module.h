// An npm module of the monorepo: what the builder reads from its package.json
// (https://docs.npmjs.com/cli/configuring-npm/package-json) and Pipy's own "pipy" field.
// Pure: no I/O. The Python counterpart is module.h.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pipy::builder {

// The test command when package.json has scripts.test and no "pipy": {"test": ...}.
inline constexpr std::string_view kDefaultNpmTestCommand = "npm test";

// The build record's message for a module without any test command: Pipy publishes only
// tested code, so such a module fails instead of being published untested.
inline constexpr std::string_view kNoTestScriptMessage =
    "package.json has no test script: add scripts.test or \"pipy\": {\"test\": \"...\"}";

struct NpmModuleConfig {
  // True when package.json says "private": true: the folder is not a module (npm refuses to
  // publish it), so the caller skips it. The other fields are then unchecked and may be
  // empty, since private package.json files (a workspace root, tooling) often have no name
  // or version.
  bool is_private = false;
  std::string name;     // a valid npm name (npm names are compared as bytes, never normalized)
  std::string version;  // semver::Version::Key(): SemVer without build metadata, as npm uses it
  // The names npm installs with the package, each with its range as written:
  // dependencies, optionalDependencies and peerDependencies merged. As in npm, an
  // optionalDependencies entry overrides a dependencies entry of the same name; a
  // peerDependencies entry only adds names neither of the others has.
  std::map<std::string, std::string> dependencies;
  // devDependencies: installed for the module's own tests only.
  std::map<std::string, std::string> dev_dependencies;
  // True when scripts.test is a non-empty string (npm treats an empty script as missing).
  bool has_test_script = false;
  // The shell command running the tests: "pipy": {"test": "..."} when set, else
  // kDefaultNpmTestCommand when has_test_script, else "" — then the build fails with
  // kNoTestScriptMessage.
  std::string test_command;
};

// Parses a module's package.json (a leading UTF-8 BOM is ignored, as npm does).
// kInvalidArgument with a message naming the problem and the field
// ("package.json is not valid JSON: line 3: syntax error", "package.json: \"version\" is
// missing", ...) when the text is not one JSON object, "private" is not a boolean, or — for a
// package.json that is not private — "name" is missing or not a valid npm name
// (npm_name::Validate), "version" is missing or not SemVer 2.0 (semver::Version::Parse),
// a dependency table is not an object of strings, "scripts" is not an object, scripts.test
// is not a string, "pipy" is not an object, or "pipy"."test" is not a non-empty string.
Result<NpmModuleConfig> ParseNpmModule(std::string_view package_json);

}  // namespace pipy::builder
