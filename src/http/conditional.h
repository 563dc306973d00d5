// HTTP conditional requests (RFC 9110 section 13.1.2): If-None-Match against an ETag, so
// pip and browsers revalidating a page or file get 304 without a body. Beast-free.
#pragma once

#include <optional>
#include <string_view>

namespace pipy::http {

// True when an If-None-Match header value (nullopt = absent) matches `etag` (a quoted
// entity tag such as "\"abc\""; empty = the response has none, never matches): the whole
// value "*", or any listed tag equal to it under the weak comparison (a "W/" prefix on
// either side is ignored). Commas inside a quoted tag do not split the list.
bool IfNoneMatchMatches(std::optional<std::string_view> if_none_match, std::string_view etag);

}  // namespace pipy::http
