#include "storage/s3_blob_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "core/sha256.h"
#include "core/strings.h"
#include "storage/s3_layout.h"
#include "storage/s3_reader.h"
#include "storage/s3_xml.h"

namespace pipy::storage {
namespace {

constexpr std::uint64_t kMinPartSize = 5ull << 20;
// An object this fresh is not uploaded again by Commit. Older ones are, which refreshes
// their age: `pipy gc` deletes unreferenced blobs older than an hour, and a blob being
// committed is about to be referenced.
constexpr std::int64_t kFreshSeconds = 30 * 60;

Status InvalidKey(std::string_view key) {
  return InvalidArgument("invalid blob key \"" + std::string(key.substr(0, 80)) +
                         "\": expected 64 lowercase hex characters (a sha256)");
}

std::optional<std::uint64_t> ParseUint(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

bool IsSuccess(long status) { return status >= 200 && status < 300; }

class S3BlobWriter final : public BlobWriter {
 public:
  S3BlobWriter(S3BlobStore& store, int fd) : store_(store), fd_(fd) {}
  ~S3BlobWriter() override { Close(); }

  Status Write(std::string_view data) override {
    if (fd_ < 0) {
      return Internal("blob writer used after Commit or a failed write");
    }
    hash_.Update(data);
    std::uint64_t part_size = store_.options().part_size;
    std::string_view rest = data;
    while (!rest.empty()) {
      std::uint64_t room = part_size - (size_ % part_size);
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(room, rest.size()));
      part_hash_.Update(rest.substr(0, take));
      size_ += take;
      rest.remove_prefix(take);
      if (size_ % part_size == 0) {
        part_hashes_.push_back(part_hash_.HexDigest());
        part_hash_ = Sha256();
      }
    }
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        Status s = (errno == ENOSPC || errno == EDQUOT)
                       ? InsufficientStorage("S3 spool: the local disk is full")
                       : Internal(std::string("S3 spool: cannot write: ") + std::strerror(errno));
        Close();
        return s;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return Status::Ok();
  }

  Result<BlobInfo> Commit(std::string_view expected_sha256) override {
    if (fd_ < 0) {
      return Internal("blob writer committed twice or after a failed write");
    }
    std::string key = hash_.HexDigest();
    if (!expected_sha256.empty() && AsciiLower(expected_sha256) != key) {
      Close();
      return DataLoss("sha256 mismatch: expected " + std::string(expected_sha256) +
                      ", received bytes hash to " + key);
    }
    if (size_ % store_.options().part_size != 0) {
      part_hashes_.push_back(part_hash_.HexDigest());
    }
    Status s = store_.Upload(fd_, size_, key, part_hashes_);
    Close();
    if (!s.ok()) {
      return s;
    }
    return BlobInfo{key, size_, static_cast<std::int64_t>(::time(nullptr))};
  }

 private:
  void Close() {
    if (fd_ >= 0) {
      ::close(fd_);  // the spool file was unlinked at creation: closing frees it
      fd_ = -1;
    }
  }

  S3BlobStore& store_;
  int fd_;
  Sha256 hash_;
  Sha256 part_hash_;
  std::vector<std::string> part_hashes_;
  std::uint64_t size_ = 0;
};

}  // namespace

std::optional<std::int64_t> ParseS3Time(std::string_view text) {
  std::string s(text);
  std::tm tm{};
  const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) {
    tm = std::tm{};
    end = ::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  }
  if (end == nullptr) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(::timegm(&tm));
}

Result<std::unique_ptr<S3BlobStore>> S3BlobStore::Create(S3StoreOptions options) {
  if (options.part_size < kMinPartSize) {
    return InvalidArgument("S3 multipart part size must be at least 5 MiB");
  }
  if (options.multipart_threshold < options.part_size) {
    options.multipart_threshold = options.part_size;
  }
  if (options.spool_dir.empty()) {
    return InvalidArgument("S3 blob store: no local spool folder configured");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.spool_dir, ec);
  if (ec) {
    return Unavailable("cannot create spool folder " + options.spool_dir.string() + ": " +
                       ec.message());
  }
  PIPY_ASSIGN_OR_RETURN(std::unique_ptr<S3Client> client, S3Client::Create(options.client));
  return std::unique_ptr<S3BlobStore>(new S3BlobStore(std::move(options), std::move(client)));
}

S3BlobStore::S3BlobStore(S3StoreOptions options, std::unique_ptr<S3Client> client)
    : options_(std::move(options)), client_(std::move(client)) {}

