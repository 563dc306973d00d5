#include "app/temp_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace pipy::app {

Result<TempFile> TempFile::Create(const std::filesystem::path& dir) {
  std::string pattern = (dir / "upload-XXXXXX").string();
  int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) {
    return Internal("cannot create a temp file in " + dir.string() + ": " +
                    std::strerror(errno));
  }
  return TempFile(std::filesystem::path(pattern), fd);
}

TempFile::TempFile(TempFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {
  other.path_.clear();
}

TempFile::~TempFile() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  if (!path_.empty()) {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
}

Status TempFile::Write(std::string_view data) {
  if (fd_ < 0) {
    return Internal("write to a closed temp file");
  }
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      std::string m = "writing the upload to " + path_.string() + ": " + std::strerror(errno);
      return errno == ENOSPC || errno == EDQUOT ? InsufficientStorage(std::move(m))
                                                : Internal(std::move(m));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Status TempFile::Close() {
  if (fd_ < 0) {
    return Status::Ok();
  }
  int rc = ::close(std::exchange(fd_, -1));
  if (rc != 0) {
    return Internal("closing " + path_.string() + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace pipy::app
