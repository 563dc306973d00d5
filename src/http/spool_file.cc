#include "http/spool_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>

namespace pipy::http {

namespace {

// A full disk is 507; anything else keeps the body from being taken now (503). The path
// in `what` is for the server's log: error answers have paths taken out (ErrorResponse).
Status SpoolError(int err, const std::string& what) {
  std::string m = what + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) {
    return InsufficientStorage(std::move(m));
  }
  return Unavailable(std::move(m));
}

}  // namespace

Status SpoolFile::Create(const std::filesystem::path& dir) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::filesystem::path p = dir / fmt::format("pipy-body-{:016x}{:016x}", rng(), rng());
    int fd = ::open(p.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
      fd_ = fd;
      path_ = std::move(p);
      return Status::Ok();
    }
    if (errno != EEXIST) {
      return SpoolError(errno, fmt::format("cannot create a temp file in {}", dir.string()));
    }
  }
  return Internal("cannot find a free temp file name");
}

Status SpoolFile::Write(const char* data, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd_, data, n);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      return SpoolError(w < 0 ? errno : ENOSPC,
                        fmt::format("cannot write the request body to {}", path_.string()));
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return Status::Ok();
}

void SpoolFile::CloseFd() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void SpoolFile::Reset() {
  CloseFd();
  if (!path_.empty()) {
    ::unlink(path_.c_str());  // the handler may have moved it away already
    path_.clear();
  }
}

}  // namespace pipy::http