Status S3BlobStore::CheckAccess() {
  S3Request request;
  request.query = {{"list-type", "2"}, {"max-keys", "1"}, {"prefix", S3BlobsPrefix(options_.prefix)}};
  PIPY_ASSIGN_OR_RETURN(S3Response response, client_->Send(request));
  if (!IsSuccess(response.status)) {
    return client_->ErrorStatus(response, "ListObjectsV2");
  }
  return Status::Ok();
}

Result<std::unique_ptr<BlobWriter>> S3BlobStore::NewWriter() {
  std::string path = (options_.spool_dir / "s3-spool-XXXXXX").string();
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) {
    return Unavailable("cannot create a spool file in " + options_.spool_dir.string() + ": " +
                       std::strerror(errno));
  }
  ::unlink(path.c_str());  // anonymous from now on: nothing is left behind by a crash
  return std::unique_ptr<BlobWriter>(new S3BlobWriter(*this, fd));
}

Status S3BlobStore::Upload(int fd, std::uint64_t size, const std::string& key,
                           const std::vector<std::string>& part_hashes) {
  Result<BlobInfo> existing = Stat(key);
  if (existing.has_value()) {
    std::int64_t age = static_cast<std::int64_t>(::time(nullptr)) - existing->modified_unix;
    if (existing->size == size && age < kFreshSeconds) {
      skipped_uploads_.fetch_add(1);
      return Status::Ok();
    }
  } else if (existing.error().code() != StatusCode::kNotFound) {
    return existing.error();
  }
  std::string object_key = S3ObjectKey(options_.prefix, key);
  if (size > options_.multipart_threshold) {
    return PutMultipart(fd, size, object_key, part_hashes);
  }
  return PutSingle(fd, size, object_key, key);
}

Status S3BlobStore::PutSingle(int fd, std::uint64_t size, const std::string& object_key,
                              const std::string& sha256) {
  S3Request request;
  request.method = "PUT";
  request.object_key = object_key;
  request.file_body = {fd, 0, size};
  request.payload_hash = sha256;  // S3 refuses the PUT if the bytes do not hash to it
  PIPY_ASSIGN_OR_RETURN(S3Response response, client_->Send(request));
  if (!IsSuccess(response.status)) {
    return client_->ErrorStatus(response, "PUT " + object_key);
  }
  single_puts_.fetch_add(1);
  return Status::Ok();
}

Status S3BlobStore::PutMultipart(int fd, std::uint64_t size, const std::string& object_key,
                                 const std::vector<std::string>& part_hashes) {
  S3Request create;
  create.method = "POST";
  create.object_key = object_key;
  create.query = {{"uploads", ""}};
  PIPY_ASSIGN_OR_RETURN(S3Response created, client_->Send(create));
  if (!IsSuccess(created.status)) {
    return client_->ErrorStatus(created, "CreateMultipartUpload " + object_key);
  }
  std::optional<std::string> upload_id = xml::Text(created.body, "UploadId");
  if (!upload_id.has_value() || upload_id->empty()) {
    return Internal("S3 " + client_->Describe() + ": CreateMultipartUpload gave no UploadId");
  }
  // Aborts the upload so S3 drops its parts. s3rver answers 405 to this; S3 keeps
  // abandoned parts until a lifecycle rule removes them, so a failed abort is not an error.
  auto fail = [&](Status status) {
    S3Request abort;
    abort.method = "DELETE";
    abort.object_key = object_key;
    abort.query = {{"uploadId", *upload_id}};
    (void)client_->Send(abort);
    return status;
  };

  std::string complete = "<CompleteMultipartUpload>";
  std::uint64_t part_size = options_.part_size;
  std::size_t count = static_cast<std::size_t>((size + part_size - 1) / part_size);
  if (count != part_hashes.size()) {
    return fail(Internal("multipart upload: part hashes do not match the size"));
  }
  for (std::size_t i = 0; i < count; ++i) {
    std::uint64_t offset = i * part_size;
    S3Request part;
    part.method = "PUT";
    part.object_key = object_key;
    part.query = {{"partNumber", std::to_string(i + 1)}, {"uploadId", *upload_id}};
    part.file_body = {fd, offset, std::min(part_size, size - offset)};
    part.payload_hash = part_hashes[i];
    Result<S3Response> uploaded = client_->Send(part);
    if (!uploaded.has_value()) {
      return fail(uploaded.error());
    }
    if (!IsSuccess(uploaded->status)) {
      return fail(client_->ErrorStatus(*uploaded, "UploadPart " + object_key));
    }
    std::string etag = uploaded->Header("etag");
    if (etag.empty()) {
      return fail(Internal("S3 " + client_->Describe() + ": UploadPart gave no ETag"));
    }
    parts_.fetch_add(1);
    complete += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
                xml::Escape(etag) + "</ETag></Part>";
  }
  complete += "</CompleteMultipartUpload>";

  S3Request finish;
  finish.method = "POST";
  finish.object_key = object_key;
  finish.query = {{"uploadId", *upload_id}};
  finish.body = complete;
  Result<S3Response> finished = client_->Send(finish);
  if (!finished.has_value()) {
    return fail(finished.error());
  }
  // S3 may answer 200 and still report an error in the body.
  if (!IsSuccess(finished->status) || !xml::Elements(finished->body, "Error").empty()) {
    return fail(client_->ErrorStatus(*finished, "CompleteMultipartUpload " + object_key));
  }
  multipart_uploads_.fetch_add(1);
  return Status::Ok();
}

