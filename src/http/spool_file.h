// A request body spooled to disk while it is read. Beast-free.
#pragma once

#include <cstddef>
#include <filesystem>

#include "core/status.h"

namespace pipy::http {

// A request body spooled to disk: created O_EXCL under a random name, removed by Reset()
// or the destructor (after the response, and on every error path).
class SpoolFile {
 public:
  SpoolFile() = default;
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;
  ~SpoolFile() { Reset(); }

  bool active() const { return !path_.empty(); }
  const std::filesystem::path& path() const { return path_; }

  // Creates a new file in `dir` (mode 0600, a random name, O_EXCL).
  Status Create(const std::filesystem::path& dir);
  // Appends bytes; kUnavailable when the disk refuses them.
  Status Write(const char* data, std::size_t n);
  // Closes the descriptor, keeping the file for the handler.
  void CloseFd();
  // Closes and removes the file (the handler may have moved it away already).
  void Reset();

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

}  // namespace pipy::http
