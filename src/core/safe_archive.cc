#include "core/safe_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <locale.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "core/zip_directory.h"

namespace pipy::archive {
namespace {

struct ArchiveFree {
  void operator()(::archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<::archive, ArchiveFree>;

// Owns a file descriptor; libarchive's read_open_fd does not close it.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Makes this thread's LC_CTYPE UTF-8 while alive. libarchive converts member names to the
// current locale's charset; under the "C" locale a UTF-8 name ("café.py") has no
// conversion and comes back null. uselocale is per thread, so the process is untouched.
class Utf8Locale {
 public:
  Utf8Locale() : utf8_(::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0))) {
    if (utf8_ != static_cast<locale_t>(0)) {
      previous_ = ::uselocale(utf8_);
    }
  }
  ~Utf8Locale() {
    if (utf8_ != static_cast<locale_t>(0)) {
      ::uselocale(previous_);
      ::freelocale(utf8_);
    }
  }
  Utf8Locale(const Utf8Locale&) = delete;
  Utf8Locale& operator=(const Utf8Locale&) = delete;

 private:
  locale_t utf8_;
  locale_t previous_ = static_cast<locale_t>(0);
};

// The prefix of every "this is not an archive" message, for the person running twine.
std::string_view FormatLabel(Type type) {
  return type == Type::kTarGz ? "not a valid gzip-compressed tar archive"
                                 : "not a valid zip archive";
}

Status ArchiveError(Type type, ::archive* a) {
  const char* text = archive_error_string(a);
  std::string m(FormatLabel(type));
  m += ": ";
  m += text != nullptr ? text : "unknown libarchive error";
  return InvalidArgument(std::move(m));
}

// Refuses names that would escape an unpack folder, whatever tool later unpacks the
// archive: absolute paths (POSIX or Windows drive), and ".." components ("\" counts as a
// separator too, for Windows unpackers). With `strict_names` (PEP 427 wheels: UTF-8 names,
// "/" separators), NUL and backslash are refused outright.
Result<std::vector<std::string>> CheckMemberPath(std::string_view name, bool strict_names) {
  if (name.empty()) {
    return InvalidArgument("archive member with an empty name");
  }
  std::string shown(name.substr(0, 200));
  if (strict_names && name.find_first_of(std::string_view("\0\\", 2)) != name.npos) {
    return InvalidArgument("archive member name contains a NUL or backslash: " + shown);
  }
  bool drive = name.size() >= 2 && name[1] == ':' &&
               ((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z'));
  if (name.front() == '/' || name.front() == '\\' || drive) {
    return InvalidArgument("archive member has an absolute path: " + shown);
  }
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find_first_of("/\\", start);
    if (end == name.npos) {
      end = name.size();
    }
    std::string_view part = name.substr(start, end - start);
    if (part == "..") {
      return InvalidArgument("archive member path contains '..': " + shown);
    }
    if (!part.empty() && part != ".") {
      out.emplace_back(part);
    }
    start = end + 1;
  }
  if (out.empty()) {
    return InvalidArgument("archive member with an empty name: " + shown);
  }
  return out;
}

// Reads the current member's data, never more than `cap` + 1 bytes.
Result<std::string> ReadMemberData(::archive* a, archive_entry* entry, Type type,
                                   std::string_view what, std::uint64_t cap) {
  std::string too_large = std::string(what) + " is larger than the limit of " +
                          std::to_string(cap) + " bytes";
  if (archive_entry_size_is_set(entry) && archive_entry_size(entry) >= 0 &&
      static_cast<std::uint64_t>(archive_entry_size(entry)) > cap) {
    return InvalidArgument(too_large);
  }
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    std::uint64_t want = std::min<std::uint64_t>(sizeof(buf), cap + 1 - out.size());
    la_ssize_t n = archive_read_data(a, buf, want);
    if (n == 0) {
      return out;
    }
    if (n < 0) {
      return ArchiveError(type, a);
    }
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > cap) {
      return InvalidArgument(too_large);
    }
  }
}

// Decompresses a gzip file for libarchive's tar reader. libarchive's own gzip filter never
// checks the CRC-32 and length trailer (RFC 1952), so a damaged sdist that still inflates
// would pass, then fail in pip; zlib checks both. Output is capped (gzip bombs).
class GunzipSource {
 public:
  GunzipSource(int fd, std::uint64_t max_out) : fd_(fd), max_out_(max_out) {
    ok_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK;  // 16: gzip wrapper only
  }
  ~GunzipSource() {
    if (ok_) {
      inflateEnd(&z_);
    }
  }
  GunzipSource(const GunzipSource&) = delete;
  GunzipSource& operator=(const GunzipSource&) = delete;

