// npm package names: the rule for names a registry accepts, the scope / basename split and
// the tarball filename of the registry's standard layout.
// The rule is validate-npm-package-name's `validForNewPackages` (npm/validate-npm-package-name
// lib/index.js, 7.x/8.x), made stricter for scoped names: Pipy stores only names it accepts,
// so names npm merely tolerates for old packages are refused here.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pipy::npm_name {

// The longest name npm accepts for a new package, scope included.
inline constexpr std::size_t kMaxNameLength = 214;

// Returns OK when `name` is a valid name for a new npm package, else kInvalidArgument with a
// message naming the rule. A valid name:
//   - is 1..kMaxNameLength characters long, scope included;
//   - has no leading or trailing whitespace, no uppercase letters, and does not start with
//     '.', '_' or '-';
//   - is not "node_modules" or "favicon.ico", nor a Node core module name ("http", "fs", ...);
//   - contains none of ~'!()* ;
//   - is either unscoped, using only characters encodeURIComponent leaves as they are
//     ([A-Za-z0-9-_.!~*'()], so no '/', '%', ':', spaces or non-ASCII bytes), or scoped,
//     "@scope/basename", where scope and basename each are non-empty, use only those
//     characters, are not "." or "..", and do not start with '.' or '_'.
// Valid names are exactly their own normalized form: npm names are compared as bytes.
Status Validate(std::string_view name);

// The rule for names of packages that already exist on a public registry
// (validate-npm-package-name's validForOldPackages): what the registry may be asked for and
// proxied, never what may be published here. Capitals ("JSONStream"), Node core module
// names ("string_decoder", "events") and ~'!()* are allowed; a name must still be
// non-empty, at most kMaxNameLength characters, not start with '.' or '_', not be
// "node_modules" or "favicon.ico", and be URL-safe as in Validate (so no '/' but the scope's,
// no "." or ".." part, no '%', spaces or non-ASCII bytes).
Status ValidateExisting(std::string_view name);

struct Parts {
  std::string_view scope;     // without the '@'; "" when unscoped
  std::string_view basename;  // the name after "@scope/", or the whole unscoped name
};

// Splits a name that Validate() accepted: "@acme/log" -> {"acme", "log"}, "log" -> {"", "log"}.
// The views point into `valid_name`. For other input the result is unspecified (but memory
// safe).
Parts Split(std::string_view valid_name);

// The tarball's filename in the registry's standard layout, `<basename>-<version>.tgz`
// (the scope is part of the URL's path, not of the filename): ("@acme/log", "1.0.0") ->
// "log-1.0.0.tgz". `name` must be valid and `version` a SemVer string (see core/semver.h).
std::string TarballFilename(std::string_view name, std::string_view version);

}  // namespace pipy::npm_name
