// Fetching from the upstream: a small interface (so the cache and proxy logic are tested
// with a fake) and its libcurl implementation. Every URL — the first and each redirect
// hop — is checked against the UrlPolicy before a connection is made.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "upstream/url_policy.h"

namespace pipy::upstream {

struct FetchRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"Accept", "..."}
  std::uint64_t max_bytes = 0;  // body limit (after content decoding); 0 = none
  // true: the whole exchange must finish within the timeout (pages). false: only the
  // connection and each stall are bounded by it (large files).
  bool bounded_total = true;
};

struct FetchHead {
  int status = 0;
  std::string url;                 // the URL finally fetched (after redirects)
  std::string content_type;
  std::string etag;
  std::string last_modified;
  std::optional<std::uint64_t> content_length;
};

class Fetcher {
 public:
  virtual ~Fetcher() = default;
  // GETs `request.url`, following at most 5 redirects. `on_head` is called once for the
  // final response (whatever its status); `on_data` with each piece of its body. A non-OK
  // status from either aborts the transfer and is returned as is. Errors of the transfer:
  // kPermissionDenied when a URL is refused by the policy; kDeadlineExceeded when the
  // upstream does not answer in time; kBadGateway when it cannot be reached, redirects too
  // often, or sends more than max_bytes. Thread-safe.
  virtual Status Get(const FetchRequest& request,
                     const std::function<Status(const FetchHead&)>& on_head,
                     const std::function<Status(std::string_view)>& on_data) = 0;
};

struct FetchResponse {
  FetchHead head;
  std::string body;
};

// Convenience: the whole response in memory (bounded by request.max_bytes).
Result<FetchResponse> FetchAll(Fetcher& fetcher, const FetchRequest& request);

// The libcurl fetcher: `timeout` bounds connecting, stalls and (for bounded_total
// requests) the whole exchange.
std::unique_ptr<Fetcher> MakeCurlFetcher(UrlPolicy policy, std::chrono::milliseconds timeout);

inline Status BadGateway(std::string message) {
  return Status(StatusCode::kBadGateway, std::move(message));
}
inline Status DeadlineExceeded(std::string message) {
  return Status(StatusCode::kDeadlineExceeded, std::move(message));
}

// An upstream failure as the client should see it: a refused URL (kPermissionDenied) or
// bytes that do not match their hash (kDataLoss) are the upstream's fault, so 502.
Status ForClient(const Status& error);

}  // namespace pipy::upstream