  static la_ssize_t Read(::archive* a, void* self, const void** buf) {
    auto* source = static_cast<GunzipSource*>(self);
    la_ssize_t n = source->Next(buf);
    if (n < 0) {
      archive_set_error(a, EINVAL, "%s", source->error_.c_str());
    }
    return n;
  }

  // Inflates whatever the tar reader left (the end-of-archive padding), so the trailer of
  // every gzip member is verified.
  Status Drain() {
    const void* ignored = nullptr;
    for (;;) {
      la_ssize_t n = Next(&ignored);
      if (n == 0) {
        return Status::Ok();
      }
      if (n < 0) {
        return InvalidArgument("not a valid gzip-compressed tar archive: " + error_);
      }
    }
  }

 private:
  la_ssize_t Fail(std::string message) {
    error_ = std::move(message);
    return -1;
  }

  la_ssize_t Next(const void** buf) {
    if (!ok_) {
      return Fail("zlib initialisation failed");
    }
    while (!finished_) {
      if (z_.avail_in == 0) {
        if (input_ended_) {
          if (!between_members_) {
            return Fail("truncated gzip data");
          }
          finished_ = true;
          break;
        }
        ssize_t n = ::read(fd_, in_, sizeof(in_));
        if (n < 0) {
          if (errno == EINTR) {
            continue;
          }
          return Fail(std::string("read error: ") + std::strerror(errno));
        }
        input_ended_ = n == 0;
        z_.next_in = reinterpret_cast<Bytef*>(in_);
        z_.avail_in = static_cast<uInt>(n);
        continue;
      }
      if (between_members_) {
        // RFC 1952 allows several members back to back; anything else after one is
        // parsed as a member too, and refused when it is not one.
        inflateReset(&z_);
        between_members_ = false;
      }
      z_.next_out = reinterpret_cast<Bytef*>(out_);
      z_.avail_out = sizeof(out_);
      int r = inflate(&z_, Z_NO_FLUSH);
      std::size_t produced = sizeof(out_) - z_.avail_out;
      if (r == Z_STREAM_END) {
        between_members_ = true;  // the member's CRC-32 and length matched
      } else if (r != Z_OK && r != Z_BUF_ERROR) {
        return Fail(z_.msg != nullptr ? z_.msg : "corrupt gzip data");
      }
      total_out_ += produced;
      if (total_out_ > max_out_) {
        return Fail("archive unpacks to more than " + std::to_string(max_out_) + " bytes");
      }
      if (produced > 0) {
        *buf = out_;
        return static_cast<la_ssize_t>(produced);
      }
    }
    return 0;
  }

