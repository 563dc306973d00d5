#include "cli/backup_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/sha256.h"

namespace pipy::cli {

namespace {

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

Status Errno(std::string_view what, const std::filesystem::path& path, int err) {
  std::string message = std::string(what) + " " + path.string() + ": " + std::strerror(err);
  if (err == ENOENT) {
    return NotFound(std::move(message));
  }
  return Unavailable(std::move(message));
}

// Reads `in` to the end, feeding `hasher` and, when `out` >= 0, writing to `out`.
Result<std::uint64_t> Pump(int in, int out, Sha256& hasher, const std::filesystem::path& from,
                           const std::filesystem::path& to) {
  std::string buf(256 * 1024, '\0');
  std::uint64_t total = 0;
  while (true) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Errno("cannot read", from, errno);
    }
    if (n == 0) {
      return total;
    }
    hasher.Update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    total += static_cast<std::uint64_t>(n);
    for (ssize_t done = 0; out >= 0 && done < n;) {
      ssize_t w = ::write(out, buf.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0) {
        if (errno == EINTR) {
          continue;
        }
        return Errno("cannot write", to, errno);
      }
      done += w;
    }
  }
}

struct Copied {
  std::string sha256;
  std::uint64_t size = 0;
};

// Copies `from` into the new file `to` and fsyncs it; removes `to` on failure.
Result<Copied> Copy(const std::filesystem::path& from, const std::filesystem::path& to) {
  Fd in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) {
    return Errno("cannot open", from, errno);
  }
  Fd out{::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)};
  if (out.fd < 0) {
    return Errno("cannot create", to, errno);
  }
  Sha256 hasher;
  auto size = Pump(in.fd, out.fd, hasher, from, to);
  Status synced = Status::Ok();
  if (size && ::fsync(out.fd) != 0) {
    synced = Errno("cannot fsync", to, errno);
  }
  if (!size || !synced.ok()) {
    ::unlink(to.c_str());
    return size ? synced : size.error();
  }
  return Copied{hasher.HexDigest(), *size};
}

}  // namespace

Result<bool> IsMissingOrEmptyDir(const std::filesystem::path& dir) {
  std::error_code ec;
  auto status = std::filesystem::status(dir, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return true;
  }
  if (ec) {
    return Unavailable("cannot read " + dir.string() + ": " + ec.message());
  }
  if (status.type() != std::filesystem::file_type::directory) {
    return InvalidArgument(dir.string() + " is not a folder");
  }
  bool empty = std::filesystem::is_empty(dir, ec);
  if (ec) {
    return Unavailable("cannot read " + dir.string() + ": " + ec.message());
  }
  return empty;
}

Result<std::string> HashFile(const std::filesystem::path& path) {
  Fd in{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) {
    return Errno("cannot open", path, errno);
  }
  Sha256 hasher;
  PIPY_RETURN_IF_ERROR(Pump(in.fd, -1, hasher, path, path).status());
  return hasher.HexDigest();
}

Result<std::string> CopyFileHashed(const std::filesystem::path& from,
                                   const std::filesystem::path& to) {
  PIPY_ASSIGN_OR_RETURN(Copied copied, Copy(from, to));
  return copied.sha256;
}

Result<std::uint64_t> LinkOrCopyBlob(const std::filesystem::path& from,
                                     const std::filesystem::path& to, std::string_view sha256) {
  Copied placed;
  if (::link(from.c_str(), to.c_str()) == 0) {
    Fd in{::open(to.c_str(), O_RDONLY | O_CLOEXEC)};
    if (in.fd < 0) {
      int err = errno;
      ::unlink(to.c_str());
      return Errno("cannot open", to, err);
    }
    Sha256 hasher;
    auto size = Pump(in.fd, -1, hasher, to, to);
    if (!size) {
      ::unlink(to.c_str());
      return size.error();
    }
    placed = Copied{hasher.HexDigest(), *size};
  } else if (errno == ENOENT) {
    return Errno("cannot link", from, errno);
  } else {
    // EXDEV (another file system), EPERM/EMLINK (no hard links here): copy instead.
    PIPY_ASSIGN_OR_RETURN(placed, Copy(from, to));
  }
  if (placed.sha256 != sha256) {
    ::unlink(to.c_str());
    return DataLoss(from.string() + " holds bytes with sha256 " + placed.sha256 + ", not " +
                    std::string(sha256));
  }
  return placed.size;
}

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view data) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  ::unlink(tmp.c_str());
  {
    Fd out{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)};
    if (out.fd < 0) {
      return Errno("cannot create", tmp, errno);
    }
    for (std::size_t done = 0; done < data.size();) {
      ssize_t w = ::write(out.fd, data.data() + done, data.size() - done);
      if (w < 0) {
        if (errno == EINTR) {
          continue;
        }
        int err = errno;
        ::unlink(tmp.c_str());
        return Errno("cannot write", tmp, err);
      }
      done += static_cast<std::size_t>(w);
    }
    if (::fsync(out.fd) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return Errno("cannot fsync", tmp, err);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Errno("cannot rename into", path, err);
  }
  return FsyncDir(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

Status FsyncDir(const std::filesystem::path& dir) {
  Fd fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (fd.fd < 0) {
    return Errno("cannot open", dir, errno);
  }
  if (::fsync(fd.fd) != 0) {
    return Errno("cannot fsync", dir, errno);
  }
  return Status::Ok();
}

}  // namespace pipy::cli
