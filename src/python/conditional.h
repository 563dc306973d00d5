// HTTP conditional requests (RFC 9110 section 13.1.2): If-None-Match against an ETag, so
// pip and browsers revalidating a page or file get 304 without a body.
#pragma once

#include <optional>
#include <string_view>

namespace pipy::python {

// True when an If-None-Match header value (nullopt = absent) matches `etag` (a quoted
// entity tag such as "\"abc\""): "*", or any listed tag equal to it under the weak
// comparison (a "W/" prefix on either side is ignored).
bool IfNoneMatchMatches(std::optional<std::string_view> if_none_match, std::string_view etag);

}  // namespace pipy::python
