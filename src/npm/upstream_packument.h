// Reading the public registry's packument of a package and rewriting it for Pipy's
// clients (pure): every version's dist.tarball points at Pipy's /npm/ in the standard
// layout, so installs fetch through Pipy, and only versions Pipy can verify are kept (a
// tarball on a host the proxy may fetch, with a sha512 `integrity` or a sha1 `shasum`).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/status.h"

namespace pipy::npm {

struct UpstreamTarball {
  std::string url;        // where the upstream keeps it
  std::string integrity;  // the upstream's sha512 SRI ("" when it gave none)
  std::string shasum;     // the upstream's sha1 hex ("" when it gave none)
};

struct UpstreamPackument {
  boost::json::object full;                        // rewritten
  std::map<std::string, UpstreamTarball> tarballs;  // by filename
};

// kBadGateway when `body` is not a packument of `name` (not a JSON object, another name).
// Versions whose tarball `fetchable` refuses, or that carry no digest, are dropped (with
// the dist-tags that point at them).
Result<UpstreamPackument> ReadUpstreamPackument(
    std::string_view body, const std::string& name, const std::string& registry_url,
    const std::function<bool(const std::string& url)>& fetchable);

// The document `kind` ("full", "abbreviated", "v:<version-or-tag>"); kNotFound for a
// version or tag the packument does not have.
Result<std::string> RenderUpstream(const UpstreamPackument& packument, const std::string& kind);

// The sha512 SRI of `integrity` ("sha512-..." among its space-separated entries), or "".
std::string Sha512Entry(std::string_view integrity);

}  // namespace pipy::npm
