#include "storage/s3_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

#include "core/sha256.h"
#include "core/strings.h"
#include "storage/s3_xml.h"

namespace pipy::storage {
namespace {

constexpr std::size_t kMaxResponseBody = 16u << 20;
constexpr std::size_t kMaxPooledHandles = 16;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::int64_t SystemClock() { return static_cast<std::int64_t>(::time(nullptr)); }

// Collects the answer: headers (lowercased names) and a capped body.
std::size_t OnHeader(char* data, std::size_t size, std::size_t n, void* user) {
  auto* response = static_cast<S3Response*>(user);
  std::string_view line(data, size * n);
  if (line.substr(0, 5) == "HTTP/") {
    response->headers.clear();  // a new response (after 100 Continue or a redirect)
    return size * n;
  }
  std::size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    response->headers[AsciiLower(TrimSpacesAndTabs(line.substr(0, colon)))] =
        std::string(TrimAsciiWhitespace(line.substr(colon + 1)));
  }
  return size * n;
}

std::size_t OnBody(char* data, std::size_t size, std::size_t n, void* user) {
  auto* response = static_cast<S3Response*>(user);
  std::size_t room = kMaxResponseBody - std::min(kMaxResponseBody, response->body.size());
  response->body.append(data, std::min(room, size * n));
  return size * n;
}

// Streams a request body from a file range with pread.
struct FileReader {
  S3FileBody body;
  std::uint64_t sent = 0;
};

std::size_t OnRead(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* reader = static_cast<FileReader*>(user);
  std::uint64_t left = reader->body.length - reader->sent;
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, size * n));
  if (want == 0) {
    return 0;
  }
  for (;;) {
    ssize_t got = ::pread(reader->body.fd, buf, want,
                          static_cast<off_t>(reader->body.offset + reader->sent));
    if (got > 0) {
      reader->sent += static_cast<std::uint64_t>(got);
      return static_cast<std::size_t>(got);
    }
    if (got < 0 && errno == EINTR) {
      continue;
    }
    return CURL_READFUNC_ABORT;  // the spool file shrank or failed: never send short data
  }
}

int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* reader = static_cast<FileReader*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::uint64_t>(offset) > reader->body.length) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  reader->sent = static_cast<std::uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// The stall check of a streamed request: no byte moved either way for the timeout. curl's
// LOW_SPEED_* limits average over its last few seconds, so after a quick upload a server
// that never answered was waited for several times the timeout on every attempt.
struct StallCheck {
  std::chrono::milliseconds timeout;
  std::chrono::steady_clock::time_point last_move = std::chrono::steady_clock::now();
  curl_off_t moved = 0;
  bool stalled = false;
};

int OnProgress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto* check = static_cast<StallCheck*>(user);
  auto now = std::chrono::steady_clock::now();
  if (dlnow + ulnow != check->moved) {
    check->moved = dlnow + ulnow;
    check->last_move = now;
    return 0;
  }
  if (now - check->last_move > check->timeout) {
    check->stalled = true;
    return 1;  // aborts the transfer
  }
  return 0;
}

bool IsCredentialError(std::string_view code) {
  return code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" ||
         code == "AccessDenied" || code == "ExpiredToken" || code == "InvalidToken" ||
         code == "AuthorizationHeaderMalformed" || code == "RequestTimeTooSkewed";
}

}  // namespace

std::string S3Response::Header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

Result<std::unique_ptr<S3Client>> S3Client::Create(S3ClientOptions options) {
  PIPY_ASSIGN_OR_RETURN(S3Endpoint endpoint, ParseS3Endpoint(options.endpoint));
  if (options.bucket.empty()) {
    return InvalidArgument("[storage] bucket is empty");
  }
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return InvalidArgument("[storage] S3 credentials are missing (access_key_id and "
                           "secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
  }
  if (options.region.empty()) {
    options.region = "us-east-1";
  }
  options.max_attempts = std::max(1, options.max_attempts);
  if (!options.clock) {
    options.clock = SystemClock;
  }
  GlobalInit();
  return std::unique_ptr<S3Client>(new S3Client(std::move(options), std::move(endpoint)));
}

