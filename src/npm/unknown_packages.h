// What npm/ asks about a package that does not exist internally: the upstream proxy
// (upstream/npm_proxy.h) implements it. Kept here, in the pure format, so that upstream/
// needs none of npm/'s handlers (as python/unknown_projects.h for the simple API).
#pragma once

#include <string>

#include "core/status.h"
#include "index/index.h"
#include "index/page_cache.h"

namespace pipy::npm {

// A tarball of the upstream, stored in this repository once its bytes matched the
// upstream's integrity (nothing of it is handed out before).
struct TarballSource {
  index::Index::BlobContent stored;
  std::string etag;  // quoted, stable for these bytes
};

class UnknownPackages {
 public:
  virtual ~UnknownPackages() = default;
  // The document `kind` ("full", "abbreviated", "v:<version-or-tag>") of the upstream's
  // package `name`, every tarball URL under `registry_url`. kNotFound when the upstream
  // has no such package, or the name is never looked up there (an internal scope);
  // kBadGateway / kDeadlineExceeded when it fails and nothing is cached.
  virtual Result<index::CachedPage> Document(const std::string& name, const std::string& kind,
                                             const std::string& registry_url) = 0;
  // The tarball `file` of the upstream's package `name`, fetched and verified first when it
  // is not stored yet (so this may wait for the upstream): kNotFound when the upstream does
  // not list it (or lists it without a digest, or on a host that may not be fetched).
  virtual Result<TarballSource> Tarball(const std::string& name, const std::string& file) = 0;
};

}  // namespace pipy::npm
