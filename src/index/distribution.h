// Reading the metadata inside Python distributions (wheels: PEP 427 zip; sdists: PEP 625
// .tar.gz, legacy .zip), with libarchive, under limits: hostile archives (zip bombs,
// thousands of members, absolute or "../" member paths, links and devices) are refused,
// never unpacked.
//
// Every member header is inspected (not only the one wanted), so an archive with an unsafe
// member is refused even when its metadata is fine. A zip's central directory is checked
// from its raw bytes before libarchive opens it (zip_directory.h), so the entry and
// directory-size limits bound memory too. Nothing is ever written to disk.
// Thread-safe: each call uses its own libarchive handle.
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
  // Cap on the sum of the declared member sizes of a tar sdist: listing a tar means
  // decompressing all of it, so a gzip bomb must stop early. (Zip listings seek instead.)
  std::uint64_t max_unpacked_bytes = 2ull * 1024 * 1024 * 1024;
  // Cap on one member's uncompressed size (declared, or zip64-declared): a single file
  // beyond it is a bomb for whoever installs the package, whatever the archive's total.
  std::uint64_t max_member_bytes = 2ull * 1024 * 1024 * 1024;
  // Cap on a zip's central directory, read from the end record before anything else. The
  // entry walk bounds memory on its own; this bounds the work of walking (64 MiB is ~670
  // bytes for each of 100,000 entries, far more than real names take).
  std::uint64_t max_central_directory_bytes = 64ull * 1024 * 1024;
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
                                      const ArchiveLimits& limits = {});

// Returns the bytes of the sdist's "<top>/PKG-INFO" (the member directly under the single
// top-level folder), or nullopt when it has none. `zip` selects a legacy .zip sdist,
// otherwise a gzip-compressed tar (an uncompressed tar is refused). kInvalidArgument as
// above for unreadable archives, unsafe member paths, members that are symlinks, hard
// links, devices, fifos or sockets (named in the message), too many members, too many
// unpacked bytes in all or in one member, an oversized PKG-INFO, and for an archive with
// more than one top-level entry (the sdist format requires a single "{name}-{version}"
// folder).
Result<std::optional<std::string>> ReadSdistPkgInfo(const std::filesystem::path& sdist, bool zip,
                                                     const ArchiveLimits& limits = {});

}  // namespace pipy::index