S3Client::S3Client(S3ClientOptions options, S3Endpoint endpoint)
    : options_(std::move(options)), endpoint_(std::move(endpoint)) {}

S3Client::~S3Client() {
  for (CURL* curl : pool_) {
    curl_easy_cleanup(curl);
  }
}

std::string S3Client::Describe() const {
  return "bucket \"" + options_.bucket + "\" at " + options_.endpoint;
}

CURL* S3Client::Acquire() {
  {
    std::lock_guard lock(pool_mu_);
    if (!pool_.empty()) {
      CURL* curl = pool_.back();
      pool_.pop_back();
      curl_easy_reset(curl);
      return curl;
    }
  }
  return curl_easy_init();
}

void S3Client::Release(CURL* curl) {
  if (curl == nullptr) {
    return;
  }
  std::lock_guard lock(pool_mu_);
  if (pool_.size() < kMaxPooledHandles) {
    pool_.push_back(curl);
    return;
  }
  curl_easy_cleanup(curl);
}

S3PreparedRequest S3Client::Prepare(const S3Request& request) const {
  S3Address address =
      S3ObjectAddress(endpoint_, options_.bucket, options_.path_style, request.object_key);
  sigv4::Request to_sign;
  to_sign.method = request.method;
  to_sign.path = address.path;
  to_sign.query = request.query;
  to_sign.headers = request.headers;
  to_sign.headers.emplace_back("host", address.host);
  if (!request.payload_hash.empty()) {
    to_sign.payload_hash = request.payload_hash;
  } else {
    to_sign.payload_hash = Sha256Hex(request.body);
  }
  to_sign.headers.emplace_back("x-amz-content-sha256", to_sign.payload_hash);
  sigv4::Signed signed_request = sigv4::SignHeaders(
      to_sign, options_.credentials, {options_.region, "s3"}, options_.clock());

  S3PreparedRequest out;
  out.url = address.url_prefix + sigv4::UriEncode(address.path, false);
  std::string query = sigv4::CanonicalQueryString(to_sign.query);
  if (!query.empty()) {
    out.url += "?" + query;
  }
  for (const auto& [name, value] : to_sign.headers) {
    out.header_lines.push_back(name + ": " + value);
  }
  out.header_lines.push_back("Authorization: " + signed_request.authorization);
  // libcurl's defaults that S3 does not want: no 100-continue round trip, no form type.
  out.header_lines.push_back("Expect:");
  out.header_lines.push_back("Content-Type:");
  return out;
}

std::string S3Client::Presign(std::string_view method, std::string_view object_key,
                              std::chrono::seconds expires) const {
  S3Address address = S3ObjectAddress(endpoint_, options_.bucket, options_.path_style, object_key);
  sigv4::Request to_sign;
  to_sign.method = std::string(method);
  to_sign.path = address.path;
  to_sign.headers.emplace_back("host", address.host);
  to_sign.payload_hash = std::string(sigv4::kUnsignedPayload);
  std::string query;
  sigv4::Presign(to_sign, options_.credentials, {options_.region, "s3"}, options_.clock(),
                 expires.count(), &query);
  return address.url_prefix + sigv4::UriEncode(address.path, false) + "?" + query;
}

void S3Client::ConfigureHandle(CURL* curl, bool streaming) const {
  long timeout_ms = static_cast<long>(std::max<std::int64_t>(options_.timeout.count(), 1));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  // "Stalled": under 1 byte/s for the timeout (whole seconds, at least one).
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max(1L, (timeout_ms + 999) / 1000));
  if (!streaming) {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  }
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
}

