// libcurl adapter. Redirects are followed here, not by curl, so that each hop's target is
// checked against the policy before anything connects to it. Each hop is fetched from the
// policy's own parse of its URL (CURLOPT_CURLU), never from a second parse of the string.
#include <curl/curl.h>

#include <mutex>

#include "core/strings.h"
#include "upstream/fetcher.h"

namespace pipy::upstream {
namespace {

constexpr int kMaxRedirects = 5;
// Slower than this for a whole timeout is a stall (an upstream mirror sends megabytes a
// second; 1 KiB/s is a connection that is all but dead).
constexpr long kMinBytesPerSecond = 1024;

struct Transfer {
  const FetchRequest* request = nullptr;
  const AllowedUrl* url = nullptr;
  const std::function<Status(const FetchHead&)>* on_head = nullptr;
  const std::function<Status(std::string_view)>* on_data = nullptr;
  CURL* curl = nullptr;
  FetchHead head;
  std::string location;
  bool head_sent = false;
  bool is_redirect = false;
  std::uint64_t received = 0;
  Status failure;  // set when a callback aborted the transfer
};

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  line = TrimAsciiWhitespace(line);
  if (line.starts_with("HTTP/")) {
    // A new response (after an interim 1xx): forget what the previous one said.
    t->head = FetchHead{};
    t->location.clear();
    return size * count;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return size * count;
  }
  std::string_view name = line.substr(0, colon);
  std::string value(TrimAsciiWhitespace(line.substr(colon + 1)));
  if (EqualsIgnoreCase(name, "content-type")) {
    t->head.content_type = value;
  } else if (EqualsIgnoreCase(name, "etag")) {
    t->head.etag = value;
  } else if (EqualsIgnoreCase(name, "last-modified")) {
    t->head.last_modified = value;
  } else if (EqualsIgnoreCase(name, "location")) {
    t->location = value;
  } else if (EqualsIgnoreCase(name, "content-length")) {
    try {
      t->head.content_length = std::stoull(value);
    } catch (...) {
      t->head.content_length.reset();
    }
  }
  return size * count;
}

// Sends the head once, when the final response's body starts (or after the transfer when
// it had none). Returns false when the callback refused it.
bool SendHead(Transfer& t) {
  if (t.head_sent) {
    return true;
  }
  long status = 0;
  curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &status);
  t.head.status = static_cast<int>(status);
  t.head.url = t.request->url;
  t.is_redirect = IsRedirect(t.head.status) && !t.location.empty();
  if (t.is_redirect) {
    return true;  // the body of a redirect is dropped
  }
  t.head_sent = true;
  Status s = (*t.on_head)(t.head);
  if (!s.ok()) {
    t.failure = s;
    return false;
  }
  return true;
}

size_t OnData(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (!SendHead(*t)) {
    return 0;
  }
  if (t->is_redirect) {
    return n;
  }
  t->received += n;
  if (t->request->max_bytes != 0 && t->received > t->request->max_bytes) {
    t->failure = BadGateway("the upstream's answer for " + t->request->url + " is larger than " +
                            std::to_string(t->request->max_bytes) + " bytes");
    return 0;
  }
  Status s = (*t->on_data)(std::string_view(data, n));
  if (!s.ok()) {
    t->failure = s;
    return 0;
  }
  return n;
}

class CurlFetcher : public Fetcher {
 public:
  CurlFetcher(UrlPolicy policy, std::chrono::milliseconds timeout)
      : policy_(std::move(policy)), timeout_(timeout) {}

  Status Get(const FetchRequest& request, const std::function<Status(const FetchHead&)>& on_head,
             const std::function<Status(std::string_view)>& on_data) override {
    FetchRequest hop = request;
    for (int redirects = 0;; ++redirects) {
      PIPY_ASSIGN_OR_RETURN(AllowedUrl url, policy_.Allow(hop.url));
      hop.url = url.url();  // as curl parsed it: messages and relative links agree with the fetch
      Transfer t;
      t.request = &hop;
      t.url = &url;
      t.on_head = &on_head;
      t.on_data = &on_data;
      PIPY_RETURN_IF_ERROR(Perform(t));
      if (!t.is_redirect) {
        return Status::Ok();
      }
      if (redirects >= kMaxRedirects) {
        return BadGateway("the upstream redirected " + request.url + " too many times");
      }
      auto next = ResolveUrl(hop.url, t.location);
      if (!next) {
        return BadGateway("the upstream sent a bad redirect for " + hop.url);
      }
      hop.url = std::move(*next);
    }
  }

 private:
  Status Perform(Transfer& t) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl) {
      return Internal("curl_easy_init failed");
    }
    t.curl = curl.get();
    CURL* c = curl.get();
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : t.request->headers) {
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers,
                                                                             &curl_slist_free_all);
    const long timeout_ms = static_cast<long>(timeout_.count());
    curl_easy_setopt(c, CURLOPT_CURLU, t.url->handle());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "pipy-upstream-proxy");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    if (t.request->bounded_total) {
      curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
      curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // pages compress well
    }
    // A stall longer than the timeout aborts a transfer of any size. A trickle counts as
    // a stall: at 1 byte/s curl's average hovers at the limit of 1, so a file sent a byte
    // or two a second held its fetch slot (of max_fetches) and its clients for minutes.
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, kMinBytesPerSecond);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, std::max(1L, timeout_ms / 1000));
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnData);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    CURLcode code = curl_easy_perform(c);
    if (!t.failure.ok()) {
      return t.failure;
    }
    if (code == CURLE_OPERATION_TIMEDOUT) {
      return DeadlineExceeded("the upstream did not answer " + t.request->url + " within " +
                              std::to_string(timeout_.count()) + " ms");
    }
    if (code != CURLE_OK) {
      return BadGateway("cannot fetch " + t.request->url + " from the upstream: " +
                        curl_easy_strerror(code));
    }
    if (!SendHead(t)) {
      return t.failure;
    }
    return Status::Ok();
  }

  UrlPolicy policy_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

Status ForClient(const Status& error) {
  if (error.code() == StatusCode::kPermissionDenied || error.code() == StatusCode::kDataLoss) {
    return BadGateway(error.message());
  }
  return error;
}

Result<FetchResponse> FetchAll(Fetcher& fetcher, const FetchRequest& request) {
  FetchResponse response;
  Status s = fetcher.Get(
      request,
      [&](const FetchHead& head) {
        response.head = head;
        return Status::Ok();
      },
      [&](std::string_view data) {
        response.body.append(data);
        return Status::Ok();
      });
  if (!s.ok()) {
    return s;
  }
  return response;
}

std::unique_ptr<Fetcher> MakeCurlFetcher(UrlPolicy policy, std::chrono::milliseconds timeout) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return std::make_unique<CurlFetcher>(std::move(policy), timeout);
}

}  // namespace pipy::upstream
