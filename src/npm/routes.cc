#include "npm/routes.h"

#include <memory>

#include "npm/handlers.h"

namespace pipy::npm {

void RegisterRoutes(http::Router& router, index::Index& index, const app::Access& access,
                    http::Metrics& metrics, NpmOptions options) {
  auto ctx = std::make_shared<Context>(index, access, metrics, std::move(options));
  auto bind = [ctx](http::Response (*fn)(Context&, const http::Request&)) {
    return [ctx, fn](http::Request& request) { return fn(*ctx, request); };
  };
  // Rendering a packument reads each version's manifest blob: a network round trip per
  // version on S3, a file read on disk.
  const bool remote = !index.BlobsAreLocal();

  // The registry's own endpoints first: "-" is no package name.
  router.Add("GET", "/npm/-/ping", {.name = "npm_ping"}, bind(&HandlePing));
  router.Add("GET", "/npm/-/whoami", {.name = "npm_whoami"}, bind(&HandleWhoami));
  router.Add("GET", "/npm/-/v1/search", {.name = "npm_search", .blocking = true},
             bind(&HandleSearch));
  // npm install sends its audit body (gzip'd JSON) on every run; internal packages have
  // no advisories, so it is not read beyond the limit.
  http::RouteOptions audit{.name = "npm_audit", .max_body_bytes = 32 * 1024 * 1024,
                           .guard = access.ReadGuard()};
  router.Add("POST", "/npm/-/npm/v1/security/advisories/bulk", audit, bind(&HandleAudit));
  router.Add("POST", "/npm/-/npm/v1/security/audits/quick", audit, bind(&HandleAudit));
  router.Add("PUT", "/npm/-/user/{user}", {.name = "npm_login"}, bind(&HandleLogin));
  // npm's web login is not offered: its 404 makes npm fall back to the CouchDB flow above.
  router.Add("POST", "/npm/-/v1/login", {.name = "npm_login"}, [](http::Request&) {
    return NpmError(NotFound("web login is not supported here: use a Pipy token as the password"));
  });
  router.Add("GET", "/npm/-/package/{path...}", {.name = "npm_dist_tags", .blocking = remote},
             bind(&HandleDistTags));
  router.Add("PUT", "/npm/-/package/{path...}",
             {.name = "npm_dist_tags", .guard = access.WriteGuard(), .blocking = true},
             bind(&HandleDistTags));
  router.Add("DELETE", "/npm/-/package/{path...}",
             {.name = "npm_dist_tags", .guard = access.WriteGuard(), .blocking = true},
             bind(&HandleDistTags));

  router.Add("GET", "/npm/{path...}", {.name = "npm_package", .blocking = remote},
             bind(&HandleGet));
  // A publish body is the tarball in base64 (4/3 of its size) plus the manifest; the
  // decoded tarball is held to max_upload_bytes by the parser. The guard answers 401/403
  // before the body is read; publishing syncs to disk or uploads to a store.
  const std::uint64_t max_body = ctx->options.max_upload_bytes / 3 * 4 + 16 * 1024 * 1024;
  router.Add("PUT", "/npm/{path...}",
             {.name = "npm_publish", .max_body_bytes = max_body, .guard = access.WriteGuard(),
              .blocking = true},
             bind(&HandlePut));
  router.Add("DELETE", "/npm/{path...}",
             {.name = "npm_unpublish", .guard = access.WriteGuard(), .blocking = true},
             bind(&HandleDelete));
}

}  // namespace pipy::npm
