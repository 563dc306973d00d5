// File operations for `pipy backup` and `pipy restore`: hashing copies, hard links and
// fsyncs. Paths are local; nothing here knows the blob layout or the catalog.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pipy::cli {

// True when `dir` is missing or an empty folder, false when it holds anything; an error
// when it cannot be read or is not a folder.
Result<bool> IsMissingOrEmptyDir(const std::filesystem::path& dir);

// The sha256 (lowercase hex) of the file at `path`; kNotFound when it is absent.
Result<std::string> HashFile(const std::filesystem::path& path);

// Copies `from` into the new file `to` (which must not exist), fsyncs it and returns the
// sha256 of the bytes copied. kNotFound when `from` is absent; a failed copy leaves no `to`.
Result<std::string> CopyFileHashed(const std::filesystem::path& from,
                                   const std::filesystem::path& to);

// Places the blob `from`, whose bytes must hash to `sha256`, at `to` (which must not exist):
// a hard link when both are on one file system (a blob is never rewritten in place, and the
// link keeps the bytes even when gc later removes `from`), else a copy that is fsynced.
// Reads the bytes either way and returns their size. kNotFound when `from` is absent;
// kDataLoss, leaving no `to`, when the bytes do not hash to `sha256`. The caller fsyncs
// `to`'s folder.
Result<std::uint64_t> LinkOrCopyBlob(const std::filesystem::path& from,
                                     const std::filesystem::path& to, std::string_view sha256);

// Writes `data` to `path` atomically: a temporary file beside it, fsync, rename, fsync of
// the folder. Either the old content (or nothing) or all of `data` is there after a crash.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view data);

// fsyncs a folder, making the names created in it durable.
Status FsyncDir(const std::filesystem::path& dir);

}  // namespace pipy::cli
