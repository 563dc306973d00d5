// Which URLs the proxy may ever fetch (no server-side request forgery through a crafted
// upstream page): only http(s) URLs on the upstream's own host and port, or on a host of
// `[upstream] file_hosts`. Every fetch and every redirect hop is checked. Pure code.
//
// URLs are parsed by libcurl's own URL parser (CURLU), and the fetcher hands curl that very
// parse (CURLOPT_CURLU): a URL that two parsers read differently (a second port, a port
// past 65535 that another parser wraps into the allowed one) can never be checked as one
// host and fetched from another.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

struct Curl_URL;  // libcurl's CURLU (curl/urlapi.h)

namespace pipy::upstream {

// A URL the policy allowed, as libcurl parsed it. Movable, not copyable.
class AllowedUrl {
 public:
  // The URL as curl renders its parse (e.g. "http://127.0.0.1:8000/x" for
  // "http://%31%32%37.0.0.1:8000/x"): what is fetched, for messages and relative links.
  const std::string& url() const { return url_; }
  // The parsed URL for CURLOPT_CURLU. Owned by this object; one transfer at a time.
  Curl_URL* handle() const { return handle_.get(); }

 private:
  friend class UrlPolicy;
  struct Deleter {
    void operator()(Curl_URL* handle) const;
  };
  std::unique_ptr<Curl_URL, Deleter> handle_;
  std::string url_;
};

// Resolves `ref` (absolute, or relative like "../../packages/x.whl") against the absolute
// URL `base` (RFC 3986 section 5) and drops the fragment. kInvalidArgument when either does
// not parse or the result is not absolute.
Result<std::string> ResolveUrl(std::string_view base, std::string_view ref);

// The fragment of a URL without '#' ("sha256=ab..." for PEP 503 links), "" when none.
std::string_view UrlFragment(std::string_view url);

class UrlPolicy {
 public:
  // `upstream_url`: the [upstream] url (http or https, absolute). `file_hosts`: "host"
  // (the default port of the fetched URL's scheme) or "host:port" entries. kInvalidArgument
  // naming the bad value otherwise.
  static Result<UrlPolicy> Create(std::string_view upstream_url,
                                  const std::vector<std::string>& file_hosts);

  // `url` parsed by libcurl, when curl accepts it and it is an http:// or https:// URL
  // without user info or an IPv6 zone, with a port in 1..65535, whose host
  // (case-insensitive, as curl normalizes it) and effective port are the upstream's or a
  // file host's. kPermissionDenied naming the URL otherwise.
  Result<AllowedUrl> Allow(std::string_view url) const;
  // Allow() without the parse.
  Status Check(std::string_view url) const;

 private:
  struct Allowed {
    std::string host;  // lowercase, as curl normalizes it; IPv6 literals with brackets
    int port = 0;      // 0 = the default port of the URL's scheme
  };
  std::vector<Allowed> allowed_;
};

}  // namespace pipy::upstream
