// The route handlers behind RegisterRoutes (routes.h). Each checks access, parses the
// request with the pure helpers (paths.h, negotiate.h, publish_body.h), calls the index
// service and renders (packument.h); every failure becomes an npm-style JSON error.
#pragma once

#include <mutex>
#include <set>
#include <string>

#include "app/access.h"
#include "http/message.h"
#include "http/metrics.h"
#include "index/index.h"
#include "npm/packument.h"
#include "npm/routes.h"

namespace pipy::npm {

struct Context {
  index::Index& index;
  const app::Access& access;
  http::Metrics& metrics;
  NpmOptions options;
  // Registry URLs whose packuments are cached: every Host a client sends would otherwise
  // be a new cache entry per package.
  std::mutex hosts_mu;
  std::set<std::string> cached_hosts;
};

// {"error": message} with the status's HTTP code (npm prints the `error` field).
http::Response NpmError(const Status& status);
http::Response JsonResponse(int status, std::string body);

// The registry base URL for this request ("http://host:port/npm/"), or kInvalidArgument
// for a Host header that is no host.
Result<std::string> RegistryUrl(Context& ctx, const http::Request& request);
// The package's documents' input; kNotFound when it has no version.
Result<PackumentInput> LoadPackage(Context& ctx, const std::string& name,
                                   const std::string& registry_url);

http::Response HandleGet(Context& ctx, const http::Request& request);
http::Response HandlePut(Context& ctx, const http::Request& request);
http::Response HandleDelete(Context& ctx, const http::Request& request);
http::Response HandleDistTags(Context& ctx, const http::Request& request);
http::Response HandlePing(Context& ctx, const http::Request& request);
http::Response HandleWhoami(Context& ctx, const http::Request& request);
http::Response HandleSearch(Context& ctx, const http::Request& request);
http::Response HandleAudit(Context& ctx, const http::Request& request);
http::Response HandleLogin(Context& ctx, const http::Request& request);

}  // namespace pipy::npm
