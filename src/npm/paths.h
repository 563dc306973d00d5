// What a request path under /npm/ names, after percent-decoding (so "@acme%2flog" arrives
// as "@acme/log"): the registry's CouchDB-style layout, as npm, yarn and pnpm build it.
//   <name>                          the packument
//   <name>/<version-or-tag>         one version's manifest
//   <name>/-/<file>.tgz             a tarball
//   <name>/-rev/<rev>               the packument at revision <rev> (npm unpublish)
//   <name>/-/<file>.tgz/-rev/<rev>  a tarball at revision <rev> (npm unpublish)
// <name> is "name" or "@scope/name". Pure; the name is not validated here.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace pipy::npm {

struct NpmPath {
  enum class Kind { kPackument, kVersion, kTarball, kRevision, kTarballRevision };
  Kind kind = Kind::kPackument;
  std::string name;     // "log" or "@acme/log", as sent
  std::string version;  // kVersion: a version or a dist-tag
  std::string file;     // kTarball, kTarballRevision
  std::string rev;      // kRevision, kTarballRevision
};

// kNotFound for any other shape (empty segments, a scope without a name, extra segments).
Result<NpmPath> ParseNpmPath(std::string_view rest);

}  // namespace pipy::npm
