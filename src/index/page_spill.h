// Rendered pages kept in a file instead of the heap: the page cache appends each body to
// an unnamed file in the data folder (O_TMPFILE) and the server sends it from there with
// sendfile(2), as nginx sends a static page. The bytes live in the kernel's page cache,
// which can drop them under memory pressure and read them back, so the server's own memory
// stays bounded whatever the number of pages, and a large page (the root index, a
// 100-version packument) costs the server one copy fewer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

namespace pipy::index {

// One spill file; closed when its last holder (a cached page, a response) lets go.
class SpillFile {
 public:
  explicit SpillFile(int fd) : fd_(fd) {}
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;
  ~SpillFile();
  int fd() const { return fd_; }

 private:
  int fd_;
};

// A body's place in a spill file.
struct SpilledBytes {
  std::shared_ptr<const SpillFile> file;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

class PageSpill {
 public:
  // Files are created in `dir`; one holds at most `max_file_bytes` (dead pages included:
  // the file is append-only) before the next one is begun.
  PageSpill(std::filesystem::path dir, std::uint64_t max_file_bytes);

  // Appends `bytes`; nullopt when the disk refuses them (full, read-only, gone): the caller
  // keeps the page in memory instead. Thread-safe; the write runs outside the lock.
  std::optional<SpilledBytes> Write(std::string_view bytes);

  // Counts the files begun so far: when it moves, pages in older files should be dropped,
  // so that an old file is not kept alive (and on disk) by a few long-lived pages.
  std::uint64_t file_number() const;
  const SpillFile* current_file() const;

 private:
  // Opens a new file (mu_ held); false when the folder refuses one.
  bool BeginFileLocked();

  const std::filesystem::path dir_;
  const std::uint64_t max_file_bytes_;
  mutable std::mutex mu_;
  std::shared_ptr<const SpillFile> file_;
  std::uint64_t used_ = 0;          // bytes reserved in file_
  std::uint64_t file_number_ = 0;
  bool failed_ = false;             // logged once; retried with the next file
};

}  // namespace pipy::index
