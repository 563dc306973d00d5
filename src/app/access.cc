#include "app/access.h"

namespace pipy::app {

Result<auth::Principal> Access::ForRead(const http::Request& request) const {
  if (!auth_.AddressAllowed(request.remote_address)) {
    return PermissionDenied("address " + request.remote_address + " is not allowed");
  }
  PIPY_ASSIGN_OR_RETURN(auth::Principal who, auth_.Authenticate(request.header("authorization")));
  if (who.anonymous && !auth_.anonymous_read()) {
    return Unauthenticated("this repository needs a token to read");
  }
  return who;
}

Result<auth::Principal> Access::ForWrite(const http::Request& request) const {
  if (!auth_.AddressAllowed(request.remote_address)) {
    return PermissionDenied("address " + request.remote_address + " is not allowed");
  }
  PIPY_ASSIGN_OR_RETURN(auth::Principal who, auth_.Authenticate(request.header("authorization")));
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
