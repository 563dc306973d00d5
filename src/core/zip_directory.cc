#include "core/zip_directory.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pipy::archive {
namespace {

constexpr std::string_view kEndSignature("PK\x05\x06", 4);
constexpr std::string_view kZip64LocatorSignature("PK\x06\x07", 4);
constexpr std::string_view kZip64EndSignature("PK\x06\x06", 4);
constexpr std::string_view kEntrySignature("PK\x01\x02", 4);
constexpr std::size_t kEndRecordSize = 22;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::size_t kZip64EndSize = 56;
constexpr std::size_t kEntryHeaderSize = 46;
// The largest central-directory entry: a header and three 16-bit-length fields.
constexpr std::size_t kMaxEntrySize = kEntryHeaderSize + 3 * 0xFFFF;
constexpr std::uint64_t kMaxEndRecordSearch = kEndRecordSize + 0xFFFF;  // + longest comment

std::uint64_t LittleEndian(std::string_view bytes, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  }
  return v;
}

Status Bad(std::string_view why) {
  return InvalidArgument("not a valid zip archive: " + std::string(why));
}

// Reads a file through one reusable buffer, so walking a directory of any size costs
// kWindow bytes of memory and one pread per kWindow bytes.
class FileWindow {
 public:
  static constexpr std::size_t kWindow = 256 * 1024;
  static_assert(kWindow >= kMaxEntrySize);

  explicit FileWindow(int fd) : fd_(fd) {}

  // The `n` (<= kWindow) bytes at `pos`, or nullopt when the file ends first or a read fails.
  std::optional<std::string_view> Get(std::uint64_t pos, std::size_t n) {
    if (pos < start_ || pos + n > start_ + buf_.size()) {
      if (n > kWindow || !Fill(pos, n)) {
        return std::nullopt;
      }
    }
    return std::string_view(buf_).substr(static_cast<std::size_t>(pos - start_), n);
  }

 private:
  // Reads up to kWindow bytes at `pos`; true when at least `need` arrived.
  bool Fill(std::uint64_t pos, std::size_t need) {
    buf_.resize(kWindow);
    std::size_t done = 0;
    while (done < kWindow) {
      ssize_t r = ::pread(fd_, buf_.data() + done, kWindow - done, static_cast<off_t>(pos + done));
      if (r < 0 && errno == EINTR) {
        continue;
      }
      if (r <= 0) {
        break;
      }
      done += static_cast<std::size_t>(r);
    }
    buf_.resize(done);
    start_ = pos;
    return done >= need;
  }

  int fd_;
  std::uint64_t start_ = 0;
  std::string buf_;
};

// Where the central directory is, as the end records say.
struct Directory {
  std::uint64_t entries = 0;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;
  std::uint64_t end = 0;  // where the directory must end: the (zip64) end record
};

// Reads the zip64 end record through the locator just before the end record at `eocd`,
// with the sanity checks libarchive applies (single disk, record size within bounds).
Result<Directory> ReadZip64End(FileWindow& file, std::uint64_t eocd) {
  std::optional<std::string_view> locator = file.Get(eocd - kZip64LocatorSize, kZip64LocatorSize);
  if (!locator || LittleEndian(*locator, 4, 4) != 0 || LittleEndian(*locator, 16, 4) != 1) {
    return Bad("malformed or multi-disk zip64 locator");
  }
  std::uint64_t at = LittleEndian(*locator, 8, 8);
  std::optional<std::string_view> record;
  if (at > eocd - kZip64LocatorSize || eocd - kZip64LocatorSize - at < kZip64EndSize ||
      !(record = file.Get(at, kZip64EndSize)) || record->substr(0, 4) != kZip64EndSignature) {
    return Bad("zip64 end record missing");
  }
  std::uint64_t record_size = LittleEndian(*record, 4, 8) + 12;
  if (record_size < kZip64EndSize || record_size > 16384 ||
      at + record_size > eocd - kZip64LocatorSize) {
    return Bad("malformed zip64 end record");
  }
  if (LittleEndian(*record, 16, 4) != 0 || LittleEndian(*record, 20, 4) != 0 ||
      LittleEndian(*record, 24, 8) != LittleEndian(*record, 32, 8)) {
    return Bad("multi-disk archives are not supported");
  }
  return Directory{LittleEndian(*record, 32, 8), LittleEndian(*record, 40, 8),
                   LittleEndian(*record, 48, 8), at};
}

// Finds the last end record (as libarchive does: an uncompressed zip member may hold one
// of its own earlier in the file) and the zip64 record it points to, when there is one.
Result<Directory> ReadEnd(int fd, FileWindow& file) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(kEndRecordSize)) {
    return Bad("no end of central directory record");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const std::uint64_t tail_start = size - std::min(size, kMaxEndRecordSearch);
  std::optional<std::string_view> tail =
      file.Get(tail_start, static_cast<std::size_t>(size - tail_start));
  if (!tail) {
    return Bad("unreadable end of central directory record");
  }
  std::string tail_copy(*tail);  // `file` is reused below
  std::size_t at = tail_copy.rfind(kEndSignature, tail_copy.size() - kEndRecordSize);
  if (at == std::string::npos) {
    return Bad("no end of central directory record");
  }
  std::string_view eocd = std::string_view(tail_copy).substr(at, kEndRecordSize);
  const std::uint64_t eocd_pos = tail_start + at;
  // libarchive and Python's zipfile both switch to the zip64 record whenever its locator
  // sits right before the end record, whatever the 16/32-bit fields say; so do we.
  if (eocd_pos >= kZip64LocatorSize) {
    std::optional<std::string_view> sig = file.Get(eocd_pos - kZip64LocatorSize, 4);
    if (sig && *sig == kZip64LocatorSignature) {
      return ReadZip64End(file, eocd_pos);
    }
  }
  if (LittleEndian(eocd, 4, 2) != 0 || LittleEndian(eocd, 6, 2) != 0 ||
      LittleEndian(eocd, 8, 2) != LittleEndian(eocd, 10, 2)) {
    return Bad("multi-disk archives are not supported");
  }
  return Directory{LittleEndian(eocd, 10, 2), LittleEndian(eocd, 12, 4), LittleEndian(eocd, 16, 4),
                   eocd_pos};
}

