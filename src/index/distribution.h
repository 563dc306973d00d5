// Reading the metadata inside Python distributions (wheels: PEP 427 zip; sdists: PEP 625
// .tar.gz, legacy .zip), with libarchive, under limits: hostile archives (zip bombs,
// thousands of members, absolute or "../" member paths) are refused, never unpacked.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/status.h"

namespace pipy::index {

struct ArchiveLimits {
  std::uint64_t max_metadata_bytes = 4 * 1024 * 1024;  // METADATA / PKG-INFO size cap
  std::uint64_t max_entries = 100'000;
};

// Returns the bytes of the wheel's only top-level "*.dist-info/METADATA".
// kInvalidArgument with a clear message when the file is not a readable zip, when a member
// path is absolute or contains "..", when there is no METADATA or more than one
// *.dist-info directory, or when METADATA exceeds the limit.
Result<std::string> ReadWheelMetadata(const std::filesystem::path& wheel,
                                      const ArchiveLimits& limits = {});

// Returns the bytes of the sdist's "<top>/PKG-INFO" (the member directly under the single
// top-level folder), or nullopt when it has none. `zip` selects a legacy .zip sdist,
// otherwise a gzip-compressed tar. kInvalidArgument as above for unreadable archives and
// unsafe member paths.
Result<std::optional<std::string>> ReadSdistPkgInfo(const std::filesystem::path& sdist, bool zip,
                                                     const ArchiveLimits& limits = {});

}  // namespace pipy::index
