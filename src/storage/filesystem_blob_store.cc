#include "storage/filesystem_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

#include "core/sha256.h"
#include "storage/filesystem_layout.h"

namespace pipy::storage {
namespace {

constexpr mode_t kFileMode = 0644;
constexpr mode_t kDirMode = 0755;

// Maps an errno from `what` to a Status: a full disk is kInsufficientStorage (507), a
// read-only or failing one an outage an operator can fix (kUnavailable); anything else is
// unexpected.
Status ErrnoStatus(int err, const std::string& what) {
  std::string m = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return NotFound(std::move(m));
    case ENOSPC:
    case EDQUOT:
      return InsufficientStorage(std::move(m));
    case EROFS:
    case EIO:
      return Unavailable(std::move(m));
    default:
      return Internal(std::move(m));
  }
}

std::string Hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xf]);
  }
  return out;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

Status InvalidKey(std::string_view key) {
  return InvalidArgument("invalid blob key \"" + std::string(key.substr(0, 80)) +
                         "\": expected 64 lowercase hex characters (a sha256)");
}

// Creates `dir` when missing; when it did not exist, fsyncs its parent so the new entry is
// durable before a blob is renamed into it.
Status MakeDurableDir(FilesystemBlobStore& store, const std::filesystem::path& dir) {
  if (::mkdir(dir.c_str(), kDirMode) == 0) {
    return store.SyncDir(dir.parent_path());
  }
  if (errno == EEXIST) {
    return Status::Ok();
  }
  return ErrnoStatus(errno, "cannot create " + dir.string());
}

// Calls `fn` with the name of every entry of `dir` except "." and "..".
Status ForEachEntry(const std::filesystem::path& dir,
                    const std::function<Status(std::string_view)>& fn) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return ErrnoStatus(errno, "cannot list " + dir.string());
  }
  Status status;
  while (dirent* e = ::readdir(d)) {
    std::string_view name(e->d_name);
    if (name == "." || name == "..") {
      continue;
    }
    status = fn(name);
    if (!status.ok()) {
      break;
    }
  }
  ::closedir(d);
  return status;
}

bool IsLowerHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool IsHexPair(std::string_view s) {
  return s.size() == 2 && IsLowerHexDigit(s[0]) && IsLowerHexDigit(s[1]);
}

class FilesystemBlobWriter final : public BlobWriter {
 public:
  FilesystemBlobWriter(FilesystemBlobStore& store, std::filesystem::path temp_path, FILE* file)
      : store_(store), temp_path_(std::move(temp_path)), file_(file) {}

  ~FilesystemBlobWriter() override { Abandon(); }

  Status Write(std::string_view data) override {
    if (file_ == nullptr) {
      return Internal("blob writer used after Commit or a failed write");
    }
    if (!data.empty() && std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
      Status s = ErrnoStatus(errno, "cannot write " + temp_path_.string());
      Abandon();
      return s;
    }
    hash_.Update(data);
    size_ += data.size();
    return Status::Ok();
  }

  Result<BlobInfo> Commit(std::string_view expected_sha256) override {
    if (file_ == nullptr) {
      return Internal("blob writer committed twice or after a failed write");
    }
    if (std::fflush(file_) != 0) {
      Status s = ErrnoStatus(errno, "cannot write " + temp_path_.string());
      Abandon();
      return s;
    }
    std::string key = hash_.HexDigest();
    if (!expected_sha256.empty() && ToLower(expected_sha256) != key) {
      Abandon();
      return DataLoss("sha256 mismatch: expected " + std::string(expected_sha256) +
                      ", received bytes hash to " + key);
    }
    Result<BlobInfo> info = Place(key);
    Abandon();  // closes the file; unlinks the temp when it was not renamed
    return info;
  }

