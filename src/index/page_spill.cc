#include "index/page_spill.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>

#include <spdlog/spdlog.h>

namespace pipy::index {

SpillFile::~SpillFile() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

PageSpill::PageSpill(std::filesystem::path dir, std::uint64_t max_file_bytes)
    : dir_(std::move(dir)), max_file_bytes_(max_file_bytes) {}

bool PageSpill::BeginFileLocked() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);  // an error shows in open's below
  int fd = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // A filesystem without O_TMPFILE: a named file, removed at once.
    std::random_device random;
    std::string name = (dir_ / ("pages-" + std::to_string(random()))).string();
    fd = ::open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::unlink(name.c_str());
    }
  }
  if (fd < 0) {
    if (!failed_) {
      spdlog::warn("pages: cannot create a spill file in {}: {}; pages stay in memory",
                   dir_.string(), std::strerror(errno));
      failed_ = true;
    }
    return false;
  }
  file_ = std::make_shared<const SpillFile>(fd);
  used_ = 0;
  ++file_number_;
  return true;
}

std::optional<SpilledBytes> PageSpill::Write(std::string_view bytes) {
  SpilledBytes place;
  {
    std::lock_guard lock(mu_);
    if (bytes.size() > max_file_bytes_) {
      return std::nullopt;
    }
    if ((file_ == nullptr || used_ + bytes.size() > max_file_bytes_) && !BeginFileLocked()) {
      return std::nullopt;
    }
    place.file = file_;
    place.offset = used_;
    place.length = bytes.size();
    used_ += bytes.size();
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pwrite(place.file->fd(), bytes.data() + done, bytes.size() - done,
                         static_cast<off_t>(place.offset + done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      std::lock_guard lock(mu_);
      if (!failed_) {
        spdlog::warn("pages: writing the spill file: {}; pages stay in memory meanwhile",
                     n < 0 ? std::strerror(errno) : "no progress");
        failed_ = true;
      }
      return std::nullopt;  // the reserved bytes stay a hole, never referenced
    }
    done += static_cast<std::size_t>(n);
  }
  return place;
}

std::uint64_t PageSpill::file_number() const {
  std::lock_guard lock(mu_);
  return file_number_;
}

const SpillFile* PageSpill::current_file() const {
  std::lock_guard lock(mu_);
  return file_.get();
}

}  // namespace pipy::index
