#include "auth/token_lifecycle.h"

#include <chrono>
#include <limits>

#include "auth/authenticator.h"
#include "auth/principal.h"
#include "core/units.h"

namespace pipy::auth {

namespace {

constexpr std::size_t kMaxTokenName = 128;

}  // namespace

Status CheckTokenName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTokenName) {
    return InvalidArgument("a token name must be 1 to 128 characters long");
  }
  for (char c : name) {
    // Printable ASCII only: no spaces, controls or bytes a terminal or a URL would mangle.
    if (c <= ' ' || c > '~' || c == '/') {
      return InvalidArgument(
          "a token name may not contain spaces, '/' or non-ASCII "
          "characters");
    }
  }
  return Status::Ok();
}

Result<std::int64_t> ParseTokenLifetime(std::string_view text) {
  PIPY_ASSIGN_OR_RETURN(std::chrono::milliseconds lifetime, ParseDuration(text));
  if (lifetime.count() <= 0) {
    return InvalidArgument("a token lifetime must be positive (e.g. 90d, 12h)");
  }
  return static_cast<std::int64_t>(lifetime.count());
}

Result<IssuedToken> IssueToken(catalog::Catalog& catalog, std::string name,
                               std::vector<std::string> scopes, std::int64_t lifetime_ms,
                               std::int64_t now_ms) {
  PIPY_RETURN_IF_ERROR(CheckTokenName(name));
  if (scopes.empty()) {
    return InvalidArgument("a token needs at least one scope (read, upload:<glob> or admin)");
  }
  for (const std::string& scope : scopes) {
    if (!IsValidScope(scope)) {
      return InvalidArgument("invalid scope '" + scope + "' (use read, upload:<glob> or admin; " +
                             std::string(kScopeGlobHint) + ")");
    }
  }
  if (lifetime_ms < 0 || lifetime_ms > std::numeric_limits<std::int64_t>::max() - now_ms) {
    return InvalidArgument("the token lifetime is out of range");
  }
  IssuedToken issued;
  issued.secret = NewTokenSecret();
  issued.record.name = std::move(name);
  issued.record.hash = HashTokenSecret(issued.secret);
  issued.record.scopes = std::move(scopes);
  issued.record.created_ms = now_ms;
  issued.record.expires_ms = lifetime_ms == 0 ? 0 : now_ms + lifetime_ms;
  PIPY_RETURN_IF_ERROR(catalog.AddToken(issued.record));
  return issued;
}

std::int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace pipy::auth