 private:
  // Makes the bytes durable and visible under `key`.
  Result<BlobInfo> Place(const std::string& key) {
    std::filesystem::path dir = BlobDir(store_.root(), key);
    std::filesystem::path target = dir / key;
    BlobInfo info{key, size_, static_cast<std::int64_t>(::time(nullptr))};
    struct stat present {};
    if (::stat(target.c_str(), &present) == 0 && static_cast<std::uint64_t>(present.st_size) == size_) {
      // Same bytes already stored, synced before their rename: the temp goes (a file of
      // another size under this key is damaged and is replaced below). The folder is
      // synced again because a concurrent writer may have renamed but not yet synced it. The
      // age is refreshed so gc's threshold counts from this upload.
      ::utimensat(AT_FDCWD, target.c_str(), nullptr, 0);
      PIPY_RETURN_IF_ERROR(store_.SyncDir(dir));
      return info;
    }
    PIPY_RETURN_IF_ERROR(store_.SyncFile(fileno(file_), temp_path_));
    // The bucket exists since OpenAt; recreated here only if someone removed it since.
    PIPY_RETURN_IF_ERROR(MakeDurableDir(store_, dir));
    if (::rename(temp_path_.c_str(), target.c_str()) != 0) {
      return ErrnoStatus(errno, "cannot rename " + temp_path_.string() + " to " + target.string());
    }
    renamed_ = true;
    PIPY_RETURN_IF_ERROR(store_.SyncDir(dir));
    return info;
  }

  void Abandon() {
    if (file_ != nullptr) {
      std::fclose(file_);
      file_ = nullptr;
    }
    if (!renamed_ && !temp_path_.empty()) {
      ::unlink(temp_path_.c_str());
      temp_path_.clear();
    }
  }

  FilesystemBlobStore& store_;
  std::filesystem::path temp_path_;
  FILE* file_;
  Sha256 hash_;
  std::uint64_t size_ = 0;
  bool renamed_ = false;
};

class FilesystemBlobReader final : public BlobReader {
 public:
  FilesystemBlobReader(int fd, std::uint64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  ~FilesystemBlobReader() override { ::close(fd_); }

  std::uint64_t size() const override { return size_; }
  int native_fd() const override { return fd_; }

  Result<std::size_t> Read(char* buf, std::size_t n) override {
    for (;;) {
      ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) {
        return static_cast<std::size_t>(got);
      }
      if (errno != EINTR) {
        return ErrnoStatus(errno, "cannot read " + path_);
      }
    }
  }

 private:
  int fd_;
  std::uint64_t size_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<FilesystemBlobStore>> FilesystemBlobStore::OpenAt(
    const std::filesystem::path& root) {
  if (root.empty()) {
    return InvalidArgument("filesystem blob store: no root folder configured");
  }
  for (const auto& dir : {root, BlobsDir(root), TempDir(root)}) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return Unavailable("cannot create blob folder " + dir.string() + ": " + ec.message());
    }
  }
  auto store = std::unique_ptr<FilesystemBlobStore>(new FilesystemBlobStore(root));
  // All buckets up front (durably, once), so commits never create folders.
  bool created = false;
  for (const std::string& bucket : BucketNames()) {
    std::filesystem::path dir = BlobsDir(root) / bucket;
    if (::mkdir(dir.c_str(), kDirMode) == 0) {
      created = true;
    } else if (errno != EEXIST) {
      return ErrnoStatus(errno, "cannot create blob folder " + dir.string());
    }
  }
  if (created) {
    PIPY_RETURN_IF_ERROR(store->SyncDir(BlobsDir(root)));
  }
  return store;
}

Result<std::unique_ptr<BlobWriter>> FilesystemBlobStore::NewWriter() {
  unsigned char random[16];
  if (RAND_bytes(random, sizeof random) != 1) {
    return Internal("cannot draw a random temp file name");
  }
  std::filesystem::path temp = TempDir(root_) / Hex(random, sizeof random);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
  if (fd < 0) {
    return ErrnoStatus(errno, "cannot create " + temp.string());
  }
  ::fchmod(fd, kFileMode);  // independent of the process umask
  FILE* file = ::fdopen(fd, "wb");
  if (file == nullptr) {
    int err = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return ErrnoStatus(err, "cannot open " + temp.string());
  }
  std::setvbuf(file, nullptr, _IOFBF, 1 << 16);
  return std::unique_ptr<BlobWriter>(new FilesystemBlobWriter(*this, std::move(temp), file));
}

Result<std::unique_ptr<BlobReader>> FilesystemBlobStore::Open(std::string_view key) {
  if (!IsValidKey(key)) {
    return InvalidKey(key);
  }
  std::filesystem::path path = BlobPath(root_, key);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus(errno, "blob " + std::string(key));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus(err, "cannot stat " + path.string());
  }
  return std::unique_ptr<BlobReader>(
      new FilesystemBlobReader(fd, static_cast<std::uint64_t>(st.st_size), path.string()));
}

