// Reading an npm tarball (a gzip'd tar whose files sit under "package/"), for every npm
// publish path: `npm publish`'s PUT body (publish.h: PublishVersion) and the builder's
// `npm pack` output (PublishPackedTarball). One reader, on core's safe archive reader
// (hostile members, bombs and links are refused there), so both paths refuse the same
// tarballs.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "core/status.h"
#include "index/index.h"

namespace pipy::npm {

// The README kept for the package page; a larger one is cut (as at twine uploads).
inline constexpr std::size_t kMaxReadmeBytes = 1024 * 1024;

struct TarballContents {
  boost::json::object package_json;  // package/package.json, a JSON object
  // The package's README (see ReadTarball), cut to kMaxReadmeBytes; nullopt when the
  // tarball has none or it was not asked for.
  std::optional<std::string> readme;
};

// Reads `file` under the index's archive limits: its one package/package.json (a regular
// file of at most `options.max_metadata_bytes`, holding a JSON object) and, when
// `with_readme`, its README: the member package/<name> with <name>, compared ASCII
// case-insensitively, one of "README.md", "README.markdown", "README" — in that order of
// preference (npm's own lookup, @npmcli/package-json's readme step, prefers a Markdown
// file to a plain README), the first in archive order among equals ("README.md" and
// "readme.md"). A README is read under the same metadata limit, then cut. Every member is
// checked, wanted or not. kInvalidArgument ("invalid tarball: ...") for an unreadable or
// unsafe archive, a missing or duplicate package.json, or one that is not a JSON object;
// kInternal when the file cannot be opened. Reads nothing into the index.
Result<TarballContents> ReadTarball(const index::IndexOptions& options,
                                    const std::filesystem::path& file, bool with_readme);

}  // namespace pipy::npm
