// Reading archives that strangers uploaded (a wheel, an sdist, an npm tarball), with
// libarchive, under limits: hostile archives (zip and gzip bombs, floods of members,
// absolute or "../" member paths, links, devices) are refused, never unpacked. Every
// format's archive rules (python/distribution.h, npm's tarballs) are written on top of
// ForEachMember; none opens an archive itself.
//
// Every member header is inspected, not only the ones a format wants, so an archive with
// one unsafe member is refused even when the rest is fine. A zip's central directory is
// checked from its raw bytes before libarchive opens it (zip_directory.h), so the entry and
// directory-size limits bound memory too. A gzip stream's CRC-32 and length are verified.
// Nothing is ever written to disk. Thread-safe: each call uses its own libarchive handle.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

struct archive;
struct archive_entry;

namespace pipy::archive {

enum class Type {
  kZip,    // read through its central directory (what pip and unzip read)
  kTarGz,  // a gzip-compressed tar; an uncompressed tar is refused
};

struct Limits {
  std::uint64_t max_entries = 100'000;
  // Cap on the sum of the declared member sizes of a tar, and on the bytes its gzip stream
  // inflates to: listing a tar means decompressing all of it, so a bomb must stop early.
  // (Zip listings seek instead.)
  std::uint64_t max_unpacked_bytes = 2ull * 1024 * 1024 * 1024;
  // Cap on one member's uncompressed size (declared, or zip64-declared): a single file
  // beyond it is a bomb for whoever unpacks the package, whatever the archive's total.
  std::uint64_t max_member_bytes = 2ull * 1024 * 1024 * 1024;
  // Cap on a zip's central directory, read from the end record before anything else. The
  // entry walk bounds memory on its own; this bounds the work of walking (64 MiB is ~670
  // bytes for each of 100,000 entries, far more than real names take).
  std::uint64_t max_central_directory_bytes = 64ull * 1024 * 1024;
  // Refuse a NUL or a backslash anywhere in a member's raw name (formats whose names are
  // "/"-separated UTF-8, such as PEP 427 wheels). Without it a backslash only counts as a
  // separator when checking for "..".
  bool strict_names = false;
};

// One member, valid during the ForEachMember callback that receives it.
class Member {
 public:
  // The path split at "/" (and "\"), empty and "." components dropped; never empty, never
  // holding "..".
  const std::vector<std::string>& path() const { return path_; }
  // The name as stored, for messages.
  std::string_view name() const { return name_; }
  bool is_directory() const;
  // A regular file, not a link: a link's "data" would be empty or point elsewhere.
  bool is_regular_file() const;
  // The member's bytes, at most `cap` (kInvalidArgument "<what> is larger than the limit of
  // <cap> bytes" beyond it: reading stops there). Reads the data once; call at most once.
  Result<std::string> Read(std::string_view what, std::uint64_t cap);

 private:
  friend Status ForEachMember(const std::filesystem::path&, Type, const Limits&,
                              const std::function<Status(Member&)>&);
  Member(::archive* a, ::archive_entry* entry, Type type, std::string_view name,
         std::vector<std::string> path)
      : archive_(a), entry_(entry), type_(type), name_(name), path_(std::move(path)) {}

  ::archive* archive_;
  ::archive_entry* entry_;
  Type type_;
  std::string_view name_;
  std::vector<std::string> path_;
};

// Reads the archive in `file` and calls `fn` for every member, in archive order, once its
// path and type passed the checks; `fn` may read the member's data, and an error it
// returns ends the walk with that error. kInvalidArgument with a clear message ("not a
// valid zip archive: ...", "not a valid gzip-compressed tar archive: ..." for unreadable or
// damaged files) when a member path is absolute (POSIX or a Windows drive) or has a ".."
// component, when a member is not a regular file or directory (symlinks, hard links,
// devices, fifos, sockets: named in the message), when there are more members than the
// limit (counted before libarchive reads a zip's directory), or a zip's central directory,
// one member's declared size or a tar's unpacked total exceeds its limit; kInternal when
// the file cannot be opened.
Status ForEachMember(const std::filesystem::path& file, Type type, const Limits& limits,
                     const std::function<Status(Member&)>& fn);

}  // namespace pipy::archive
