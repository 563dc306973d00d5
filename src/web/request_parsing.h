// Pure request helpers for the UI handlers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pipy::web {

// Returns the value of the first `key` parameter of a raw query string
// ("a=1&q=acme+log"), decoded as application/x-www-form-urlencoded ('+' is a space, %XX a
// byte; a malformed escape is kept as written). "" when the key is absent.
std::string QueryParam(std::string_view query, std::string_view key);

// True when an If-None-Match header value (nullopt = absent) matches the quoted `etag`
// (RFC 9110 section 13.1.2): "*", or any listed tag equal under weak comparison.
bool IfNoneMatchMatches(std::optional<std::string_view> if_none_match, std::string_view etag);

}  // namespace pipy::web
