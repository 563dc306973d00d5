// Rendering npm's registry documents from the index's view of a package (pure: no I/O).
//   - the packument (GET /npm/<name>), full ("application/json") or abbreviated
//     ("application/vnd.npm.install-v1+json", the fields the npm registry docs list for
//     installs, plus `time`, which pnpm's minimum-release-age reads);
//   - one version's manifest (GET /npm/<name>/<version-or-tag>).
// Each version is its manifest as published, with `_id`, `dist` (tarball URL in the
// standard layout, shasum, integrity) and `deprecated` from the catalog; a version the
// builder built also has `_provenance` ({"source", "commit", "module", "build_id",
// "build_url", "test_result"}, from its tarball's file record) in the full documents, not
// in the abbreviated one.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "catalog/catalog.h"

namespace pipy::npm {

struct PackumentVersion {
  catalog::ReleaseRecord release;
  catalog::FileRecord tarball;
  boost::json::object manifest;  // as stored at publish (no dist, readme or deprecated)
};

struct PackumentInput {
  std::string name;                          // "@acme/log"
  std::vector<PackumentVersion> versions;    // newest first
  std::map<std::string, std::string> tags;   // dist-tag -> version
  // The registry's absolute base URL, ending in "/": "http://host:8080/npm/".
  std::string registry_url;
};

// `_rev`: changes whenever the packument does (a version, a tarball and its provenance, a
// tag or a deprecation), and is the same on every node and for every Host.
std::string Revision(const PackumentInput& input);

std::string RenderFull(const PackumentInput& input);
std::string RenderAbbreviated(const PackumentInput& input);

// The version `version_or_tag` names (a dist-tag first, then a version), or nullptr.
const PackumentVersion* FindVersion(const PackumentInput& input,
                                    const std::string& version_or_tag);
// One version's manifest document, as an object and rendered.
boost::json::object VersionObject(const PackumentInput& input, const PackumentVersion& version);
std::string RenderVersion(const PackumentInput& input, const PackumentVersion& version);

// The fields of a full version document an install needs (the abbreviated form), with
// hasInstallScript when its scripts have an install hook.
boost::json::object Abbreviate(const boost::json::object& full_version);

// The tarball URL of a version in the standard layout:
// "<registry_url>@acme/log/-/log-1.0.0.tgz".
std::string TarballUrl(const std::string& registry_url, const std::string& name,
                       const std::string& filename);

}  // namespace pipy::npm
