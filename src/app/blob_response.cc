#include "app/blob_response.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace pipy::app {

Result<http::Response> BlobResponse(index::Index::BlobContent content) {
  http::Response response;
  response.status = 200;
  if (content.small) {
    response.body = std::move(content.small);
    return response;
  }
  std::unique_ptr<storage::BlobReader> reader = std::move(content.reader);
  int fd = reader->native_fd();
  if (fd >= 0) {
    int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) {
      return Internal("cannot duplicate a blob descriptor: " + std::string(std::strerror(errno)));
    }
    http::FileBody body;
    body.fd = own;
    body.offset = 0;
    body.length = reader->size();
    response.body = body;
    return response;
  }
  std::shared_ptr<storage::BlobReader> shared(std::move(reader));
  http::StreamBody body;
  body.length = shared->size();
  body.read = [shared](char* buf, std::size_t n) { return shared->Read(buf, n); };
  response.body = std::move(body);
  return response;
}

}  // namespace pipy::app
