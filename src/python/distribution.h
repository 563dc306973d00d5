// The wheel and sdist rules: reading the metadata inside Python distributions (wheels:
// PEP 427 zip; sdists: PEP 625 .tar.gz, legacy .zip) through the safe archive reader
// (core/safe_archive.h), so hostile archives (zip bombs, thousands of members, absolute or
// "../" member paths, links and devices) are refused, never unpacked, and every member is
// inspected, not only the one wanted. Nothing is written to disk. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/safe_archive.h"
#include "core/status.h"

namespace pipy::python {

struct DistributionLimits {
  std::uint64_t max_metadata_bytes = 4 * 1024 * 1024;  // METADATA / PKG-INFO size cap
  archive::Limits archive_limits;  // entries, sizes, central directory (strict names for wheels)
};

// Returns the bytes of the wheel's only top-level "*.dist-info/METADATA" (PEP 427).
// The zip is read through its central directory, so a truncated wheel fails.
// kInvalidArgument with a clear message when the file is not a readable zip, when a member
// path is absolute, contains a ".." component, a NUL or a backslash, when a member is not
// a regular file or directory (symlinks, devices: named in the message), when there are
// more members than the limit (counted before libarchive reads the directory), when the
// central directory or one member's declared size exceeds its limit, when there is no
// METADATA or more than one top-level *.dist-info directory, or when METADATA exceeds the
// limit (reading stops at the limit).
Result<std::string> ReadWheelMetadata(const std::filesystem::path& wheel,
                                      const DistributionLimits& limits = {});

// Returns the bytes of the sdist's "<top>/PKG-INFO" (the member directly under the single
// top-level folder), or nullopt when it has none. `zip` selects a legacy .zip sdist,
// otherwise a gzip-compressed tar (an uncompressed tar is refused). kInvalidArgument as
// above for unreadable archives, unsafe member paths, members that are symlinks, hard
// links, devices, fifos or sockets (named in the message), too many members, too many
// unpacked bytes in all or in one member, an oversized PKG-INFO, and for an archive with
// more than one top-level entry (the sdist format requires a single "{name}-{version}"
// folder).
Result<std::optional<std::string>> ReadSdistPkgInfo(const std::filesystem::path& sdist, bool zip,
                                                     const DistributionLimits& limits = {});

}  // namespace pipy::python