  int fd_;
  std::uint64_t max_out_;
  z_stream z_{};
  bool ok_ = false;
  bool input_ended_ = false;
  bool finished_ = false;
  bool between_members_ = false;
  std::uint64_t total_out_ = 0;
  std::string error_;
  char in_[64 * 1024];
  char out_[64 * 1024];
};

Result<ArchivePtr> Open(Type type, const Fd& fd, GunzipSource* gunzip) {
  ArchivePtr a(archive_read_new());
  if (!a) {
    return Internal("libarchive: out of memory");
  }
  int opened = ARCHIVE_FATAL;
  if (type == Type::kTarGz) {
    archive_read_support_format_tar(a.get());
    opened = archive_read_open(a.get(), gunzip, nullptr, &GunzipSource::Read, nullptr);
  } else {
    // The seekable reader trusts the central directory (what pip and unzip read), so a
    // truncated upload fails here instead of yielding the members before the cut.
    archive_read_support_format_zip_seekable(a.get());
    opened = archive_read_open_fd(a.get(), fd.get(), 64 * 1024);
  }
  if (opened != ARCHIVE_OK) {
    return ArchiveError(type, a.get());
  }
  return a;
}

Result<std::unique_ptr<Fd>> OpenFile(const std::filesystem::path& path) {
  auto fd = std::make_unique<Fd>(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd->get() < 0) {
    return Internal("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  return fd;
}

// Refuses every member but regular files and directories. An unpacker (pip, tar, a
// builder's sandbox) would create a symlink or hard link pointing anywhere, and a device
// or fifo; none belongs in a distribution. Tar hard links are AE_IFREG with a target.
Status CheckMemberType(archive_entry* entry, std::string_view name) {
  std::string shown(name.substr(0, 200));
  if (archive_entry_filetype(entry) == AE_IFLNK || archive_entry_symlink(entry) != nullptr) {
    return InvalidArgument("archive member is a symbolic link: " + shown);
  }
  if (archive_entry_hardlink(entry) != nullptr) {
    return InvalidArgument("archive member is a hard link: " + shown);
  }
  auto type = archive_entry_filetype(entry);
  if (type != AE_IFREG && type != AE_IFDIR) {
    return InvalidArgument("archive member is not a regular file or directory: " + shown);
  }
  return Status::Ok();
}

}  // namespace

bool Member::is_directory() const { return archive_entry_filetype(entry_) == AE_IFDIR; }

bool Member::is_regular_file() const {
  return archive_entry_filetype(entry_) == AE_IFREG && archive_entry_hardlink(entry_) == nullptr &&
         archive_entry_symlink(entry_) == nullptr;
}

Result<std::string> Member::Read(std::string_view what, std::uint64_t cap) {
  return ReadMemberData(archive_, entry_, type_, what, cap);
}

Status ForEachMember(const std::filesystem::path& file, Type type, const Limits& limits,
                     const std::function<Status(Member&)>& fn) {
  PIPY_ASSIGN_OR_RETURN(std::unique_ptr<Fd> fd, OpenFile(file));
  Utf8Locale utf8;
  std::unique_ptr<GunzipSource> gunzip;
  if (type == Type::kTarGz) {
    gunzip = std::make_unique<GunzipSource>(fd->get(), limits.max_unpacked_bytes);
  } else {
    // Before libarchive: its zip reader loads the whole central directory into memory on
    // the first header, so the entry limit must hold before it is opened.
    PIPY_RETURN_IF_ERROR(CheckZipCentralDirectory(fd->get(), limits, limits.strict_names));
  }
  PIPY_ASSIGN_OR_RETURN(ArchivePtr a, Open(type, *fd, gunzip.get()));
  std::uint64_t entries = 0;
  std::uint64_t unpacked = 0;
  for (;;) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return ArchiveError(type, a.get());
    }
    if (++entries > limits.max_entries) {
      return InvalidArgument("archive has more than " + std::to_string(limits.max_entries) +
                             " members");
    }
    const char* name = archive_entry_pathname_utf8(entry);
    if (name == nullptr) {
      name = archive_entry_pathname(entry);
    }
    if (name == nullptr) {
      return InvalidArgument("archive member with an unreadable name");
    }
    PIPY_ASSIGN_OR_RETURN(std::vector<std::string> parts,
                          CheckMemberPath(name, limits.strict_names));
    PIPY_RETURN_IF_ERROR(CheckMemberType(entry, name));
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0) {
      const auto size = static_cast<std::uint64_t>(archive_entry_size(entry));
      if (size > limits.max_member_bytes) {
        return InvalidArgument("archive member " + std::string(name).substr(0, 200) +
                               " declares " + std::to_string(size) +
                               " bytes, more than the limit of " +
                               std::to_string(limits.max_member_bytes) + " bytes per member");
      }
      unpacked += type == Type::kTarGz ? size : 0;
      if (unpacked > limits.max_unpacked_bytes) {
        return InvalidArgument("archive unpacks to more than " +
                               std::to_string(limits.max_unpacked_bytes) + " bytes");
      }
    }
    Member member(a.get(), entry, type, name, std::move(parts));
    PIPY_RETURN_IF_ERROR(fn(member));
  }
  if (gunzip) {
    return gunzip->Drain();
  }
  return Status::Ok();
}

}  // namespace pipy::archive
