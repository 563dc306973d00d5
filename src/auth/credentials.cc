#include "auth/credentials.h"

#include "core/base64.h"
#include "core/strings.h"

namespace pipy::auth {

Result<std::string> ParseAuthorization(std::string_view value) {
  value = TrimSpacesAndTabs(value);
  if (StartsWithIgnoreCase(value, "bearer ")) {
    std::string_view secret = TrimSpacesAndTabs(value.substr(7));
    if (secret.empty()) {
      return Unauthenticated("empty bearer token");
    }
    return std::string(secret);
  }
  if (StartsWithIgnoreCase(value, "basic ")) {
    std::optional<std::string> decoded = Base64Decode(TrimSpacesAndTabs(value.substr(6)));
    if (!decoded || decoded->empty()) {
      return Unauthenticated("malformed basic credentials");
    }
    auto colon = decoded->find(':');
    if (colon == std::string::npos || colon + 1 == decoded->size()) {
      return Unauthenticated("basic credentials carry no token (user __token__, password TOKEN)");
    }
    return decoded->substr(colon + 1);
  }
  return Unauthenticated("unsupported authorization scheme (use Basic or Bearer)");
}

}  // namespace pipy::auth