int S3Client::Perform(CURL* curl, const S3Request& request, S3Response& response,
                      std::string& error) {
  S3PreparedRequest prepared = Prepare(request);
  curl_slist* headers = nullptr;
  for (const std::string& line : prepared.header_lines) {
    headers = curl_slist_append(headers, line.c_str());
  }
  bool streaming = request.file_body.fd >= 0;
  ConfigureHandle(curl, streaming);
  char error_buf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buf);
  curl_easy_setopt(curl, CURLOPT_URL, prepared.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);

  FileReader file_reader{request.file_body, 0};
  StallCheck stall_check{options_.timeout};
  if (streaming) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &stall_check);
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    if (streaming) {
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
      curl_easy_setopt(curl, CURLOPT_READDATA, &file_reader);
      curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, OnSeek);
      curl_easy_setopt(curl, CURLOPT_SEEKDATA, &file_reader);
      curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                       static_cast<curl_off_t>(request.file_body.length));
    } else {
      // A small body from memory: POSTFIELDS under the PUT method.
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 0L);
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(headers);
  error = error_buf[0] != '\0' ? error_buf : curl_easy_strerror(rc);
  if (stall_check.stalled) {
    rc = CURLE_OPERATION_TIMEDOUT;
    error = "no progress for " + std::to_string(options_.timeout.count()) + " ms";
  }
  return static_cast<int>(rc);
}

Result<S3Response> S3Client::Send(const S3Request& request) {
  std::string what = request.method + " " + request.object_key;
  int curl_code = CURLE_OK;
  std::string curl_error;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (attempt > 1) {
      std::this_thread::sleep_for(BackoffBefore(attempt));
    }
    CURL* curl = Acquire();
    if (curl == nullptr) {
      return Internal("cannot create a libcurl handle");
    }
    S3Response response;
    curl_code = Perform(curl, request, response, curl_error);
    Release(curl);
    if (curl_code == CURLE_OK && (!Retryable(curl_code, response.status) ||
                                  attempt == options_.max_attempts)) {
      return response;
    }
    if (!Retryable(curl_code, response.status)) {
      return TransportStatus(curl_code, curl_error, what + " (not retried)");
    }
  }
  return TransportStatus(curl_code, curl_error,
                         what + " (" + std::to_string(options_.max_attempts) + " attempts)");
}

bool S3Client::Retryable(int curl_code, long status) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_OK:
      return status >= 500 || status == 429;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

std::chrono::milliseconds S3Client::BackoffBefore(int attempt) const {
  std::int64_t ms = options_.backoff.count();
  for (int i = 2; i < attempt && ms < 2000; ++i) {
    ms *= 2;
  }
  return std::chrono::milliseconds(std::min<std::int64_t>(ms, 2000));
}

Status S3Client::ErrorStatus(const S3Response& response, std::string_view what) const {
  std::string code = xml::Text(response.body, "Code").value_or("");
  std::string message = xml::Text(response.body, "Message").value_or("");
  std::string detail = "S3 " + Describe() + ": " + std::string(what) + ": HTTP " +
                       std::to_string(response.status);
  if (!code.empty()) {
    detail += " " + code;
  }
  if (!message.empty()) {
    detail += " (" + message + ")";
  }
  if (code == "NoSuchBucket") {
    return NotFound("S3 " + Describe() + ": the bucket does not exist (NoSuchBucket)");
  }
  if (response.status == 404 || code == "NoSuchKey" || code == "NoSuchUpload") {
    return NotFound(std::move(detail));
  }
  if (response.status == 403 || response.status == 401 || IsCredentialError(code)) {
    return PermissionDenied(std::move(detail));
  }
  if (response.status >= 500 || response.status == 429) {
    return Unavailable(std::move(detail));
  }
  return Internal(std::move(detail));
}

Status S3Client::TransportStatus(int curl_code, std::string_view curl_error,
                                 std::string_view what) const {
  return Unavailable("S3 " + Describe() + " unreachable: " + std::string(what) + ": " +
                     std::string(curl_error));
}

}  // namespace pipy::storage