Result<std::unique_ptr<BlobReader>> S3BlobStore::Open(std::string_view key) {
  if (!IsValidKey(key)) {
    return InvalidKey(key);
  }
  return OpenS3Reader(*client_, S3ObjectKey(options_.prefix, key), std::string(key),
                      &resumed_reads_);
}

Result<BlobInfo> S3BlobStore::Stat(std::string_view key) {
  if (!IsValidKey(key)) {
    return InvalidKey(key);
  }
  S3Request request;
  request.method = "HEAD";
  request.object_key = S3ObjectKey(options_.prefix, key);
  PIPY_ASSIGN_OR_RETURN(S3Response response, client_->Send(request));
  if (!IsSuccess(response.status)) {
    return client_->ErrorStatus(response, "HEAD " + request.object_key);
  }
  std::optional<std::uint64_t> size = ParseUint(response.Header("content-length"));
  if (!size.has_value()) {
    return Internal("S3 " + client_->Describe() + ": HEAD " + request.object_key +
                    " answered without Content-Length");
  }
  std::int64_t modified = ParseS3Time(response.Header("last-modified")).value_or(0);
  return BlobInfo{std::string(key), *size, modified};
}

Status S3BlobStore::Delete(std::string_view key) {
  if (!IsValidKey(key)) {
    return InvalidKey(key);
  }
  S3Request request;
  request.method = "DELETE";
  request.object_key = S3ObjectKey(options_.prefix, key);
  PIPY_ASSIGN_OR_RETURN(S3Response response, client_->Send(request));
  if (IsSuccess(response.status) || response.status == 404) {
    return Status::Ok();
  }
  return client_->ErrorStatus(response, "DELETE " + request.object_key);
}

Status S3BlobStore::List(const std::function<Status(const BlobInfo&)>& fn) {
  std::string continuation;
  for (;;) {
    S3Request request;
    request.query = {{"list-type", "2"},
                     {"max-keys", std::to_string(options_.list_page_size)},
                     {"prefix", S3BlobsPrefix(options_.prefix)}};
    if (!continuation.empty()) {
      request.query.emplace_back("continuation-token", continuation);
    }
    PIPY_ASSIGN_OR_RETURN(S3Response response, client_->Send(request));
    if (!IsSuccess(response.status)) {
      return client_->ErrorStatus(response, "ListObjectsV2");
    }
    for (std::string_view contents : xml::Elements(response.body, "Contents")) {
      std::optional<std::string> object_key = xml::Text(contents, "Key");
      if (!object_key.has_value()) {
        continue;
      }
      std::optional<std::string> key = BlobKeyFromS3Object(options_.prefix, *object_key);
      if (!key.has_value()) {
        continue;
      }
      BlobInfo info;
      info.key = std::move(*key);
      info.size = ParseUint(xml::Text(contents, "Size").value_or("")).value_or(0);
      info.modified_unix = ParseS3Time(xml::Text(contents, "LastModified").value_or("")).value_or(0);
      PIPY_RETURN_IF_ERROR(fn(info));
    }
    std::string truncated = xml::Text(response.body, "IsTruncated").value_or("false");
    continuation = xml::Text(response.body, "NextContinuationToken").value_or("");
    if (truncated != "true" || continuation.empty()) {
      return Status::Ok();
    }
  }
}

std::optional<std::string> S3BlobStore::DirectUrl(std::string_view key) {
  if (!options_.redirect_downloads || !IsValidKey(key)) {
    return std::nullopt;
  }
  return client_->Presign("GET", S3ObjectKey(options_.prefix, key), options_.presign_expiry);
}

S3StoreStats S3BlobStore::stats() const {
  S3StoreStats out;
  out.single_puts = single_puts_.load();
  out.multipart_uploads = multipart_uploads_.load();
  out.parts = parts_.load();
  out.skipped_uploads = skipped_uploads_.load();
  out.resumed_reads = resumed_reads_.load();
  return out;
}

}  // namespace pipy::storage