Result<BlobInfo> FilesystemBlobStore::Adopt(const std::filesystem::path& path,
                                            std::string_view sha256) {
  if (!IsValidKey(sha256)) {
    return InvalidKey(sha256);
  }
  std::filesystem::path dir = BlobDir(root_, sha256);
  std::filesystem::path target = dir / sha256;
  struct stat present {};
  struct stat incoming {};
  if (::stat(target.c_str(), &present) == 0 && ::stat(path.c_str(), &incoming) == 0 &&
      present.st_size == incoming.st_size) {
    // Already stored (synced before its rename); see the writer's Place for why the folder
    // is synced and the age refreshed, and why another size is replaced. The caller's file
    // stays the caller's.
    ::utimensat(AT_FDCWD, target.c_str(), nullptr, 0);
    PIPY_RETURN_IF_ERROR(SyncDir(dir));
    PIPY_ASSIGN_OR_RETURN(BlobInfo info, Stat(sha256));
    return info;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus(errno, "cannot open " + path.string());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = ErrnoStatus(errno, "cannot stat " + path.string());
    ::close(fd);
    return s;
  }
  ::fchmod(fd, kFileMode);  // uploads are written private; blobs are readable like the rest
  Status synced = SyncFile(fd, path);
  ::close(fd);
  PIPY_RETURN_IF_ERROR(synced);
  PIPY_RETURN_IF_ERROR(MakeDurableDir(*this, dir));
  if (::rename(path.c_str(), target.c_str()) != 0) {
    if (errno == EXDEV) {
      return PutFile(*this, path, sha256);  // another file system: copy and verify
    }
    return ErrnoStatus(errno, "cannot rename " + path.string() + " to " + target.string());
  }
  PIPY_RETURN_IF_ERROR(SyncDir(dir));
  return BlobInfo{std::string(sha256), static_cast<std::uint64_t>(st.st_size),
                  static_cast<std::int64_t>(::time(nullptr))};
}

Result<BlobInfo> FilesystemBlobStore::Stat(std::string_view key) {
  if (!IsValidKey(key)) {
    return InvalidKey(key);
  }
  struct stat st;
  if (::stat(BlobPath(root_, key).c_str(), &st) != 0) {
    return ErrnoStatus(errno, "blob " + std::string(key));
  }
  return BlobInfo{std::string(key), static_cast<std::uint64_t>(st.st_size),
                  static_cast<std::int64_t>(st.st_mtime)};
}

Status FilesystemBlobStore::Delete(std::string_view key) {
  if (!IsValidKey(key)) {
    return InvalidKey(key);
  }
  if (::unlink(BlobPath(root_, key).c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, "cannot delete blob " + std::string(key));
  }
  return Status::Ok();
}

Status FilesystemBlobStore::List(const std::function<Status(const BlobInfo&)>& fn) {
  std::filesystem::path blobs = BlobsDir(root_);
  return ForEachEntry(blobs, [&](std::string_view bucket) -> Status {
    if (!IsHexPair(bucket)) {
      return Status::Ok();
    }
    return ForEachEntry(blobs / bucket, [&](std::string_view name) -> Status {
      if (!IsValidKey(name) || name.substr(0, 2) != bucket) {
        return Status::Ok();
      }
      Result<BlobInfo> info = Stat(name);
      if (!info.has_value()) {
        // Deleted while listing: not an error.
        return info.error().code() == StatusCode::kNotFound ? Status::Ok() : info.error();
      }
      return fn(*info);
    });
  });
}

FilesystemSyncStats FilesystemBlobStore::sync_stats() const {
  return {file_syncs_.load(), dir_syncs_.load()};
}

Status FilesystemBlobStore::SyncFile(int fd, const std::filesystem::path& path) {
  if (::fsync(fd) != 0) {
    return ErrnoStatus(errno, "cannot fsync " + path.string());
  }
  file_syncs_.fetch_add(1);
  return Status::Ok();
}

Status FilesystemBlobStore::SyncDir(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus(errno, "cannot open folder " + dir.string());
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return ErrnoStatus(err, "cannot fsync folder " + dir.string());
  }
  dir_syncs_.fetch_add(1);
  return Status::Ok();
}

}  // namespace pipy::storage
