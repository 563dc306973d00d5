// npm publish on top of the neutral Index::Publish: the body's rules (one version, one
// attachment, names and versions that agree), the tarball's rules (a gzip'd tar whose
// package/package.json names the same package and version, read through the safe archive
// reader), the digests a client sent, then the release's manifest and the body's
// dist-tags. Permissions, the new-project check, immutability, tombstones and the one
// commit are Index::Publish's.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "auth/principal.h"
#include "core/status.h"
#include "index/index.h"
#include "npm/publish_body.h"

namespace pipy::npm {

// The tarball as it was decoded from the body into a temp file.
struct ReceivedTarball {
  std::filesystem::path file;  // a private temp copy: the publish may move it
  std::uint64_t size = 0;
  std::string sha1_hex;
  std::string integrity;       // "sha512-<base64>"
};

struct PublishOutcome {
  index::PublishResult result;
  std::string version;  // as stored
};

// Publishes the one version of `body` for the package `name` (from the URL). kInvalidArgument
// with a clear message for every rule above, kAlreadyExists for other bytes under an
// existing version or a tombstoned one, the index's errors otherwise. An identical
// re-publish succeeds and changes nothing (its dist-tags are not applied either).
Result<PublishOutcome> PublishVersion(index::Index& index, const auth::Principal& who,
                                      std::string_view name, const PublishBody& body,
                                      const ReceivedTarball& tarball);

// The manifest of a version as stored: the published object without what the registry
// owns or keeps elsewhere (dist, readme, deprecated, the npm-internal _ fields it sets).
boost::json::object StoredManifest(const boost::json::object& published);

}  // namespace pipy::npm
