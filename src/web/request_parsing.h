// Pure request helpers for the UI handlers.
#pragma once

#include <string>
#include <string_view>

namespace pipy::web {

// Returns the value of the first `key` parameter of a raw query string
// ("a=1&q=acme+log"), decoded as application/x-www-form-urlencoded ('+' is a space, %XX a
// byte; a malformed escape is kept as written). "" when the key is absent.
std::string QueryParam(std::string_view query, std::string_view key);

}  // namespace pipy::web
