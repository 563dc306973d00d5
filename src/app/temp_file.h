// A uniquely named temp file that is removed when its owner goes out of scope, on every
// path, so a failed or rejected upload leaves nothing behind (python/'s twine uploads;
// npm publishes later).
#pragma once

#include <filesystem>
#include <string_view>

#include "core/status.h"

namespace pipy::app {

class TempFile {
 public:
  // Creates "<dir>/upload-XXXXXX" (mkstemp) open for writing; kInternal when it cannot.
  static Result<TempFile> Create(const std::filesystem::path& dir);

  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&&) = delete;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();  // closes and unlinks

  // Appends bytes; kInternal on a write error (disk full, ...).
  Status Write(std::string_view data);
  // Closes the descriptor so others can read the complete file; kInternal on error.
  Status Close();
  const std::filesystem::path& path() const { return path_; }

 private:
  TempFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace pipy::app
