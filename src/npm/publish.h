// npm publish on top of the neutral Index::Publish: the body's rules (one version, one
// attachment, names and versions that agree), the tarball's rules (a gzip'd tar whose
// package/package.json names the same package and version, read through the one tarball
// reader, npm/tarball.h), the digests a client sent, then the release's manifest and the
// body's dist-tags. The builder's `npm pack` tarballs take the same path from the tarball
// alone (PublishPackedTarball). Permissions, the new-project check, immutability,
// tombstones and the one commit are Index::Publish's.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "auth/principal.h"
#include "catalog/catalog.h"
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

// A tarball `npm pack` made (the builder's), to publish as `npm publish` would: everything
// is read from the tarball itself.
struct PackedTarball {
  // The bytes; the caller owns and deletes the file (if it still exists: see below).
  std::filesystem::path file;
  // The file is a private temp copy: the publish may move it into the blob store instead of
  // copying it. Leave false for files that must stay where they are.
  bool file_is_disposable = false;
  std::optional<catalog::Provenance> provenance;  // set by the builder; stored with the file
};

// Publishes the version `tarball`'s package/package.json names (read as PublishVersion
// reads tarballs: npm/tarball.h): the name must be valid for a new package
// (npm_name::Validate), the version SemVer 2.0 (stored without build metadata), and the
// package not "private": true (npm publish refuses those). The file gets its sha1 shasum,
// sha512 integrity and `provenance`; the release gets StoredManifest(package.json) as its
// manifest, "description" as its summary and the tarball's README (ReadTarball) as its
// description; the uploader is `who.token_name`. Then "latest" moves to this version when
// the package has no "latest" yet, or when this version is no prerelease and has a higher
// SemVer precedence than the current one: a prerelease never takes an existing "latest".
// kInvalidArgument for every rule above (nothing stored), kAlreadyExists for other bytes
// under an existing version or a tombstoned one, the index's errors otherwise (`who` needs
// upload rights on the name; new-project checks apply). An identical re-publish succeeds and
// changes nothing (outcome kIdenticalExists; "latest" untouched). Two concurrent publishes
// of one package may both move "latest"; the last one's SetTag wins.
Result<PublishOutcome> PublishPackedTarball(index::Index& index, const auth::Principal& who,
                                            const PackedTarball& tarball);

// The manifest of a version as stored: the published object without what the registry
// owns or keeps elsewhere (dist, readme, deprecated, the npm-internal _ fields it sets,
// _provenance, which only the file's record gives).
boost::json::object StoredManifest(const boost::json::object& published);

}  // namespace pipy::npm
