// Archive inspection under limits (core/safe_archive.h) on any bytes. The input's first byte
// picks zip or tar.gz and strict names; the rest is the archive, given to ForEachMember as
// a memfd's /proc path (the API takes a path; nothing touches the disk):
//   - never more members than max_entries reach the callback;
//   - every member path is non-empty, without "", "." or ".." components, without '/' or
//     '\' inside a component, and (strict names) the raw name holds no NUL or backslash;
//   - a member is a file or a directory, never both; Read() never returns more than its
//     cap; a tar's members never add up to more than max_unpacked_bytes;
//   - the walk is deterministic: a second walk gives the same members and status.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/safe_archive.h"
#include "fuzz/fuzz_check.h"

namespace {

using pipy::fuzz::Check;
namespace sa = pipy::archive;

struct Walk {
  pipy::Status status;
  std::vector<std::string> names;
};

Walk Run(const std::string& path, sa::Type type, const sa::Limits& limits) {
  Walk walk;
  std::uint64_t total = 0;
  walk.status = sa::ForEachMember(path, type, limits, [&](sa::Member& m) {
    Check(walk.names.size() < limits.max_entries, "no more members than max_entries");
    Check(!m.path().empty(), "a member path is never empty");
    for (const std::string& part : m.path()) {
      Check(!part.empty() && part != "." && part != "..", "no empty, '.' or '..' component");
      Check(part.find_first_of("/\\") == std::string::npos, "no separator in a component");
    }
    if (limits.strict_names) {
      Check(m.name().find_first_of(std::string_view("\0\\", 2)) == std::string_view::npos,
            "strict names hold no NUL or backslash");
    }
    Check(!(m.is_directory() && m.is_regular_file()), "a file or a directory, not both");
    walk.names.emplace_back(m.name());
    if (m.is_regular_file() && walk.names.size() % 2 == 1) {
      constexpr std::uint64_t kCap = 4096;
      auto bytes = m.Read("member", kCap);
      if (bytes.has_value()) {
        Check(bytes->size() <= kCap, "Read() stays within its cap");
        total += bytes->size();
      }
    }
    return pipy::Status::Ok();
  });
  if (type == sa::Type::kTarGz) {
    Check(total <= limits.max_unpacked_bytes, "a tar's data within max_unpacked_bytes");
  }
  return walk;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  static const int fd = memfd_create("archive_fuzz", 0);
  Check(fd >= 0, "memfd_create works");
  Check(ftruncate(fd, 0) == 0, "the memfd truncates");
  std::size_t written = 0;
  while (written + 1 < size) {
    ssize_t n = pwrite(fd, data + 1 + written, size - 1 - written, static_cast<off_t>(written));
    Check(n > 0, "the memfd takes the bytes");
    written += static_cast<std::size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  sa::Limits limits;
  limits.max_entries = 16;
  limits.max_unpacked_bytes = 256 * 1024;
  limits.max_member_bytes = 64 * 1024;
  limits.max_central_directory_bytes = 16 * 1024;
  limits.strict_names = (data[0] & 2) != 0;
  const sa::Type type = (data[0] & 1) ? sa::Type::kTarGz : sa::Type::kZip;
  Walk first = Run(path, type, limits);
  Walk second = Run(path, type, limits);
  Check(first.status.code() == second.status.code() && first.names == second.names,
        "the walk is deterministic");
  return 0;
}
