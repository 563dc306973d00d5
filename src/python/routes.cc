#include "python/routes.h"

#include <memory>

#include "core/pep503.h"
#include "python/handlers.h"

namespace pipy::python {

void RegisterRoutes(http::Router& router, index::Index& index, const app::Access& access,
                    http::Metrics& metrics, PythonOptions options) {
  auto ctx = std::make_shared<Context>(Context{index, access, metrics, std::move(options)});
  auto bind = [ctx](http::Response (*fn)(Context&, const http::Request&)) {
    return [ctx, fn](http::Request& request) { return fn(*ctx, request); };
  };

  router.Add("GET", "/simple/", {.name = "simple_root"}, bind(&ServeRoot));
  // PEP 503: a URL without its trailing slash SHOULD redirect to the one with it.
  router.Add("GET", "/simple", {.name = "simple_redirect"}, bind(&RedirectToRoot));
  // (With an upstream, a page not in the cache is built on the blocking pool: see
  // ServeProject.)
  router.Add("GET", "/simple/{name}/", {.name = "simple_project"}, bind(&ServeProject));
  router.Add("GET", "/simple/{name}", {.name = "simple_redirect"}, bind(&RedirectToProject));
  // Opening a remote blob is a network round trip; a local one is a file open.
  router.Add("GET", "/files/{sha256}/{filename}",
             {.name = "files", .blocking = !index.BlobsAreLocal()}, bind(&ServeFile));

  // The guard answers 401/403 before a (possibly huge) body is read. Publishing syncs to
  // disk (or uploads to a store) and may take a while: off the I/O threads.
  http::RouteOptions upload{.name = "legacy_upload",
                            .max_body_bytes = ctx->options.max_upload_bytes,
                            .guard = access.WriteGuard(),
                            .blocking = true};
  router.Add("POST", "/legacy/", upload, bind(&HandleUpload));
  router.Add("POST", "/legacy", upload, bind(&HandleUpload));

  router.Add("GET", "/api/python/{name}/{version}", {.name = "python_release"},
             bind(&HandleRelease));

  // Who may yank is decided from the headers: a body is never read for a caller who may not.
  const std::string yank = "/api/python/{name}/{version}/yank";
  http::RouteOptions yank_options{
      .name = "python_yank",
      .guard = access.ProjectWriteGuard(
          "name", [](std::string_view name) { return pep503::NormalizeName(name); }),
      .blocking = true};
  router.Add("POST", yank, yank_options, [ctx](http::Request& request) {
    return HandleYank(*ctx, request, /*yanked=*/true);
  });
  router.Add("DELETE", yank, yank_options,
             [ctx](http::Request& request) {
    return HandleYank(*ctx, request, /*yanked=*/false);
  });

  // Takedowns, admin only (after the yank route, so ".../yank" is never a filename).
  http::RouteOptions takedown{
      .name = "python_takedown", .guard = access.AdminGuard(), .blocking = true};
  router.Add("DELETE", "/api/python/{name}/{version}", takedown, bind(&HandleTakedown));
  router.Add("DELETE", "/api/python/{name}/{version}/{filename}", takedown,
             bind(&HandleTakedown));
}

}  // namespace pipy::python
