#include "storage/blob_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace pipy::storage {

bool IsValidKey(std::string_view key) {
  if (key.size() != 64) {
    return false;
  }
  for (char c : key) {
    bool digit = c >= '0' && c <= '9';
    bool lower_hex = c >= 'a' && c <= 'f';
    if (!digit && !lower_hex) {
      return false;
    }
  }
  return true;
}

Result<BlobInfo> BlobStore::Adopt(const std::filesystem::path& path, std::string_view sha256) {
  return PutFile(*this, path, sha256);
}

Result<BlobInfo> PutFile(BlobStore& store, const std::filesystem::path& path,
                         std::string_view expected_sha256) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string m = "cannot open " + path.string() + ": " + std::strerror(err);
    return err == ENOENT ? NotFound(std::move(m)) : Internal(std::move(m));
  }
  auto writer = store.NewWriter();
  if (!writer.has_value()) {
    ::close(fd);
    return writer.error();
  }
  std::string buf(1 << 16, '\0');
  Status status;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      status = Internal("cannot read " + path.string() + ": " + std::strerror(errno));
      break;
    }
    if (n == 0) {
      break;
    }
    status = (*writer)->Write(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    if (!status.ok()) {
      break;
    }
  }
  ::close(fd);
  if (!status.ok()) {
    return status;
  }
  return (*writer)->Commit(expected_sha256);
}

Result<BlobInfo> PutBytes(BlobStore& store, std::string_view data) {
  PIPY_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, store.NewWriter());
  PIPY_RETURN_IF_ERROR(writer->Write(data));
  return writer->Commit();
}

Result<std::string> ReadAll(BlobStore& store, std::string_view key, std::uint64_t max_bytes) {
  PIPY_ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> reader, store.Open(key));
  if (reader->size() > max_bytes) {
    return TooLarge("blob " + std::string(key) + " has " + std::to_string(reader->size()) +
                    " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  std::string out(reader->size(), '\0');
  std::size_t filled = 0;
  while (filled < out.size()) {
    PIPY_ASSIGN_OR_RETURN(std::size_t n, reader->Read(out.data() + filled, out.size() - filled));
    if (n == 0) {
      return DataLoss("blob " + std::string(key) + " ended after " + std::to_string(filled) +
                      " of " + std::to_string(out.size()) + " bytes");
    }
    filled += n;
  }
  return out;
}

}  // namespace pipy::storage
