#include "app/access.h"

namespace pipy::app {

namespace {

// The caller of `request` if its address is allowed or it carries this process's internal
// credential; else kPermissionDenied. Outsiders learn nothing about tokens from it.
Result<auth::Principal> Admit(const auth::Authenticator& auth, const http::Request& request) {
  Result<auth::Principal> who = auth.Authenticate(request.header("authorization"));
  if (auth.AddressAllowed(request.remote_address) || (who && who->internal)) {
    return who;
  }
  return PermissionDenied("address " + request.remote_address + " is not allowed");
}

}  // namespace

Result<auth::Principal> Access::ForRead(const http::Request& request) const {
  PIPY_ASSIGN_OR_RETURN(auth::Principal who, Admit(auth_, request));
  if (who.anonymous && !auth_.anonymous_read()) {
    return Unauthenticated("this repository needs a token to read");
  }
  return who;
}

Result<auth::Principal> Access::ForWrite(const http::Request& request) const {
  PIPY_ASSIGN_OR_RETURN(auth::Principal who, Admit(auth_, request));
  if (who.anonymous) {
    return Unauthenticated("uploading needs a token (user __token__, password TOKEN)");
  }
  return who;
}

http::Guard Access::ReadGuard() const {
  return [this](const http::Request& request) -> std::optional<http::Response> {
    auto who = ForRead(request);
    if (!who) {
      return http::ErrorResponse(who.error());
    }
    return std::nullopt;
  };
}

http::Guard Access::WriteGuard() const {
  return [this](const http::Request& request) -> std::optional<http::Response> {
    auto who = ForWrite(request);
    if (!who) {
      return http::ErrorResponse(who.error());
    }
    return std::nullopt;
  };
}

}  // namespace pipy::app
