// Reading a token secret out of an Authorization header value (pure; fuzzed).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace pipy::auth {

// The token secret in an Authorization header value: "Basic base64(USER:SECRET)" (RFC 7617;
// any user name, as pip may send its own) or "Bearer SECRET" (RFC 6750). Schemes are
// case-insensitive. kUnauthenticated for anything else: malformed base64, no password, an
// empty bearer token, another scheme.
Result<std::string> ParseAuthorization(std::string_view value);

}  // namespace pipy::auth