// The uncompressed size an entry declares: the 32-bit field, or the zip64 extra field's
// first value when that field is saturated (APPNOTE 4.5.3).
std::uint64_t DeclaredSize(std::string_view header, std::string_view extra) {
  std::uint64_t size = LittleEndian(header, 24, 4);
  if (size != 0xFFFFFFFF) {
    return size;
  }
  std::size_t at = 0;
  while (at + 4 <= extra.size()) {
    std::uint64_t id = LittleEndian(extra, at, 2);
    std::uint64_t len = LittleEndian(extra, at + 2, 2);
    if (id == 0x0001 && len >= 8 && at + 4 + 8 <= extra.size()) {
      return LittleEndian(extra, at + 4, 8);
    }
    at += 4 + static_cast<std::size_t>(len);
  }
  return size;
}

// Unix file types in the upper 16 bits of the external attributes (<sys/stat.h> values,
// which are the same on every Unix and what zip writers store).
constexpr std::uint32_t kTypeMask = 0170000;
constexpr std::uint32_t kTypeRegular = 0100000;
constexpr std::uint32_t kTypeDirectory = 0040000;
constexpr std::uint32_t kTypeSymlink = 0120000;

std::string Shown(std::string name) {
  std::replace(name.begin(), name.end(), '\0', '?');
  return name.substr(0, 200);
}

// Checks one entry's name, type and declared size.
Status CheckEntry(std::string_view header, std::string_view name, std::string_view extra,
                  const Limits& limits, bool strict_names) {
  if (strict_names &&
      name.find_first_of(std::string_view("\0\\", 2)) != std::string_view::npos) {
    return InvalidArgument("archive member name contains a NUL or backslash: " +
                           Shown(std::string(name)));
  }
  // Checked whatever the "made by" system says: unpackers differ in which systems' modes
  // they honour, and no package needs a link or a device.
  const auto type = static_cast<std::uint32_t>(LittleEndian(header, 38, 4) >> 16) & kTypeMask;
  if (type == kTypeSymlink) {
    return InvalidArgument("archive member is a symbolic link: " + Shown(std::string(name)));
  }
  if (type != 0 && type != kTypeRegular && type != kTypeDirectory) {
    return InvalidArgument("archive member is not a regular file or directory: " +
                           Shown(std::string(name)));
  }
  std::uint64_t declared = DeclaredSize(header, extra);
  if (declared > limits.max_member_bytes) {
    return InvalidArgument("archive member " + Shown(std::string(name)) + " declares " +
                           std::to_string(declared) + " bytes, more than the limit of " +
                           std::to_string(limits.max_member_bytes) + " bytes per member");
  }
  return Status::Ok();
}

std::string TooMany(const Limits& limits) {
  return "archive has more than " + std::to_string(limits.max_entries) + " members";
}

}  // namespace

Status CheckZipCentralDirectory(int fd, const Limits& limits, bool strict_names) {
  FileWindow file(fd);
  PIPY_ASSIGN_OR_RETURN(Directory dir, ReadEnd(fd, file));
  // Both limits first, from the end record alone: an oversized directory is never walked.
  if (dir.entries > limits.max_entries) {
    return InvalidArgument(TooMany(limits) + " (its end record lists " +
                           std::to_string(dir.entries) + ")");
  }
  if (dir.size > limits.max_central_directory_bytes) {
    return InvalidArgument("zip central directory of " + std::to_string(dir.size) +
                           " bytes is larger than the limit of " +
                           std::to_string(limits.max_central_directory_bytes) + " bytes");
  }
  // libarchive starts at `offset`; zipfile and unzip at `end - size`. Only when they agree
  // do all three read the same entries.
  if (dir.size > dir.end || dir.offset != dir.end - dir.size) {
    return Bad("the central directory is not where the end record says");
  }
  std::uint64_t count = 0;
  std::uint64_t pos = dir.offset;
  while (pos < dir.end) {
    std::optional<std::string_view> header = file.Get(pos, kEntryHeaderSize);
    if (!header || pos + kEntryHeaderSize > dir.end || header->substr(0, 4) != kEntrySignature) {
      return Bad("unreadable central directory");
    }
    const std::size_t name_len = LittleEndian(*header, 28, 2);
    const std::size_t extra_len = LittleEndian(*header, 30, 2);
    const std::size_t entry_len =
        kEntryHeaderSize + name_len + extra_len + LittleEndian(*header, 32, 2);
    if (++count > limits.max_entries) {
      return InvalidArgument(TooMany(limits) + " (its end record lists " +
                             std::to_string(dir.entries) + ")");
    }
    std::optional<std::string_view> entry = file.Get(pos, entry_len);
    if (!entry || pos + entry_len > dir.end) {
      return Bad("unreadable central directory");
    }
    PIPY_RETURN_IF_ERROR(CheckEntry(*entry, entry->substr(kEntryHeaderSize, name_len),
                                    entry->substr(kEntryHeaderSize + name_len, extra_len), limits,
                                    strict_names));
    pos += entry_len;
  }
  if (count != dir.entries) {
    return Bad("the end record lists " + std::to_string(dir.entries) +
               " members but the central directory holds " + std::to_string(count));
  }
  return Status::Ok();
}

}  // namespace pipy::archive
