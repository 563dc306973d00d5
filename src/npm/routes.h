// The npm registry (routes registered on the HTTP router under /npm/, DESIGN.md "npm"):
//   GET    /npm/<name>[/<version-or-tag>]        packument (full / abbreviated) or a version
//   GET    /npm/<name>/-/<file>.tgz              a tarball (immutable)
//   PUT    /npm/<name>                           publish, or a deprecation update
//   PUT    /npm/<name>/-rev/<rev>                unpublish of versions (admin)
//   DELETE /npm/<name>/-rev/<rev>                unpublish of the package (admin)
//   DELETE /npm/<name>/-/<file>.tgz/-rev/<rev>   unpublish of a tarball (admin)
//   GET|PUT|DELETE /npm/-/package/<name>/dist-tags[/<tag>]
//   GET    /npm/-/ping, /npm/-/whoami, /npm/-/v1/search
//   POST   /npm/-/npm/v1/security/advisories/bulk, .../audits/quick   (npm audit)
//   PUT    /npm/-/user/org.couchdb.user:<name>   npm login (a Pipy token as the password)
// <name> is "name" or "@scope/name" ("@scope%2fname" arrives decoded).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "app/access.h"
#include "http/metrics.h"
#include "http/router.h"
#include "index/index.h"
#include "npm/unknown_packages.h"

namespace pipy::npm {

struct NpmOptions {
  std::uint64_t max_upload_bytes = 512ull * 1024 * 1024;  // the decoded tarball; 413 above
  std::filesystem::path tmp_dir;  // where tarballs are decoded from the body (required)
  // The server's public base URL ("https://pipy.internal/"), for every tarball URL; "" =
  // "<http or https>://<the request's Host>/".
  std::string public_url;
  // Serves the names with no internal package (the upstream proxy); nullptr = 404. Must
  // outlive the router.
  UnknownPackages* unknown_packages = nullptr;
};

// Registers the routes above. Everything passed must outlive the router.
void RegisterRoutes(http::Router& router, index::Index& index, const app::Access& access,
                    http::Metrics& metrics, NpmOptions options);

}  // namespace pipy::npm
