// The npm format as the neutral index sees it (index/format.h), and the npm attributes of
// its files. Names follow npm's rules for new packages (core/npm_name.h) and are their own
// normalized form; versions are SemVer 2.0 (core/semver.h), stored without build metadata
// (npm drops it: "1.0.0+a" is the release "1.0.0"), newest first by SemVer precedence.
#pragma once

#include <cstdint>
#include <string_view>

#include "catalog/catalog.h"
#include "index/format.h"

namespace pipy::npm {

const index::Format& NpmFormat();

// Of a file (a tarball): the digests npm clients check, computed at publish.
inline constexpr std::string_view kShasum = "shasum";        // SHA-1 hex (dist.shasum)
inline constexpr std::string_view kIntegrity = "integrity";  // "sha512-<base64>" (SRI)

// A dist-tag name: 1..128 of [A-Za-z0-9._-], not starting with '.', and not something npm
// would read as a version or range ("1.0.0", "1", "^2"): a tag that looks like a version
// would shadow that version in `npm install pkg@<tag>`. kInvalidArgument otherwise.
Status ValidateTagName(std::string_view tag);

// The largest manifest (package.json as published) a version may have: packuments are made
// of them.
inline constexpr std::uint64_t kMaxManifestBytes = 8 * 1024 * 1024;

inline std::string_view Shasum(const catalog::FileRecord& f) {
  return catalog::AttributeOf(f.attributes, kShasum);
}
inline std::string_view Integrity(const catalog::FileRecord& f) {
  return catalog::AttributeOf(f.attributes, kIntegrity);
}

}  // namespace pipy::npm
