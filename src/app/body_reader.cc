#include "app/body_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace pipy::app {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

}  // namespace

Result<ChunkReader> OpenBodyReader(const http::RequestBody& body) {
  if (!body.in_file()) {
    auto pos = std::make_shared<std::size_t>(0);
    return ChunkReader([&body, pos](char* buf, std::size_t n) -> Result<std::size_t> {
      std::size_t k = std::min(n, body.memory.size() - *pos);
      std::memcpy(buf, body.memory.data() + *pos, k);
      *pos += k;
      return k;
    });
  }
  auto file = std::make_shared<Fd>();
  file->fd = ::open(body.file.c_str(), O_RDONLY | O_CLOEXEC);
  if (file->fd < 0) {
    return Internal("cannot open the spooled request body: " + std::string(std::strerror(errno)));
  }
  return ChunkReader([file](char* buf, std::size_t n) -> Result<std::size_t> {
    while (true) {
      ssize_t k = ::read(file->fd, buf, n);
      if (k >= 0) {
        return static_cast<std::size_t>(k);
      }
      if (errno != EINTR) {
        return Internal("reading the spooled request body: " + std::string(std::strerror(errno)));
      }
    }
  });
}

Result<std::string> ReadSmallBody(const http::RequestBody& body, std::uint64_t max_bytes) {
  if (!body.in_file()) {
    if (body.memory.size() > max_bytes) {
      return TooLarge("request body is larger than " + std::to_string(max_bytes) + " bytes");
    }
    return body.memory;
  }
  PIPY_ASSIGN_OR_RETURN(ChunkReader read, OpenBodyReader(body));
  std::string out;
  char buf[16 * 1024];
  while (true) {
    PIPY_ASSIGN_OR_RETURN(std::size_t n, read(buf, sizeof buf));
    if (n == 0) {
      return out;
    }
    if (out.size() + n > max_bytes) {
      return TooLarge("request body is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, n);
  }
}

}  // namespace pipy::app
