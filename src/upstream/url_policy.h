// Which URLs the proxy may ever fetch (no server-side request forgery through a crafted
// upstream page): only http(s) URLs on the upstream's own host and port, or on a host of
// `[upstream] file_hosts`. Every fetch and every redirect hop is checked. Pure code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pipy::upstream {

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

  // OK when `url` is an absolute http:// or https:// URL, without user info, whose host
  // (case-insensitive) and effective port are the upstream's or a file host's.
  // kPermissionDenied naming the URL otherwise.
  Status Check(std::string_view url) const;

 private:
  struct Allowed {
    std::string host;  // lowercase; IPv6 literals with brackets
    int port = 0;      // 0 = the default port of the URL's scheme
  };
  std::vector<Allowed> allowed_;
};

}  // namespace pipy::upstream
