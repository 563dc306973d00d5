#include "python/routes.h"

#include <memory>

#include "python/handlers.h"

namespace pipy::python {

void RegisterRoutes(http::Router& router, index::Index& index, const app::Access& access,
                    http::Metrics& metrics, PythonOptions options) {
  auto ctx = std::make_shared<Context>(Context{index, access, metrics, std::move(options)});
  auto bind = [ctx](http::Response (*fn)(Context&, const http::Request&)) {
    return [ctx, fn](http::Request& request) { return fn(*ctx, request); };
  };

  router.Add("GET", "/simple/", {.name = "simple_root"}, bind(&ServeRoot));
  router.Add("GET", "/simple/{name}/", {.name = "simple_project"}, bind(&ServeProject));
  router.Add("GET", "/simple/{name}", {.name = "simple_redirect"}, bind(&RedirectToProject));
  router.Add("GET", "/files/{sha256}/{filename}", {.name = "files"}, bind(&ServeFile));

  // The guard answers 401/403 before a (possibly huge) body is read.
  http::RouteOptions upload{.name = "legacy_upload",
                            .max_body_bytes = ctx->options.max_upload_bytes,
                            .guard = access.WriteGuard()};
  router.Add("POST", "/legacy/", upload, bind(&HandleUpload));
  router.Add("POST", "/legacy", upload, bind(&HandleUpload));

  router.Add("GET", "/api/python/{name}/{version}", {.name = "python_release"},
             bind(&HandleRelease));

  const std::string yank = "/api/python/{name}/{version}/yank";
  router.Add("POST", yank, {.name = "python_yank"}, [ctx](http::Request& request) {
    return HandleYank(*ctx, request, /*yanked=*/true);
  });
  router.Add("DELETE", yank, {.name = "python_yank"}, [ctx](http::Request& request) {
    return HandleYank(*ctx, request, /*yanked=*/false);
  });
}

}  // namespace pipy::python
