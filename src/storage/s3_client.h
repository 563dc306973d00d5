// S3Client: signed S3 REST requests over libcurl, with retries, for one bucket.
//
// What it adds to libcurl: SigV4 signing (sigv4.h) of every attempt, path-style or
// virtual-host addressing (s3_layout.h), per-request timeouts, bounded retries with
// exponential backoff on connection errors and 5xx answers, and one table mapping S3
// errors to Status codes. It knows nothing of blobs; S3BlobStore builds on it.
//
// Thread-safe: requests may be sent from any number of threads at once. Idle connections
// are kept in a small pool of curl handles and reused.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/s3_layout.h"
#include "storage/sigv4.h"

typedef void CURL;

namespace pipy::storage {

struct S3ClientOptions {
  std::string endpoint;  // "http(s)://host[:port]"
  std::string bucket;
  std::string region = "us-east-1";
  bool path_style = true;
  sigv4::Credentials credentials;
  // Per request: connecting, and any stretch without progress on a stream; the whole
  // exchange for requests without a streamed body.
  std::chrono::milliseconds timeout{30'000};
  // Attempts per request (1 = no retry), waiting `backoff`, 2x`backoff`, ... (capped at 2 s)
  // between them.
  int max_attempts = 4;
  std::chrono::milliseconds backoff{100};
  // Seconds since the epoch, for signatures; injected by tests.
  std::function<std::int64_t()> clock;
};

// A request body streamed from part of an open file (read with pread, so the file offset
// is untouched and several bodies may share one descriptor).
struct S3FileBody {
  int fd = -1;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

struct S3Request {
  std::string method = "GET";
  std::string object_key;   // raw object key; empty addresses the bucket
  sigv4::Pairs query;       // raw names and values
  sigv4::Pairs headers;     // extra headers; all are signed
  std::string body;         // sent when file_body.fd < 0
  S3FileBody file_body;
  // The body's sha256 hex; computed from `body` when empty. Required with a file body.
  std::string payload_hash;
};

struct S3Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lowercased; last value wins
  std::string body;                             // bodies over 16 MiB are cut short

  // The header's value, or "" when absent. `name` is lowercase.
  std::string Header(std::string_view name) const;
};

// A request ready for libcurl: its URL and signed header lines ("Name: value").
struct S3PreparedRequest {
  std::string url;
  std::vector<std::string> header_lines;
};

class S3Client {
 public:
  // kInvalidArgument when the endpoint, bucket or credentials are unusable.
  static Result<std::unique_ptr<S3Client>> Create(S3ClientOptions options);
  ~S3Client();

  // Sends `request`, retrying connection errors and 5xx answers. Returns the response when
  // S3 answered (any status, including 4xx and a last 5xx); kUnavailable naming the
  // endpoint when it could not be reached after every attempt.
  Result<S3Response> Send(const S3Request& request);

  // A presigned URL for `method` on `object_key`, valid for `expires` from now.
  std::string Presign(std::string_view method, std::string_view object_key,
                      std::chrono::seconds expires) const;

  // The URL and signed headers for one attempt of `request`, signed now.
  S3PreparedRequest Prepare(const S3Request& request) const;

  // Applies the timeouts and connection options every request uses to `curl`. When
  // `streaming`, no total deadline is set (only connect and no-progress limits).
  void ConfigureHandle(CURL* curl, bool streaming) const;

  // A pooled easy handle (reset; connections kept); give it back with Release.
  CURL* Acquire();
  void Release(CURL* curl);

  // Whether an attempt that ended with `curl_code` (a CURLcode) and HTTP `status` should
  // be retried, and how long to wait before attempt number `attempt` (1-based, > 1).
  static bool Retryable(int curl_code, long status);
  std::chrono::milliseconds BackoffBefore(int attempt) const;

  // The Status for a non-2xx answer to `what` (e.g. "GET blobs/ab..."): 404/NoSuchKey ->
  // kNotFound, 403 and credential errors -> kPermissionDenied with S3's message, 5xx ->
  // kUnavailable, anything else -> kInternal. The message names the bucket.
  Status ErrorStatus(const S3Response& response, std::string_view what) const;
  // The Status for a transfer that failed in libcurl (no HTTP answer): kUnavailable.
  Status TransportStatus(int curl_code, std::string_view curl_error, std::string_view what) const;

  const S3ClientOptions& options() const { return options_; }
  // "bucket \"b\" at http://host:port": how messages name the store.
  std::string Describe() const;

 private:
  S3Client(S3ClientOptions options, S3Endpoint endpoint);

  // One attempt: performs `request` on `curl`; returns the CURLcode.
  int Perform(CURL* curl, const S3Request& request, S3Response& response, std::string& error);

  S3ClientOptions options_;
  S3Endpoint endpoint_;
  std::mutex pool_mu_;
  std::vector<CURL*> pool_;
};

}  // namespace pipy::storage
